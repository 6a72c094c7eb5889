// When a password is rotated: every `rotation_period`, or at the times a
// `rotation_schedule` (five-field cron, UTC; cron.ts) names, each within an
// optional `rotation_window` after the scheduled time. Static roles and
// connections (automated root rotation) use the same fields, with Vault's
// names, limits and messages (builtin/logical/database/path_roles.go,
// sdk/rotation/schedule.go, sdk/helper/automatedrotationutil).

import { CronError, parseCron } from './cron';

/** Shortest rotation_period: Vault's queue tick, and the shortest this plugin's timers are asked to keep. */
export const MIN_ROTATION_PERIOD_SECONDS = 5;
/** Shortest rotation_window, as Vault's sdk/rotation. */
export const MIN_ROTATION_WINDOW_SECONDS = 3600;
/**
 * Longest rotation_period and rotation_window: Go's time.Duration in whole
 * seconds (about 292 years), the longest Vault can hold. Longer ones would
 * put the next rotation past the dates a clock can name.
 */
export const MAX_ROTATION_SECONDS = 9_223_372_036;

/** When a password is rotated. Exactly one of `period` and `schedule` is set. */
export interface RotationTiming {
  /** Seconds between rotations; 0 when `schedule` is used. */
  period: number;
  /** Five-field cron schedule, UTC; '' when `period` is used. */
  schedule: string;
  /**
   * Seconds after each scheduled time during which the rotation may run; a
   * rotation that could not run by then waits for the next scheduled time.
   * 0: no limit. Only with `schedule`.
   */
  window: number;
}

/** True when `a` and `b` rotate at the same times (period, schedule and window alike). */
export function sameTiming(a: RotationTiming, b: RotationTiming): boolean {
  return a.period === b.period && a.schedule === b.schedule && a.window === b.window;
}

/** No automated rotation. */
export const NO_ROTATION: RotationTiming = { period: 0, schedule: '', window: 0 };

/** True when the timing rotates at all. */
export function rotates(timing: RotationTiming): boolean {
  return timing.period > 0 || timing.schedule !== '';
}

/**
 * The next rotation after `from`: `from` + period, or the schedule's next
 * time after `from`. Undefined when the timing does not rotate, or its
 * schedule names no time in the next five years.
 */
export function nextRotation(timing: RotationTiming, from: Date): Date | undefined {
  if (timing.period > 0) {
    // A period stored before it was bounded can overflow the date range: no time to rotate at.
    const next = new Date(from.getTime() + timing.period * 1000);
    return Number.isNaN(next.getTime()) ? undefined : next;
  }
  if (timing.schedule === '') return undefined;
  return parseCron(timing.schedule).next(from);
}

/** When the window of the rotation scheduled at `scheduledAt` closes; undefined without a window. */
export function windowEnd(timing: RotationTiming, scheduledAt: Date): Date | undefined {
  if (timing.schedule === '' || timing.window <= 0) return undefined;
  return new Date(scheduledAt.getTime() + timing.window * 1000);
}

/** The timing's fields as reads show them (Vault's static role shape: only the fields in use). */
export function timingView(timing: RotationTiming): Record<string, unknown> {
  if (timing.period > 0) return { rotation_period: timing.period };
  if (timing.schedule === '') return {};
  return timing.window > 0 ? { rotation_schedule: timing.schedule, rotation_window: timing.window } : { rotation_schedule: timing.schedule };
}

/** What a write sent of the three fields; absent ones are undefined. */
export interface SentTiming {
  period?: number;
  schedule?: string;
  window?: number;
}

/** The timing a write leads to, or the problem with it in words for the operator. */
export type TimingOutcome = { timing: RotationTiming } | { problem: string };

/**
 * A static role's timing after a write, as Vault's pathStaticRoleCreateUpdate
 * decides it: period and schedule exclude each other; sending one replaces
 * the other; one of them is required on create; rotation_window goes with a
 * schedule only. Unlike Vault, a window sent alone applies to the stored
 * schedule (Vault ignores it), and a schedule that never fires is refused.
 * `stored`: undefined on create.
 */
