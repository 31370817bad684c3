/**
 * How long a scheduled backstop (the canary, the renewal sweep) may go without
 * a succeeded execution before its "missed runs" alarm fires, derived from its
 * EventBridge Scheduler expression, and how that window is expressed as a
 * CloudWatch alarm. Pure functions, so they are unit-tested on their own.
 */

const MINUTE = 60;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const WEEK_MINUTES = 7 * 24 * 60;

/**
 * CloudWatch's limits on an alarm's look-back (PutMetricAlarm): Period ×
 * EvaluationPeriods at most 7 days, and at most 1 day when the period is
 * under an hour. Period must be 10, 20, 30 or a multiple of 60 seconds.
 */
export const CLOUDWATCH_ALARM_LIMITS = {
  maxEvaluationSeconds: 7 * DAY,
  maxEvaluationSecondsBelowOneHourPeriod: DAY,
} as const;

/** The period of a missed-run alarm whose window fits CloudWatch's one-day limit for sub-hour periods. */
const SHORT_PERIOD_SECONDS = 5 * MINUTE;
/** The period of a longer window (up to CloudWatch's seven days). */
const LONG_PERIOD_SECONDS = HOUR;

/** What a run may add to the time between two scheduled starts. */
export interface RunSlack {
  /** The longest a run can take: its state machine's `TimeoutSeconds`. */
  readonly maxRunSeconds: number;
  /**
   * The schedule's flexible time window: Scheduler may start a run this much later than its time.
   * @default 0
   */
  readonly flexibleWindowSeconds?: number;
}

/** A missed-run window and the CloudWatch alarm shape that expresses it. */
export interface MissedRunWindow {
  /** The longest time between two scheduled starts, in seconds. */
  readonly intervalSeconds: number;
  /** 2 × the interval + the run's timeout + the flexible window: no succeeded run for this long means runs have stopped. */
  readonly windowSeconds: number;
  /** The alarm's period, in seconds. */
  readonly periodSeconds: number;
  /** The alarm's evaluation periods (all of which must breach): enough periods to cover the window whatever the alignment. */
  readonly evaluationPeriods: number;
}

/**
 * The longest time, in seconds, between two starts of an EventBridge Scheduler expression.
 *
 * - `rate(N minute|minutes|hour|hours|day|days)`: N of the unit (1 takes the singular, as Scheduler requires).
 * - `cron(minutes hours day-of-month month day-of-week year)`: parsed, for expressions that
 *   run every day (day-of-month `*` or `?`) or on given weekdays (day-of-week as `1-7` or
 *   `SUN`-`SAT`, lists, ranges, `/` steps); minutes and hours take lists, ranges and steps.
 *   The longest gap over a week of start times is the interval. Day-of-month values, months
 *   and years are refused rather than guessed: their gaps are weeks to years, which no
 *   CloudWatch alarm can look back over anyway. `L`, `W` and `#` are refused too.
 * - `at(...)`: refused; a one-time schedule stops, so it cannot be a backstop.
 *
 * Times are taken in UTC; a schedule with a time zone that changes to daylight saving time
 * has one gap an hour longer, which the run's timeout in the window's slack absorbs.
 *
 * @param what - what the schedule starts, for error messages (e.g. `canary.schedule`)
 * @throws Error naming the expression and what is supported, when it cannot be read
 */
export function scheduleIntervalSeconds(schedule: string, what: string): number {
  const expression = schedule.trim();
  const rate = /^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$/.exec(expression);
  if (rate) {
    const [, count = '', unit = ''] = rate;
    const value = Number(count);
    const singular = !unit.endsWith('s');
    if (value < 1 || (value === 1) !== singular) {
      throw new Error(
        `${what} "${schedule}" is not a valid rate expression: the value must be a whole number of at least 1, with a singular unit for 1 and a plural one otherwise (rate(1 day), rate(6 hours))`,
      );
    }
    const unitSeconds = unit.startsWith('minute') ? MINUTE : unit.startsWith('hour') ? HOUR : DAY;
    return value * unitSeconds;
  }
  const cron = /^cron\((.*)\)$/.exec(expression);
  if (cron) return cronIntervalSeconds((cron[1] ?? '').trim(), schedule, what);
  if (/^at\(.*\)$/.test(expression)) {
    throw new Error(
      `${what} "${schedule}" is a one-time schedule: runs stop after it, so a missed-run alarm would fire for ever; use a recurring rate(...) or cron(...) expression`,
    );
  }
  throw new Error(`${what} "${schedule}" is not an EventBridge Scheduler expression; use rate(1 day), rate(6 hours) or cron(0 4 * * ? *)`);
}

