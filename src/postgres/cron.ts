// Five-field cron schedules (minute hour day-of-month month day-of-week), in
// UTC, as Vault reads `rotation_schedule`: exactly five fields, no seconds,
// no `@daily`-style descriptors, always UTC. Parsing and the search for the
// next time are cron-parser's; this file only narrows what it accepts to
// Vault's standard five-field form (cron-parser also takes a sixth field,
// descriptors, and the L, W and # extensions, which Vault refuses).

type CronParserModule = typeof import('cron-parser');

/**
 * cron-parser (with luxon), loaded when a schedule is first read rather than
 * at start: the plugin's start time is a product metric, and most mounts have
 * no schedule. The bundler keeps a require inside a function lazy; the
 * module cache makes later calls cheap.
 */
function parser(): CronParserModule['CronExpressionParser'] {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const loaded: CronParserModule = require('cron-parser');
  return loaded.CronExpressionParser;
}

/** A schedule that cannot be read; the message names the problem. */
export class CronError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CronError';
  }
}

/** Characters a five-field schedule may hold: numbers, lists, ranges, steps, `*`, `?`, and month/day names. */
const ALLOWED = /^[0-9A-Za-z*?,/\- \t]+$/;
/** Month and day-of-week names, the only letters Vault's parser reads. */
const NAMES = /^(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec|sun|mon|tue|wed|thu|fri|sat)$/i;

/** A parsed schedule. */
export class CronSchedule {
  readonly #text: string;

  constructor(text: string) {
    this.#text = text;
  }

  /**
   * The first time strictly after `from` (whole minutes, UTC) that the
   * schedule names; undefined when there is none (cron-parser searches a
   * bounded number of years).
   */
  next(from: Date): Date | undefined {
    try {
      return parser().parse(this.#text, { currentDate: from, tz: 'UTC' }).next().toDate();
    } catch {
      // Parsed once already (parseCron): the only failure left is running out of times.
      return undefined;
    }
  }
}

/** Parses a five-field schedule; throws CronError naming the problem. */
export function parseCron(text: string): CronSchedule {
  const fields = text.trim().split(/\s+/);
  if (text.trim() === '' || fields.length !== 5) {
    throw new CronError(`expected exactly 5 fields (minute hour day-of-month month day-of-week), found ${text.trim() === '' ? 0 : fields.length}`);
  }
  if (!ALLOWED.test(text)) throw new CronError('only numbers, month and day names, and the characters * ? , / - may be used');
  for (const word of text.match(/[A-Za-z]+/g) ?? []) {
    if (!NAMES.test(word)) throw new CronError(`"${word}" is not a month or day-of-week name`);
  }
  try {
    parser().parse(text, { currentDate: new Date(0), tz: 'UTC', strict: false });
  } catch (err) {
    throw new CronError(err instanceof Error ? err.message : String(err));
  }
  return new CronSchedule(text.trim());
}
