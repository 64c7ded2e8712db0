#!/usr/bin/env node
// Prints one group of native/sources.json, space separated, for binding.gyp's
// command expansion (`<!@(node scripts/native-sources.js core)`). CMake reads the
// same JSON file directly, so the two builds always compile the same files.
'use strict';
const path = require('path');
const groups = require(path.join(__dirname, '..', 'native', 'sources.json'));
const name = process.argv[2];
if (!Array.isArray(groups[name])) {
  process.stderr.write(`native-sources: unknown group "${name}"\n`);
  process.exit(1);
}
process.stdout.write(groups[name].join(' '));