/**
 * The missed-run window of a schedule and the alarm that expresses it: period and
 * evaluation periods, all of which must breach (no succeeded run in any of them).
 *
 * The window is 2 × the longest interval (one missed or failed run is the failure alarm's
 * business; two in a row means runs have stopped) plus the run's timeout (a success is
 * counted when the run ends, not when it starts) plus the schedule's flexible window.
 * CloudWatch counts a success in the period it falls in, so one extra period keeps a
 * success late in a period from shortening the window: the alarm fires between the window
 * and the window + 2 periods after the last success.
 *
 * Periods are 5 minutes while the whole evaluation fits in a day (CloudWatch's limit for
 * sub-hour periods), otherwise an hour up to CloudWatch's 7 days.
 *
 * @throws Error naming the schedule and CloudWatch's limit when the window does not fit. A
 * platform team expects the stack to refuse a backstop it cannot watch rather than deploy
 * an alarm that looks back less than the schedule's gap (it would fire on every healthy
 * gap, and an alarm that cries wolf gets ignored) or no alarm at all (a silent backstop is
 * what this alarm exists to prevent).
 */
export function missedRunWindow(schedule: string, what: string, slack: RunSlack): MissedRunWindow {
  const intervalSeconds = scheduleIntervalSeconds(schedule, what);
  const slackSeconds = slack.maxRunSeconds + (slack.flexibleWindowSeconds ?? 0);
  const windowSeconds = 2 * intervalSeconds + slackSeconds;
  for (const [periodSeconds, limit] of [
    [SHORT_PERIOD_SECONDS, CLOUDWATCH_ALARM_LIMITS.maxEvaluationSecondsBelowOneHourPeriod],
    [LONG_PERIOD_SECONDS, CLOUDWATCH_ALARM_LIMITS.maxEvaluationSeconds],
  ] as const) {
    const evaluationPeriods = Math.ceil(windowSeconds / periodSeconds) + 1;
    if (evaluationPeriods * periodSeconds <= limit) return { intervalSeconds, windowSeconds, periodSeconds, evaluationPeriods };
  }
  // The longest interval that still fits: 2 × interval + slack + one alignment period ≤ 7 days.
  const maxInterval = Math.floor((CLOUDWATCH_ALARM_LIMITS.maxEvaluationSeconds - LONG_PERIOD_SECONDS - slackSeconds) / 2 / HOUR) * HOUR;
  throw new Error(
    `${what} "${schedule}" runs up to ${durationText(intervalSeconds)} apart, so its missed-run alarm would have to look back ` +
      `${durationText(windowSeconds)} (2 × the interval + ${durationText(slackSeconds)} for a run's timeout and start delay); ` +
      `a CloudWatch alarm looks back at most 7 days (Period × EvaluationPeriods ≤ ${CLOUDWATCH_ALARM_LIMITS.maxEvaluationSeconds} s). ` +
      `Use a schedule that runs at least every ${durationText(maxInterval)}.`,
  );
}

