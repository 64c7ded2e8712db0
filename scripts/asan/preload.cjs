// preload.cjs — loaded with `node --require` (through NODE_OPTIONS) into every
// node process of `npm run test:asan-addon` (scripts/asan-addon.mjs): vitest's
// main process, its workers, and the CLI processes the tests spawn. Test
// tooling only; nothing here ships.
//
//  1. `require('node-gyp-build')` hands out the AddressSanitizer build of the
//     addon ($HYPERION_ASAN_ADDON) instead of build/Release or a prebuild, so
//     the package's own loading code runs unchanged.
//  2. Each process notes its pid (and whether it loaded the addon) in
//     $HYPERION_ASAN_RUN/pids, so the script can wait for every leak check to
//     finish and knows which reports concern the addon.
//  3. Workers end in a way that lets LeakSanitizer's check at exit run (below).
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const Module = require('node:module');

const addonPath = process.env.HYPERION_ASAN_ADDON;
const runDir = process.env.HYPERION_ASAN_RUN;

function note(suffix) {
  if (!runDir) return;
  try {
    fs.writeFileSync(path.join(runDir, 'pids', `${process.pid}${suffix}`), process.argv.slice(1, 3).join(' '));
  } catch {
    // the run folder is gone: nothing to report to
  }
}

if (addonPath) {
  note('');
  const load = Module._load;
  Module._load = function (request, parent, isMain) {
    if (request === 'node-gyp-build') {
      const loader = () => {
        note('.addon');
        return load.call(this, addonPath, parent, false);
      };
      loader.resolve = () => addonPath;
      loader.path = () => addonPath;
      return loader;
    }
    return load.call(this, request, parent, isMain);
  };

  // vitest stops its workers with SIGTERM, which ends a process without
  // running exit handlers: LeakSanitizer's check would never run where the
  // addon's tests ran. A worker instead closes its IPC channel, so the event
  // loop drains and Node tears the environment down (V8's heap, the addon's
  // cleanup hooks) before the check; process.exit() would skip that teardown
  // and leave hundreds of V8 allocations looking leaked. Fallback after 20 s:
  // exit anyway (with the exit function as it was before vitest replaces
  // process.exit in its workers).
  const exit = process.exit.bind(process);
  process.once('SIGTERM', () => {
    if (typeof process.disconnect === 'function' && process.connected) {
      process.disconnect();
      setTimeout(() => exit(0), 20_000).unref();
    } else {
      exit(0);
    }
  });

  // vitest follows with SIGKILL after 500 ms, less than the leak check takes
  // under ASan. So in the process that sends them (vitest's main process):
  //  - SIGTERM is not sent to a child that has already closed its IPC channel:
  //    it is exiting by itself, probably inside the leak check already, where
  //    the signal would find no JavaScript handler and kill it;
  //  - SIGKILL to a child that is still running is deferred by up to 60 s, so
  //    the child can finish its check (a child that hangs still dies).
  const { ChildProcess } = require('node:child_process');
  const kill = ChildProcess.prototype.kill;
  const later = (child) => {
    const timer = setTimeout(() => kill.call(child, 'SIGKILL'), 60_000);
    child.once('exit', () => clearTimeout(timer));
    return true;
  };
  ChildProcess.prototype.kill = function (signal) {
    const running = this.exitCode === null && this.signalCode === null;
    if (running && (signal === undefined || signal === 'SIGTERM') && this.send && !this.connected) return later(this);
    if (running && signal === 'SIGKILL') return later(this);
    return kill.call(this, signal);
  };
}
