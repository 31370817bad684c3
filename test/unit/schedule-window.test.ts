/**
 * The missed-run window of a scheduled backstop: the longest gap of an
 * EventBridge Scheduler expression, and how the window becomes a CloudWatch
 * alarm within CloudWatch's look-back limits (lib/schedule-window.ts).
 */
import fc from 'fast-check';
import { CLOUDWATCH_ALARM_LIMITS, missedRunWindow, scheduleIntervalSeconds } from '../../lib/schedule-window';

const MINUTE = 60;
const HOUR = 3600;
const DAY = 86400;

describe('scheduleIntervalSeconds', () => {
  it.each([
    ['rate(1 minute)', MINUTE],
    ['rate(5 minutes)', 5 * MINUTE],
    ['rate(1 hour)', HOUR],
    ['rate(6 hours)', 6 * HOUR],
    ['rate(1 day)', DAY],
    ['rate(3 days)', 3 * DAY],
    ['cron(0 4 * * ? *)', DAY],
    ['cron(0/15 * * * ? *)', 15 * MINUTE],
    ['cron(*/20 * * * ? *)', 20 * MINUTE],
    ['cron(0 */6 * * ? *)', 6 * HOUR],
    ['cron(0 4,16 * * ? *)', 12 * HOUR],
    // 01:30, 02:30, 03:30, then 01:30 the next day.
    ['cron(30 1-3 * * ? *)', 22 * HOUR],
    ['cron(0 0-12/4 * * ? *)', 12 * HOUR],
    // Friday 04:00 to Monday 04:00.
    ['cron(0 4 ? * MON-FRI *)', 3 * DAY],
    ['cron(0 4 ? * 2-6 *)', 3 * DAY],
    ['cron(0 4 ? * mon,wed,fri *)', 3 * DAY],
    ['cron(0 4 ? * SUN *)', 7 * DAY],
    ['cron(0 4 ? * * *)', DAY],
    ['  rate(1 day)  ', DAY],
  ])('%s runs at most %i seconds apart', (schedule, seconds) => {
    expect(scheduleIntervalSeconds(schedule, 'test.schedule')).toBe(seconds);
  });

  it.each([
    ['rate(0 days)', /whole number of at least 1/],
    ['rate(1 days)', /singular unit for 1/],
    ['rate(2 day)', /plural one otherwise/],
    ['rate(1 week)', /not an EventBridge Scheduler expression/],
    ['rate(1.5 hours)', /not an EventBridge Scheduler expression/],
    ['daily', /not an EventBridge Scheduler expression/],
    ['', /not an EventBridge Scheduler expression/],
    ['at(2027-01-01T00:00:00)', /one-time schedule/],
    ['cron(0 4 * * *)', /six fields .* not 5/],
    ['cron(0 4 * * * *)', /exactly one of day-of-month and day-of-week must be \?/],
    ['cron(0 4 ? * ? *)', /exactly one of day-of-month and day-of-week must be \?/],
    ['cron(0 4 1 * ? *)', /day-of-month "1" is not supported/],
    ['cron(0 4 */2 * ? *)', /day-of-month "\*\/2" is not supported/],
    ['cron(0 4 * 1 ? *)', /month "1" is not supported/],
    ['cron(0 4 * * ? 2027)', /year "2027" is not supported/],
    ['cron(0 4 ? * 6L *)', /day-of-week "6L".*not a value from 1 to 7/],
    ['cron(0 4 ? * 2#1 *)', /day-of-week "2#1".*L, W and # are not supported/],
    ['cron(0 4 ? * MON-FUN *)', /"FUN" is not a value from 1 to 7 or a day name/],
    ['cron(60 4 * * ? *)', /minutes "60".*not a value from 0 to 59/],
    ['cron(0 24 * * ? *)', /hours "24".*not a value from 0 to 23/],
    ['cron(? 4 * * ? *)', /minutes "\?"/],
    ['cron(0 5-4 * * ? *)', /the range "5-4" runs backwards/],
    ['cron(*/0 * * * ? *)', /the step in "\*\/0" must be at least 1/],
    ['cron(*-5 * * * ? *)', /"\*-5" is not a range/],
  ])('refuses %j, naming it and what is wrong', (schedule, why) => {
    const attempt = () => scheduleIntervalSeconds(schedule, 'canary.schedule');
    expect(attempt).toThrow(why);
    expect(attempt).toThrow(`canary.schedule "${schedule}"`);
  });
});

describe('missedRunWindow', () => {
  it('allows twice the interval plus the run timeout and the flexible window, in hour periods beyond a day', () => {
    // The renewal sweep's defaults: daily, a 6-hour timeout, a 60-minute flexible window: 55 hours.
    expect(missedRunWindow('rate(1 day)', 'renewal.schedule', { maxRunSeconds: 6 * HOUR, flexibleWindowSeconds: HOUR })).toEqual({
      intervalSeconds: DAY,
      windowSeconds: 55 * HOUR,
      periodSeconds: HOUR,
      evaluationPeriods: 56,
    });
  });

  it('uses 5-minute periods while the evaluation fits in a day', () => {
    // rate(6 hours) with a 3-hour timeout: 15 hours, 180 periods, plus one for alignment.
    expect(missedRunWindow('rate(6 hours)', 'canary.schedule', { maxRunSeconds: 3 * HOUR })).toEqual({
      intervalSeconds: 6 * HOUR,
      windowSeconds: 15 * HOUR,
      periodSeconds: 300,
      evaluationPeriods: 181,
    });
  });

  it("switches to hour periods exactly where CloudWatch's one-day limit for sub-hour periods is reached", () => {
    // 2 × 60 s + slack: 86,100 s still fits in 288 five-minute periods (86,400 s); one second more does not.
    expect(missedRunWindow('rate(1 minute)', 'x', { maxRunSeconds: 86100 - 120 })).toMatchObject({ periodSeconds: 300, evaluationPeriods: 288 });
    expect(missedRunWindow('rate(1 minute)', 'x', { maxRunSeconds: 86101 - 120 })).toMatchObject({ periodSeconds: HOUR, evaluationPeriods: 25 });
  });

  it("fits windows up to CloudWatch's seven days and refuses longer ones at synth, naming the schedule and the limit", () => {
    expect(missedRunWindow('rate(1 minute)', 'x', { maxRunSeconds: 601200 - 120 })).toMatchObject({ periodSeconds: HOUR, evaluationPeriods: 168 });
    expect(() => missedRunWindow('rate(1 minute)', 'x', { maxRunSeconds: 601201 - 120 })).toThrow(/looks back at most 7 days/);
    const attempt = () => missedRunWindow('rate(4 days)', 'renewal.schedule', { maxRunSeconds: 6 * HOUR, flexibleWindowSeconds: HOUR });
    expect(attempt).toThrow('renewal.schedule "rate(4 days)" runs up to 4 days apart');
    expect(attempt).toThrow('would have to look back 8 days 7 hours (2 × the interval + 7 hours');
    expect(attempt).toThrow('Period × EvaluationPeriods ≤ 604800 s');
    expect(attempt).toThrow('Use a schedule that runs at least every 3 days 8 hours.');
    // The suggested interval itself fits.
    expect(() => missedRunWindow('rate(80 hours)', 'renewal.schedule', { maxRunSeconds: 6 * HOUR, flexibleWindowSeconds: HOUR })).not.toThrow();
    expect(() => missedRunWindow('cron(0 4 ? * SUN *)', 'canary.schedule', { maxRunSeconds: 3 * HOUR })).toThrow(/runs up to 7 days apart/);
  });

  it('passes on what scheduleIntervalSeconds refuses', () => {
    expect(() => missedRunWindow('at(2027-01-01T00:00:00)', 'canary.schedule', { maxRunSeconds: HOUR })).toThrow(/one-time schedule/);
  });

  it("always covers the whole window plus an alignment period, within CloudWatch's limits, or refuses", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 6000 }), fc.integer({ min: 0, max: 2 * DAY }), fc.integer({ min: 0, max: 4 * HOUR }), (minutes, run, flex) => {
        const schedule = minutes === 1 ? 'rate(1 minute)' : `rate(${minutes} minutes)`;
        let window;
        try {
          window = missedRunWindow(schedule, 'x', { maxRunSeconds: run, flexibleWindowSeconds: flex });
        } catch (error) {
          // Refused only when even hour periods cannot cover it in seven days.
          expect(2 * minutes * MINUTE + run + flex + HOUR).toBeGreaterThan(CLOUDWATCH_ALARM_LIMITS.maxEvaluationSeconds);
          expect((error as Error).message).toContain('looks back at most 7 days');
          return;
        }
        const { periodSeconds, evaluationPeriods, windowSeconds } = window;
        expect(windowSeconds).toBe(2 * minutes * MINUTE + run + flex);
        expect((evaluationPeriods - 1) * periodSeconds).toBeGreaterThanOrEqual(windowSeconds);
        expect(periodSeconds % 60).toBe(0);
        const limit = periodSeconds < HOUR ? CLOUDWATCH_ALARM_LIMITS.maxEvaluationSecondsBelowOneHourPeriod : CLOUDWATCH_ALARM_LIMITS.maxEvaluationSeconds;
        expect(evaluationPeriods * periodSeconds).toBeLessThanOrEqual(limit);
      }),
    );
  });
});