export function staticRoleTiming(sent: SentTiming, stored: RotationTiming | undefined, now: Date): TimingOutcome {
  const schedule = sent.schedule !== undefined && sent.schedule !== '' ? sent.schedule : undefined;
  if (schedule !== undefined && sent.period !== undefined) {
    return { problem: 'mutually exclusive fields rotation_period and rotation_schedule were both specified; only one of them can be provided' };
  }
  if (stored === undefined && schedule === undefined && sent.period === undefined) {
    return { problem: 'one of rotation_schedule or rotation_period must be provided to create a static account' };
  }
  if (sent.period !== undefined) {
    if (sent.period < MIN_ROTATION_PERIOD_SECONDS) return { problem: `rotation_period must be ${MIN_ROTATION_PERIOD_SECONDS} seconds or more` };
    if (sent.period > MAX_ROTATION_SECONDS) return { problem: TOO_LONG('rotation_period') };
    if (sent.window !== undefined) return { problem: 'rotation_window is invalid with use of rotation_period' };
    return { timing: { period: sent.period, schedule: '', window: 0 } };
  }
  const base = stored ?? NO_ROTATION;
  const timing: RotationTiming = schedule === undefined ? { ...base } : { period: 0, schedule, window: base.schedule === '' ? 0 : base.window };
  if (sent.window !== undefined) {
    if (timing.schedule === '') return { problem: 'rotation_window is invalid with use of rotation_period' };
    timing.window = sent.window;
  }
  return checkSchedule(timing, now, 'could not parse rotation_schedule', 'rotation_window is invalid');
}

/**
 * A connection's root-rotation timing after a write, as Vault 1.19's
 * automated rotation fields (automatedrotationutil) decide it: both set is
 * an error, a window needs a schedule; sending one of period and schedule
 * replaces the other, and 0 or '' turns it off. Then this plugin's limits:
 * a period of at least 5 s, a window of at least 1 h, a schedule that fires.
 */
export function rootRotationTiming(sent: SentTiming, stored: RotationTiming, now: Date): TimingOutcome {
  if (sent.schedule !== undefined && sent.schedule !== '' && sent.period !== undefined && sent.period !== 0) {
    return { problem: 'mutually exclusive fields rotation_schedule and rotation_period were both specified; only one of them can be provided' };
  }
  const timing: RotationTiming = { ...stored };
  if (sent.schedule !== undefined) {
    timing.schedule = sent.schedule;
    if (sent.schedule !== '') timing.period = 0;
  }
  if (sent.period !== undefined) {
    timing.period = sent.period;
    if (sent.period !== 0) {
      timing.schedule = '';
      timing.window = 0;
    }
  }
  if (sent.window !== undefined) {
    if (sent.window !== 0 && timing.period !== 0) return { problem: 'rotation_window does not apply to period' };
    if (sent.window !== 0 && timing.schedule === '') return { problem: 'cannot use rotation_window without rotation_schedule' };
    timing.window = sent.window;
  }
  if (timing.schedule === '') timing.window = 0;
  if (timing.period !== 0 && timing.period < MIN_ROTATION_PERIOD_SECONDS) {
    return { problem: `rotation_period must be ${MIN_ROTATION_PERIOD_SECONDS} seconds or more` };
  }
  if (timing.period > MAX_ROTATION_SECONDS) return { problem: TOO_LONG('rotation_period') };
  return checkSchedule(timing, now, 'failed to parse provided rotation_schedule', 'rotation_window is invalid');
}

const TOO_LONG = (field: string): string => `${field} must be ${MAX_ROTATION_SECONDS} seconds (about 292 years) or less`;

/** The schedule parses and fires, and the window is long enough. */
function checkSchedule(timing: RotationTiming, now: Date, parseProblem: string, windowProblem: string): TimingOutcome {
  if (timing.schedule !== '') {
    let next: Date | undefined;
    try {
      next = parseCron(timing.schedule).next(now);
    } catch (err) {
      if (err instanceof CronError) return { problem: `${parseProblem}: ${err.message}` };
      throw err;
    }
    if (next === undefined) return { problem: `rotation_schedule "${timing.schedule}" names no time in the next five years` };
  }
  if (timing.window !== 0 && timing.window < MIN_ROTATION_WINDOW_SECONDS) {
    return { problem: `${windowProblem}: rotation_window must be ${MIN_ROTATION_WINDOW_SECONDS} seconds or more` };
  }
  if (timing.window > MAX_ROTATION_SECONDS) return { problem: `${windowProblem}: ${TOO_LONG('rotation_window')}` };
  return { timing };
}