/** The longest gap between starts of a cron expression's fields (see {@link scheduleIntervalSeconds}). */
function cronIntervalSeconds(fields: string, schedule: string, what: string): number {
  const invalid = (why: string) => new Error(`${what} "${schedule}" cannot be used: ${why}`);
  const parts = fields.split(/\s+/);
  if (parts.length !== 6) throw invalid(`a cron expression has six fields (minutes hours day-of-month month day-of-week year), not ${parts.length}`);
  const [minutes, hours, dayOfMonth, month, dayOfWeek, year] = parts as [string, string, string, string, string, string];
  if ((dayOfMonth === '?') === (dayOfWeek === '?')) {
    throw invalid('exactly one of day-of-month and day-of-week must be ? (EventBridge Scheduler refuses both or neither)');
  }
  const unsupported = (field: string, value: string) =>
    invalid(
      `${field} "${value}" is not supported for a backstop: its runs are weeks or more apart, beyond what a CloudWatch alarm can look back (7 days). ` +
        'Run at least every few days: every day (day-of-month * with day-of-week ?) or on given weekdays (day-of-month ? with day-of-week such as MON-FRI).',
    );
  if (dayOfMonth !== '?' && dayOfMonth !== '*') throw unsupported('day-of-month', dayOfMonth);
  if (month !== '*') throw unsupported('month', month);
  if (year !== '*') throw unsupported('year', year);

  const minuteSet = cronField(minutes, 0, 59, {}, 'minutes', invalid);
  const hourSet = cronField(hours, 0, 23, {}, 'hours', invalid);
  const daySet = dayOfWeek === '?' || dayOfWeek === '*' ? [1, 2, 3, 4, 5, 6, 7] : cronField(dayOfWeek, 1, 7, WEEKDAYS, 'day-of-week', invalid);
  const starts = daySet.flatMap((day) => hourSet.flatMap((hour) => minuteSet.map((minute) => (day - 1) * 24 * 60 + hour * 60 + minute)));
  starts.sort((a, b) => a - b);
  // The gap from each start back to the one before it, the first one's wrapping round the week.
  const gaps = starts.map((start, i) => start - (i === 0 ? (starts.at(-1) ?? start) - WEEK_MINUTES : (starts[i - 1] ?? start)));
  return Math.max(...gaps) * MINUTE;
}

/** Day-of-week names of AWS cron (1 is Sunday). */
const WEEKDAYS: Readonly<Record<string, number>> = { SUN: 1, MON: 2, TUE: 3, WED: 4, THU: 5, FRI: 6, SAT: 7 };

/** The values of one cron field: `*`, numbers or names, `a-b` ranges, `/` steps, comma lists. */
function cronField(field: string, min: number, max: number, names: Readonly<Record<string, number>>, label: string, invalid: (why: string) => Error): number[] {
  const value = (text: string): number => {
    const n = names[text.toUpperCase()] ?? (/^\d+$/.test(text) ? Number(text) : Number.NaN);
    if (!(n >= min && n <= max)) {
      const named = Object.keys(names).length > 0 ? ' or a day name' : '';
      const special = /[LW#]/i.test(text) ? '; L, W and # are not supported' : '';
      throw invalid(`${label} "${field}": "${text}" is not a value from ${min} to ${max}${named}${special}`);
    }
    return n;
  };
  const values = new Set<number>();
  for (const item of field.split(',')) {
    const match = /^([^/-]+)(?:-([^/]+))?(?:\/(\d+))?$/.exec(item);
    if (!match) throw invalid(`${label} "${field}": "${item}" is not a value, a range a-b, or a step (*/n, a/n, a-b/n); L, W and # are not supported`);
    const [, from = '', to, step] = match;
    if (from === '*' && to !== undefined) throw invalid(`${label} "${field}": "${item}" is not a range`);
    const start = from === '*' ? min : value(from);
    const end = to !== undefined ? value(to) : from === '*' || step !== undefined ? max : start;
    const by = step === undefined ? 1 : Number(step);
    if (end < start) throw invalid(`${label} "${field}": the range "${item}" runs backwards`);
    if (by < 1) throw invalid(`${label} "${field}": the step in "${item}" must be at least 1`);
    for (let n = start; n <= end; n += by) values.add(n);
  }
  return [...values];
}

/** A duration in words: "2 days 3 hours", "6 hours", "45 minutes". */
export function durationText(seconds: number): string {
  const units: [number, string][] = [
    [DAY, 'day'],
    [HOUR, 'hour'],
    [MINUTE, 'minute'],
  ];
  const parts: string[] = [];
  let rest = seconds;
  for (const [size, name] of units) {
    const n = Math.floor(rest / size);
    rest -= n * size;
    if (n > 0) parts.push(`${n} ${name}${n === 1 ? '' : 's'}`);
  }
  return parts.length > 0 ? parts.join(' ') : `${seconds} seconds`;
}
