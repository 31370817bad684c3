/**
 * Runs the fault proxy in front of an emulator, for running certflow's local mode by hand:
 *
 *   tsx test/support/fault-proxy-cli.ts --target http://127.0.0.1:5000 --port 4600 --rules rules.json
 *   AWS_ENDPOINT_URL=http://127.0.0.1:4600 <certflow local mode>
 *
 * rules.json is a JSON array of rule specs (see RuleSpec in fault-proxy.ts), e.g.
 *   [{ "kind": "throttle", "service": "acm", "operation": "RequestCertificate", "count": 2 },
 *    { "kind": "certificateFailed", "failureReason": "CAA_ERROR" },
 *    { "kind": "assumeRoleDenied", "roleArn": "arn:aws:iam::111111111111:role/dns" }]
 *
 * Prints the endpoint as the first line on stdout, then one line per call on stderr.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { parseRuleSpecs, startFaultProxy, type CallRecord, type FaultRule } from './fault-proxy';

const USAGE = 'usage: fault-proxy-cli --target URL [--port N] [--rules rules.json] [--seed N] [--quiet]';

function fail(message: string): never {
  process.stderr.write(`${message}\n${USAGE}\n`);
  process.exit(2);
}

function wholeNumber(text: string | undefined, flag: string, fallback: number): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 0) fail(`${flag} must be a whole number, got ${text}`);
  return value;
}

function readRules(path: string | undefined): FaultRule[] {
  if (path === undefined) return [];
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    fail(`cannot read rules from ${path}: ${error instanceof Error ? error.message : String(error)}`);
  }
  try {
    return parseRuleSpecs(json);
  } catch (error) {
    fail(`${path}: ${error instanceof Error ? error.message : String(error)}`);
  }
}

function describeCall(call: CallRecord): string {
  const faults = call.faults.length > 0 ? ` [${call.faults.join('+')}]` : '';
  return `${call.service} ${call.operation} -> ${call.status ?? 'dropped'}${faults}`;
}

async function main(): Promise<void> {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        target: { type: 'string' },
        port: { type: 'string' },
        rules: { type: 'string' },
        seed: { type: 'string' },
        quiet: { type: 'boolean', default: false },
      },
    }));
  } catch (error) {
    fail(error instanceof Error ? error.message : String(error));
  }
  if (values.target === undefined) fail('--target is required');
  const quiet = values.quiet === true;
  const proxy = await startFaultProxy({
    target: values.target,
    port: wholeNumber(values.port, '--port', 0),
    seed: wholeNumber(values.seed, '--seed', 1),
    rules: readRules(values.rules),
    onCall: quiet ? undefined : (call) => process.stderr.write(`${describeCall(call)}\n`),
  });
  process.stdout.write(`${proxy.endpoint}\n`);

  const shutdown = (): void => {
    proxy.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}

main().catch((error: unknown) => {
  process.stderr.write(`fault proxy failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
