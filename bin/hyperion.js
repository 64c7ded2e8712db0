#!/usr/bin/env node
'use strict';
// The `hyperion` command. The implementation is TypeScript (src/cli), built to dist/.
const path = require('path');
const fs = require('fs');
const entry = path.join(__dirname, '..', 'dist', 'cjs', 'cli', 'main.js');
if (!fs.existsSync(entry)) {
  process.stderr.write('hyperion: the package is not built yet; run `npm install` (or `npm run build:ts`) first\n');
  process.exit(70);
}
require(entry).main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (err) => {
    process.stderr.write(`hyperion: ${err && err.stack ? err.stack : err}\n`);
    process.exitCode = 70;
  },
);
