// cli/progress.ts — a progress bar on a terminal (stderr), plain lines otherwise.
import { bytes } from './format';

export interface Progress {
  update(done: number, total: number): void;
  done(message?: string): void;
}

export function progress(label: string, stream: NodeJS.WriteStream = process.stderr, quiet = false): Progress {
  if (quiet) return { update() {}, done() {} };
  const tty = stream.isTTY === true;
  let lastQuarter = -1;
  let lastDraw = 0;
  return {
    update(done, total) {
      const fraction = total > 0 ? Math.min(1, done / total) : 0;
      if (tty) {
        const now = Date.now();
        if (now - lastDraw < 50 && fraction < 1) return;
        lastDraw = now;
        const width = 30;
        const filled = Math.round(fraction * width);
        stream.write(`\r${label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${(fraction * 100).toFixed(0).padStart(3)}% ${bytes(done)} / ${bytes(total)}`);
      } else {
        const quarter = Math.floor(fraction * 4);
        if (quarter > lastQuarter) {
          lastQuarter = quarter;
          stream.write(`${label}: ${(fraction * 100).toFixed(0)}% (${bytes(done)} of ${bytes(total)})\n`);
        }
      }
    },
    done(message) {
      if (tty) stream.write('\r\x1b[K');
      if (message) stream.write(`${message}\n`);
    },
  };
}
