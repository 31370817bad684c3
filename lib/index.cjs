'use strict';
// The package's CDK constructs for another team's app (`require('certflow')` or `import ... from 'certflow'`):
// the TypeScript sources, loaded through tsx, since the constructs bundle the Lambda sources next to them.
module.exports = require('tsx/cjs/api').require('./index.ts', __filename);
