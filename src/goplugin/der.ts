/**
 * Minimal DER (ASN.1 Distinguished Encoding Rules) encoders.
 *
 * Only what an X.509 certificate builder needs. Every helper is a pure
 * function returning the complete TLV (tag, length, value) as a Buffer, so
 * structures are built by nesting calls. DER has exactly one valid encoding
 * per value; the comments note where that constrains the output.
 */

/** Universal tag numbers (X.680 §8.4) used below. */
const TAG = {
  BOOLEAN: 0x01,
  INTEGER: 0x02,
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  OID: 0x06,
  UTF8_STRING: 0x0c,
  PRINTABLE_STRING: 0x13,
  UTC_TIME: 0x17,
  GENERALIZED_TIME: 0x18,
  SEQUENCE: 0x30, // constructed bit (0x20) is always set for SEQUENCE
  SET: 0x31,
} as const;

/** Class bits for context-specific tags; 0x20 marks a constructed encoding. */
const CONTEXT_PRIMITIVE = 0x80;
const CONTEXT_CONSTRUCTED = 0xa0;
/** Tag numbers >= 31 need the multi-byte tag form, which nothing here uses. */
const MAX_LOW_TAG_NUMBER = 30;

/** Lengths below this fit in the single-byte short form. */
const SHORT_FORM_LIMIT = 0x80;

/** RFC 5280 §4.1.2.5: UTCTime covers exactly these years, GeneralizedTime the rest. */
const UTC_TIME_FIRST_YEAR = 1950;
const UTC_TIME_LAST_YEAR = 2049;

/**
 * Encodes a length octet sequence: short form below 128, otherwise 0x80|n
 * followed by the n-byte big-endian length with no leading zero bytes.
 */
export function encodeLength(length: number): Buffer {
  if (!Number.isSafeInteger(length) || length < 0) {
    throw new RangeError(`invalid DER length: ${length}`);
  }
  if (length < SHORT_FORM_LIMIT) return Buffer.from([length]);
  const bytes: number[] = [];
  for (let rest = length; rest > 0; rest = Math.floor(rest / 256)) {
    bytes.unshift(rest % 256);
  }
  return Buffer.from([SHORT_FORM_LIMIT | bytes.length, ...bytes]);
}

/** Wraps already-encoded content in a tag and length. */
export function tlv(tag: number, content: Buffer): Buffer {
  return Buffer.concat([Buffer.from([tag]), encodeLength(content.length), content]);
}

/** SEQUENCE of already-encoded elements, in the given order. */
export function sequence(...elements: Buffer[]): Buffer {
  return tlv(TAG.SEQUENCE, Buffer.concat(elements));
}

/**
 * SET OF already-encoded elements. DER requires SET OF members sorted by
 * their encodings; sorting here keeps callers from having to know that.
 */
export function set(...elements: Buffer[]): Buffer {
  const sorted = [...elements].sort(Buffer.compare);
  return tlv(TAG.SET, Buffer.concat(sorted));
}

/**
 * Non-negative INTEGER from big-endian unsigned magnitude bytes.
 *
 * Leading zero bytes are dropped (DER demands the minimal form), and one
 * 0x00 is prepended when the top bit is set, because INTEGER is two's
 * complement and would otherwise read as negative.
 */
export function integer(magnitude: Buffer): Buffer {
  let start = 0;
  while (start < magnitude.length - 1 && magnitude[start] === 0) start++;
  let content = magnitude.subarray(start);
  if (content.length === 0) content = Buffer.from([0]);
  const first = content[0] ?? 0;
  if (first & 0x80) content = Buffer.concat([Buffer.from([0]), content]);
  return tlv(TAG.INTEGER, content);
}

/** Small non-negative INTEGER, e.g. the certificate version. */
export function smallInteger(value: number): Buffer {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new RangeError(`smallInteger expects a non-negative safe integer, got ${value}`);
  }
  const bytes: number[] = [];
  for (let rest = value; rest > 0; rest = Math.floor(rest / 256)) bytes.unshift(rest % 256);
  return integer(Buffer.from(bytes));
}

/** Base-128 big-endian with the continuation bit on every byte but the last. */
function base128(value: bigint): number[] {
  const bytes = [Number(value & 0x7fn)];
  for (let rest = value >> 7n; rest > 0n; rest >>= 7n) {
    bytes.unshift(Number(rest & 0x7fn) | 0x80);
  }
  return bytes;
}

/**
 * OBJECT IDENTIFIER from dotted notation ("1.2.840.10045.2.1").
 * The first two arcs share one subidentifier (40 * first + second).
 * Arcs are parsed as bigint because some registered OIDs (UUID arcs)
 * exceed 2^53.
 */
export function oid(dotted: string): Buffer {
  const parts = dotted.split('.');
  if (parts.length < 2 || parts.some((p) => !/^\d+$/.test(p))) {
    throw new Error(`invalid OID: ${dotted}`);
  }
  const arcs = parts.map((p) => BigInt(p));
  const [first = 0n, second = 0n, ...rest] = arcs;
  if (first > 2n || (first < 2n && second > 39n)) {
    throw new Error(`invalid OID root arcs: ${dotted}`);
  }
  const bytes = [first * 40n + second, ...rest].flatMap(base128);
  return tlv(TAG.OID, Buffer.from(bytes));
}

