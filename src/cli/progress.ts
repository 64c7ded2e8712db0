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

/**
 * Progress through a list of steps: a bar with the step's label on a terminal,
 * one plain line per step otherwise. Call with done === total to finish.
 */
export function stepProgress(stream: NodeJS.WriteStream = process.stderr, quiet = false): (done: number, total: number, label: string) => void {
  if (quiet) return () => {};
  const tty = stream.isTTY === true;
  return (done, total, label) => {
    if (tty) {
      if (done >= total) {
        stream.write('\r\x1b[K');
        return;
      }
      const width = 24;
      const filled = total > 0 ? Math.round((done / total) * width) : 0;
      const head = `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total} `;
      const room = Math.max(10, (stream.columns ?? 100) - head.length - 1);
      stream.write(`\r\x1b[K${head}${label.length > room ? label.slice(0, room - 1) + '…' : label}`);
    } else if (done < total) {
      stream.write(`[${done}/${total} done] ${label}\n`);
    }
  };
}
