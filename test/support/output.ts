/**
 * Captures what a Lambda handler writes to stdout and stderr, where
 * Powertools' Logger (errors and warnings on stderr) and Metrics write in
 * Lambda, and CloudWatch reads both: one entry per JSON line, parsed.
 */
export interface CapturedOutput {
  /** Every JSON line written so far, parsed, in order. */
  readonly lines: () => Record<string, unknown>[];
  /** Stops capturing; stdout and stderr work as before. */
  readonly restore: () => void;
}

/** Starts capturing stdout and stderr; what is not a JSON line is dropped. */
export function captureOutput(): CapturedOutput {
  const lines: Record<string, unknown>[] = [];
  const record = (chunk: string | Uint8Array) => {
    for (const line of String(chunk).split('\n')) {
      if (line.trim() === '') continue;
      try {
        lines.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        // Not a log line (the test runner's own output).
      }
    }
    return true;
  };
  const spies = [jest.spyOn(process.stdout, 'write').mockImplementation(record), jest.spyOn(process.stderr, 'write').mockImplementation(record)];
  return { lines: () => [...lines], restore: () => spies.forEach((spy) => spy.mockRestore()) };
}