/** UTF8String. */
export function utf8String(value: string): Buffer {
  return tlv(TAG.UTF8_STRING, Buffer.from(value, 'utf8'));
}

/** X.680 PrintableString alphabet. */
const PRINTABLE = /^[A-Za-z0-9 '()+,\-./:=?]*$/;

/**
 * PrintableString. Go's crypto/x509 encodes name attributes this way when
 * they fit the alphabet, so using it keeps our names byte-identical to Go's.
 */
export function printableString(value: string): Buffer {
  if (!PRINTABLE.test(value)) {
    throw new Error(`not a PrintableString: ${JSON.stringify(value)}`);
  }
  return tlv(TAG.PRINTABLE_STRING, Buffer.from(value, 'ascii'));
}

/**
 * BIT STRING. The first content byte counts the unused (zero) bits at the
 * end of the last byte; keys and signatures are whole bytes, so 0 by default.
 */
export function bitString(bytes: Buffer, unusedBits = 0): Buffer {
  if (!Number.isInteger(unusedBits) || unusedBits < 0 || unusedBits > 7) {
    throw new RangeError(`unusedBits must be 0..7, got ${unusedBits}`);
  }
  if (bytes.length === 0 && unusedBits !== 0) {
    throw new RangeError('an empty BIT STRING cannot have unused bits');
  }
  return tlv(TAG.BIT_STRING, Buffer.concat([Buffer.from([unusedBits]), bytes]));
}

/** OCTET STRING. */
export function octetString(bytes: Buffer): Buffer {
  return tlv(TAG.OCTET_STRING, bytes);
}

/** BOOLEAN; DER fixes TRUE as 0xFF (BER would accept any non-zero byte). */
export function boolean(value: boolean): Buffer {
  return tlv(TAG.BOOLEAN, Buffer.from([value ? 0xff : 0x00]));
}

function checkTagNumber(tag: number): void {
  if (!Number.isInteger(tag) || tag < 0 || tag > MAX_LOW_TAG_NUMBER) {
    throw new RangeError(`context tag must be 0..${MAX_LOW_TAG_NUMBER}, got ${tag}`);
  }
}

/** [tag] EXPLICIT: a constructed context-specific wrapper around one element. */
export function contextExplicit(tag: number, inner: Buffer): Buffer {
  checkTagNumber(tag);
  return tlv(CONTEXT_CONSTRUCTED | tag, inner);
}

/**
 * [tag] IMPLICIT for a primitive type: the context tag replaces the
 * universal one, so only the raw content is passed (e.g. GeneralName
 * dNSName is [2] IMPLICIT IA5String).
 */
export function contextPrimitive(tag: number, content: Buffer): Buffer {
  checkTagNumber(tag);
  return tlv(CONTEXT_PRIMITIVE | tag, content);
}

function pad(value: number, width: number): string {
  return String(value).padStart(width, '0');
}

/** MMDDHHMMSSZ in UTC; RFC 5280 requires seconds, 'Z', and no fractions. */
function monthToSecond(date: Date): string {
  return (
    pad(date.getUTCMonth() + 1, 2) +
    pad(date.getUTCDate(), 2) +
    pad(date.getUTCHours(), 2) +
    pad(date.getUTCMinutes(), 2) +
    pad(date.getUTCSeconds(), 2) +
    'Z'
  );
}

function checkDate(date: Date): void {
  if (Number.isNaN(date.getTime())) throw new RangeError('invalid Date');
}

/** UTCTime (YYMMDDHHMMSSZ); only valid for 1950–2049 per RFC 5280. */
export function utcTime(date: Date): Buffer {
  checkDate(date);
  const year = date.getUTCFullYear();
  if (year < UTC_TIME_FIRST_YEAR || year > UTC_TIME_LAST_YEAR) {
    throw new RangeError(`UTCTime cannot represent year ${year}`);
  }
  return tlv(TAG.UTC_TIME, Buffer.from(pad(year % 100, 2) + monthToSecond(date), 'ascii'));
}

/** GeneralizedTime (YYYYMMDDHHMMSSZ), whole seconds only. */
export function generalizedTime(date: Date): Buffer {
  checkDate(date);
  const year = date.getUTCFullYear();
  if (year < 0 || year > 9999) {
    throw new RangeError(`GeneralizedTime cannot represent year ${year}`);
  }
  return tlv(TAG.GENERALIZED_TIME, Buffer.from(pad(year, 4) + monthToSecond(date), 'ascii'));
}

/**
 * X.509 Time: RFC 5280 §4.1.2.5 mandates UTCTime through 2049 and
 * GeneralizedTime from 2050, so verifiers reject the other choice.
 * Milliseconds are truncated.
 */
export function time(date: Date): Buffer {
  checkDate(date);
  const year = date.getUTCFullYear();
  return year >= UTC_TIME_FIRST_YEAR && year <= UTC_TIME_LAST_YEAR
    ? utcTime(date)
    : generalizedTime(date);
}
