/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  // TypeScript first: bin/certflow.cjs is the npm launcher of bin/certflow.ts, and tests import the TypeScript itself.
  moduleFileExtensions: ['ts', 'js', 'cjs', 'mjs', 'json', 'node'],
  // Type-checking is done once by `tsc --noEmit` (npm run typecheck); here we only transpile.
  // @middy ships ES modules only, so it is transpiled to CommonJS like our own code.
  transform: { '^.+\\.[tj]s$': ['ts-jest', { tsconfig: { allowJs: true, isolatedModules: true }, diagnostics: false }] },
  transformIgnorePatterns: ['/node_modules/(?!@middy/)'],
  testTimeout: 120000,
  // Workflow suites wait on the emulator more than they use the CPU; two workers halve the run on a 2-core machine.
  maxWorkers: 2,
  reporters: ['default', '<rootDir>/test/support/summary-reporter.js'],
};
