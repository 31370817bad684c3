#!/usr/bin/env node
'use strict';
// The `certflow` command: runs the TypeScript CLI through tsx (a dependency), so that
// `npx certflow` works in a fresh clone right after `npm ci`, and from an installed package, with no build step.
require('tsx/cjs/api').require('./certflow.ts', __filename).runCli();
