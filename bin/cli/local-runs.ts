import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Local runs have no Step Functions service to ask whether an execution is
 * still running: the run lives in a CLI process. Each run leaves a small
 * marker file (which process runs it, how to resume it) so that `status`
 * can tell "a run is in progress" from "the run was interrupted".
 */

/** What a marker says about a local run. */
export interface LocalRunMarker {
  readonly requestId: string;
  readonly pid: number;
  readonly startedAt: string;
  /** The command that resumes the request. */
  readonly resumeCommand: string;
}

/** A marker, and whether its process is still alive. */
export interface LocalRun extends LocalRunMarker {
  readonly running: boolean;
}

/** Where markers live. @default the system temp directory */
export function localRunsDirectory(env: NodeJS.ProcessEnv): string {
  return env.CERTFLOW_LOCAL_RUNS_DIR ?? join(tmpdir(), 'certflow-local-runs');
}

/** One marker per endpoint and request: the same request id against two emulators is two runs. */
function markerPath(env: NodeJS.ProcessEnv, requestId: string): string {
  const endpoint = env.AWS_ENDPOINT_URL ?? 'aws';
  const key = createHash('sha256').update(`${endpoint}|${requestId}`).digest('hex').slice(0, 32);
  return join(localRunsDirectory(env), `${key}.json`);
}

/** Records that this process runs `requestId` locally. */
export function markLocalRun(env: NodeJS.ProcessEnv, marker: Omit<LocalRunMarker, 'pid' | 'startedAt'>): void {
  mkdirSync(localRunsDirectory(env), { recursive: true });
  const full: LocalRunMarker = { ...marker, pid: process.pid, startedAt: new Date().toISOString() };
  writeFileSync(markerPath(env, marker.requestId), JSON.stringify(full));
}

/** Forgets the marker of a run that ended (an interrupted run keeps it: it says how to resume). */
export function clearLocalRun(env: NodeJS.ProcessEnv, requestId: string): void {
  rmSync(markerPath(env, requestId), { force: true });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The last local run of `requestId` against this endpoint, if this machine ran it. */
export function localRunOf(env: NodeJS.ProcessEnv, requestId: string): LocalRun | undefined {
  let marker: LocalRunMarker;
  try {
    marker = JSON.parse(readFileSync(markerPath(env, requestId), 'utf8')) as LocalRunMarker;
  } catch {
    return undefined;
  }
  return { ...marker, running: marker.pid !== process.pid && isAlive(marker.pid) };
}
