import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';

/** A running moto server, the AWS emulator used by workflow tests and the demo. */
export interface MotoServer {
  /** Base URL, for AWS_ENDPOINT_URL or a client's `endpoint`. */
  readonly endpoint: string;
  readonly port: number;
  /** The server's process id (to sample its memory), when it started. */
  readonly pid: number | undefined;
  /** Wipes every resource in every account (moto's reset API). */
  reset(): Promise<void>;
  stop(): Promise<void>;
}

/** Options for {@link startMoto}. */
export interface StartMotoOptions {
  /**
   * Seconds after which moto's ACM marks a DNS-validated certificate ISSUED.
   * @default 1
   */
  readonly acmValidationWaitSeconds?: number;
  /**
   * How long to wait for the server to answer.
   * @default 30000
   */
  readonly startTimeoutMs?: number;
}

/** Finds a free TCP port on the loopback interface. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      if (address === null || typeof address === 'string') {
        reject(new Error('could not read the bound port'));
        return;
      }
      server.close(() => resolve(address.port));
    });
  });
}

async function waitUntilUp(endpoint: string, child: ChildProcess, timeoutMs: number, stderr: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) {
      throw new Error(`moto server exited with code ${child.exitCode}: ${stderr()}`);
    }
    try {
      const response = await fetch(`${endpoint}/moto-api/`);
      if (response.status < 500) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`moto server did not answer on ${endpoint} within ${timeoutMs} ms: ${stderr()}`);
}

/**
 * Starts moto's server on a free loopback port, through moto-server.py: `python3 -m moto.server`
 * without the whole-table copy moto's TransactWriteItems makes (an emulator cost that grows with
 * the table; see that file). Requires moto[server] (`pip install "moto[server]"`).
 */
export async function startMoto(options: StartMotoOptions = {}): Promise<MotoServer> {
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  const child = spawn('python3', [join(__dirname, 'moto-server.py'), '-H', '127.0.0.1', '-p', String(port)], {
    env: {
      ...process.env,
      MOTO_ACM_VALIDATION_WAIT: String(options.acmValidationWaitSeconds ?? 1),
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderrText = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    // Keep only the tail: moto logs every request.
    stderrText = (stderrText + chunk.toString()).slice(-4000);
  });
  await waitUntilUp(endpoint, child, options.startTimeoutMs ?? 30000, () => stderrText);
  return {
    endpoint,
    port,
    pid: child.pid,
    async reset() {
      await fetch(`${endpoint}/moto-api/reset`, { method: 'POST' });
    },
    async stop() {
      if (child.exitCode !== null) return;
      await new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGKILL'), 3000).unref();
      });
    },
  };
}
