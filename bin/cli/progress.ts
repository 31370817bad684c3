import { formatDuration } from './render';

/** Where progress goes: stderr line by line, and on a terminal a way to redraw the current line in place. */
export interface ProgressOutput {
  /** Writes one finished line (a newline is added). */
  readonly line: (text: string) => void;
  /** Present when stderr is a terminal: raw writes (no newline added) and its width. */
  readonly terminal?: { readonly write: (text: string) => void; readonly columns: () => number };
}

/** How much progress a person asked for. */
export type ProgressMode = 'normal' | 'quiet';

/** What the workflow is doing now: a phase, and within it what is awaited. */
export interface PhaseUpdate {
  /** Stable key of the phase; a new key starts a new phase (and a new line). */
  readonly phase: string;
  /** What the phase does, in words. */
  readonly title: string;
  /** What is awaited within the phase; a change of it is a change worth a line. */
  readonly awaiting?: string;
}

/** Reports progress to a person: one live line per phase on a terminal, one line per change elsewhere. */
export interface ProgressReporter {
  /** The phase (and what it awaits) as it stands; called for every state, printed only on a change. */
  update(update: PhaseUpdate): void;
  /** A line that stays (where a record went, the certificate's ARN), printed above the live line. */
  note(text: string): void;
  /** Ends the live line (marking the phase done, or not) and stops redrawing. */
  finish(options?: { readonly failed?: boolean }): void;
}

/** ANSI: carriage return and erase the whole line, so a live line is redrawn in place. */
const CLEAR_LINE = '\r\x1b[2K';
/** How often the live line's elapsed time is redrawn. */
const TICK_MS = 1000;

/**
 * Creates the reporter. On a terminal the current phase is one line redrawn
 * in place (what is awaited, elapsed time) and kept, with its duration, when
 * the next phase starts. Elsewhere (CI, pipes) a line is printed only when the
 * phase or what it awaits changes, never once per poll, so logs stay short.
 * `quiet` prints nothing: the caller prints the result alone.
 */
export function makeProgressReporter(output: ProgressOutput, mode: ProgressMode = 'normal', now: () => number = Date.now): ProgressReporter {
  const started = now();
  let current: { phase: string; text: string; since: number } | undefined;
  let timer: NodeJS.Timeout | undefined;
  const terminal = output.terminal;
  const stamp = () => `[${((now() - started) / 1000).toFixed(1)}s]`;

  const liveText = () => {
    if (!current) return '';
    const text = `… ${current.text} (${formatDuration((now() - current.since) / 1000)})`;
    const width = Math.max(20, (terminal?.columns() ?? 80) - 1);
    return text.length > width ? `${text.slice(0, width - 1)}…` : text;
  };
  const redraw = () => terminal?.write(`${CLEAR_LINE}${liveText()}`);
  const closeLive = (mark: string) => {
    if (!terminal || !current) return;
    terminal.write(`${CLEAR_LINE}${mark} ${current.text} (${formatDuration((now() - current.since) / 1000)})\n`);
  };

  if (mode === 'quiet') return { update: () => undefined, note: () => undefined, finish: () => undefined };

  return {
    update(update) {
      // A check state between two waits of one phase repeats the phase without saying what is awaited: nothing changed.
      if (current && current.phase === update.phase && update.awaiting === undefined) return;
      const text = update.awaiting ? `waiting for ${update.awaiting}` : update.title;
      if (current && current.phase === update.phase && current.text === text) return;
      if (!terminal) {
        output.line(`${stamp()} ${text}`);
        current = { phase: update.phase, text, since: current?.phase === update.phase ? current.since : now() };
        return;
      }
      if (current && current.phase !== update.phase) closeLive('✓');
      current = { phase: update.phase, text, since: current?.phase === update.phase ? current.since : now() };
      redraw();
      if (!timer) {
        timer = setInterval(redraw, TICK_MS);
        timer.unref();
      }
    },
    note(text) {
      if (!terminal) {
        output.line(`${stamp()} ${text}`);
        return;
      }
      terminal.write(`${CLEAR_LINE}${text}\n`);
      redraw();
    },
    finish(options = {}) {
      if (timer) clearInterval(timer);
      timer = undefined;
      closeLive(options.failed ? '✗' : '✓');
      current = undefined;
    },
  };
}
