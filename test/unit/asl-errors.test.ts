import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ERROR_NAMES } from '../../lambdas/core/errors';

/** Every state machine definition certflow ships. */
const ASL_DIR = join(__dirname, '..', '..', 'statemachine');
const ASL_FILES = readdirSync(ASL_DIR).filter((file) => file.endsWith('.asl.json'));

interface Retrier {
  readonly ErrorEquals: readonly string[];
  readonly MaxAttempts?: number;
}
interface State {
  readonly Type: string;
  readonly Resource?: string;
  readonly Retry?: readonly Retrier[];
  readonly Catch?: readonly (Retrier & { readonly Next: string })[];
  readonly Iterator?: Machine;
  readonly ItemProcessor?: Machine;
  readonly Branches?: readonly Machine[];
}
interface Machine {
  readonly States: Record<string, State>;
}

/** Every state of a definition, nested Map and Parallel states included, with its file-qualified name. */
function statesOf(machine: Machine, prefix: string): [string, State][] {
  return Object.entries(machine.States).flatMap(([name, state]) => {
    const nested = [state.Iterator, state.ItemProcessor, ...(state.Branches ?? [])].filter((m): m is Machine => m !== undefined);
    return [[`${prefix}${name}`, state] as [string, State], ...nested.flatMap((m) => statesOf(m, `${prefix}${name}/`))];
  });
}

const ALL_STATES = ASL_FILES.flatMap((file) => statesOf(JSON.parse(readFileSync(join(ASL_DIR, file), 'utf8')) as Machine, `${file}:`));
const EXPORTED_NAMES = new Set<string>(Object.values(ERROR_NAMES));
/** A Lambda step's resource is a substituted function ARN (`${...FunctionArn}`) or a lambda:invoke integration. */
const isLambdaTask = (state: State) => state.Type === 'Task' && /FunctionArn\}|:::lambda:invoke/.test(state.Resource ?? '');

describe('error names in the state machine definitions', () => {
  it('finds the definitions and their Lambda steps', () => {
    expect(ASL_FILES).toContain('certificate-workflow.asl.json');
    expect(ALL_STATES.filter(([, s]) => isLambdaTask(s)).length).toBeGreaterThan(5);
  });

  it.each(ALL_STATES.filter(([, s]) => s.Retry || s.Catch))('%s matches only exported certflow errors or States./Lambda. names', (_name, state) => {
    const names = [...(state.Retry ?? []), ...(state.Catch ?? [])].flatMap((r) => r.ErrorEquals);
    const unknown = names.filter((n) => !EXPORTED_NAMES.has(n) && !n.startsWith('States.') && !n.startsWith('Lambda.'));
    expect(unknown).toEqual([]);
  });

  it('every Lambda step retries transient AWS errors with one and the same Retry block, and Lambda errors and timeouts (Lambda.Unknown) with another', () => {
    const blocks = ALL_STATES.filter(([, s]) => isLambdaTask(s)).map(([name, s]) => ({
      name,
      transient: s.Retry?.find((r) => r.ErrorEquals.includes(ERROR_NAMES.transientAws)),
      lambda: s.Retry?.find((r) => r.ErrorEquals.includes('Lambda.Unknown')),
    }));
    expect(blocks.filter((b) => b.transient === undefined || b.lambda === undefined).map((b) => b.name)).toEqual([]);
    const [first] = blocks;
    // Throttling of a quota shared by every execution (RequestCertificate 5/s): retried every few seconds
    // for minutes, so that hundreds of waiting executions keep the quota busy and none gives up early.
    expect(first?.transient).toMatchObject({ ErrorEquals: [ERROR_NAMES.transientAws], MaxDelaySeconds: 10, JitterStrategy: 'FULL' });
    expect(first?.transient?.MaxAttempts).toBeGreaterThanOrEqual(30);
    expect(first?.lambda?.ErrorEquals).toContain('Lambda.TooManyRequestsException');
    for (const { name, transient, lambda } of blocks) expect({ name, transient, lambda }).toEqual({ name, transient: first?.transient, lambda: first?.lambda });
  });

  it("a replaced request's certificate that cannot be retired never fails the request that replaced it (already DEPLOYED and announced)", () => {
    const retire = ALL_STATES.find(([name]) => name === 'certificate-workflow.asl.json:RetireReplacedCertificate')?.[1];
    expect(retire?.Catch?.map((c) => c.Next)).toEqual(['ReplacementFinished']);
  });

  it('a progress announcement that cannot be published never leads to the failure path', () => {
    const announcements = ALL_STATES.filter(([name, s]) => s.Resource?.includes('events:putEvents') && !name.endsWith(':AnnounceFailed'));
    expect(announcements.map(([name]) => name)).toEqual(
      expect.arrayContaining(['certificate-workflow.asl.json:AnnounceIssued', 'certificate-workflow.asl.json:AnnounceDeployed']),
    );
    for (const [name, state] of announcements) {
      expect({ name, catches: state.Catch?.length ?? 0 }).toEqual({ name, catches: 1 });
      expect({ name, next: state.Catch?.[0]?.Next }).not.toEqual({ name, next: 'RecordFailure' });
    }
  });
});
