// Go duration strings ("1h30m", "1.5h", "500ms"), as Vault's parseutil reads
// them, plus `d` for days, and Vault's way of printing durations in warnings.
// Arithmetic is done in integer nanoseconds (bigint) like Go, so "2.3h" is
// 8280 s and not 8279.999….

const NANOS_PER_SECOND = 1_000_000_000n;

/** Nanoseconds per unit; `d` is parseutil's extension, the rest is Go's time.ParseDuration. */
const UNIT_NANOS: Readonly<Record<string, bigint>> = {
  ns: 1n,
  us: 1_000n,
  µs: 1_000n,
  μs: 1_000n,
  ms: 1_000_000n,
  s: NANOS_PER_SECOND,
  m: 60n * NANOS_PER_SECOND,
  h: 3_600n * NANOS_PER_SECOND,
  d: 86_400n * NANOS_PER_SECOND,
};

/** Go's time.Duration is an int64 of nanoseconds; anything longer does not exist there. */
const MAX_DURATION_NANOS = 2n ** 63n - 1n;

// µs is accepted as U+00B5 (micro sign) and U+03BC (Greek mu), as Go does;
// written as escapes so that the bundle stays ASCII (see scripts/build.mjs).
const WHOLE_DURATION = /^[+-]?(?:(?:\d+(?:\.\d*)?|\.\d+)(?:ns|us|\u00B5s|\u03BCs|ms|s|m|h|d))+$/;
const COMPONENT = /(\d*)(?:\.(\d*))?(ns|us|\u00B5s|\u03BCs|ms|s|m|h|d)/g;

/**
 * Parses a Go duration string (units ns, us, ms, s, m, h and d; fractions
 * allowed; `"0"` alone) into whole seconds, truncated towards zero as Vault
 * does. `undefined` when the text is not a duration or does not fit Go's
 * int64 nanoseconds.
 */
export function parseGoDurationSeconds(text: string): number | undefined {
  if (text === '0' || text === '+0' || text === '-0') return 0;
  if (!WHOLE_DURATION.test(text)) return undefined;
  const negative = text.startsWith('-');
  let total = 0n;
  for (const [, whole, fraction, unit] of text.matchAll(COMPONENT)) {
    const unitNanos = UNIT_NANOS[unit ?? ''];
    if (unitNanos === undefined) return undefined;
    total += BigInt(whole === undefined || whole === '' ? '0' : whole) * unitNanos;
    if (fraction !== undefined && fraction !== '') {
      total += (BigInt(fraction) * unitNanos) / 10n ** BigInt(fraction.length);
    }
    if (total > MAX_DURATION_NANOS) return undefined;
  }
  const seconds = Number(total / NANOS_PER_SECOND);
  return negative ? -seconds : seconds;
}

/**
 * Prints seconds the way Vault's lease warnings do (Go's Duration.String
 * without zero elements): 5400 → "1h30m", 3600 → "1h", 0 → "0s".
 */
export function formatDuration(seconds: number): string {
  if (seconds === 0) return '0s';
  const sign = seconds < 0 ? '-' : '';
  const abs = Math.abs(seconds);
  if (abs < 1) return `${sign}${trimNumber(abs * 1000)}ms`;
  const hours = Math.floor(abs / 3600);
  const minutes = Math.floor((abs % 3600) / 60);
  const rest = abs % 60;
  let out = sign;
  if (hours > 0) out += `${hours}h`;
  if (minutes > 0) out += `${minutes}m`;
  if (rest > 0) out += `${trimNumber(rest)}s`;
  return out;
}

/** Up to nine decimals (Go's nanosecond precision), without trailing zeros. */
function trimNumber(value: number): string {
  return String(Number(value.toFixed(9)));
}
