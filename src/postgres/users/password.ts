// Generated passwords and the SCRAM-SHA-256 verifiers PostgreSQL stores for them.
//
// The alphabet is letters, digits, "-" and "_" (the base64url alphabet, 6 bits
// a character). Those two symbols are unreserved in URLs (RFC 3986), so the
// password can go into a postgresql:// connection string without
// percent-encoding; they are not special to POSIX shells, to libpq's
// key=value syntax, to .pgpass (":" and "\" are) or inside SQL string
// literals (quotes are). Symbols such as $ ! & ' " \ : @ / % # ? would each
// break at least one of those. Leaving out the other symbols costs little:
// a 24-character password still carries more than 130 bits.

import { createHash, createHmac, pbkdf2, randomBytes, randomInt } from 'node:crypto';
import { promisify } from 'node:util';
import type { PasswordAuthentication } from '../connections/connection-config';

/** Length of generated passwords when none is given. */
export const DEFAULT_PASSWORD_LENGTH = 24;

const UPPER = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
const LOWER = 'abcdefghijklmnopqrstuvwxyz';
const DIGITS = '0123456789';
const SYMBOLS = '-_';
/** Each class appears at least once in every generated password. */
const CHARACTER_CLASSES = [UPPER, LOWER, DIGITS, SYMBOLS] as const;
const ALPHABET = CHARACTER_CLASSES.join('');
/** Shortest password that can hold one character of each class. */
const MIN_PASSWORD_LENGTH = CHARACTER_CLASSES.length;
/** Longest password we generate; far beyond any real need, it bounds the work per call. */
const MAX_PASSWORD_LENGTH = 1024;

/** A uniformly random character of `chars`; randomInt uses rejection sampling, so there is no modulo bias. */
function pick(chars: string): string {
  return chars.charAt(randomInt(chars.length));
}

/**
 * A random password of `length` characters from A–Z, a–z, 0–9, "-" and "_",
 * from the CSPRNG, with at least one character of each of those four classes
 * at random positions (so policies that demand every class accept it).
 *
 * @throws RangeError if length is not an integer between 4 and 1024.
 */
export function generatePassword(length: number = DEFAULT_PASSWORD_LENGTH): string {
  if (!Number.isInteger(length) || length < MIN_PASSWORD_LENGTH || length > MAX_PASSWORD_LENGTH) {
    throw new RangeError(`password length must be an integer from ${MIN_PASSWORD_LENGTH} to ${MAX_PASSWORD_LENGTH}, got ${length}`);
  }
  const chars = Array.from({ length }, () => pick(ALPHABET));

  // Choose distinct positions for the guaranteed characters with a partial
  // Fisher–Yates shuffle of the indices, then overwrite them: each class lands
  // anywhere in the password, not always at the front.
  const positions = Array.from({ length }, (_, i) => i);
  CHARACTER_CLASSES.forEach((charClass, k) => {
    const j = k + randomInt(length - k);
    const chosen = positions[j] ?? j;
    positions[j] = positions[k] ?? k;
    positions[k] = chosen;
    chars[chosen] = pick(charClass);
  });
  return chars.join('');
}

// ---------------------------------------------------------------------------
// SCRAM-SHA-256 (RFC 5802, RFC 7677), in PostgreSQL's storage format
// ---------------------------------------------------------------------------

/** PostgreSQL's default scram_iterations (and the only value before PostgreSQL 16). */
const DEFAULT_SCRAM_ITERATIONS = 4096;
/** PostgreSQL's SCRAM_DEFAULT_SALT_LEN. */
const SCRAM_SALT_BYTES = 16;
/** SHA-256 output size: the length of SaltedPassword. */
const SHA256_BYTES = 32;
/** PostgreSQL stores iteration counts as a C int. */
const MAX_SCRAM_ITERATIONS = 2 ** 31 - 1;

const pbkdf2Async = promisify(pbkdf2);

// RFC 3454 tables used by SASLprep (RFC 4013): non-ASCII spaces (C.1.2) map to
// U+0020, and "commonly mapped to nothing" characters (B.1) are removed.
const NON_ASCII_SPACES = /[\u00A0\u1680\u2000-\u200B\u202F\u205F\u3000]/g;
const MAPPED_TO_NOTHING = /[\u00AD\u034F\u1806\u180B-\u180D\u200B-\u200D\u2060\uFE00-\uFE0F\uFEFF]/g;
const NON_ASCII = /[^\x00-\x7F]/;

/**
 * An approximation of PostgreSQL's SASLprep (pg_saslprep). ASCII passwords
 * are used as they are, exactly as PostgreSQL does. Otherwise we apply
 * SASLprep's mapping step and NFKC normalisation; what we skip is the check
 * for prohibited and unassigned characters and bidirectional text, on which
 * PostgreSQL falls back to the raw password. Such passwords would get a
 * verifier that does not match what the client computes, so logins fail
 * (never succeed wrongly). Our own generated passwords are always ASCII.
 */
function saslPrep(password: string): string {
  if (!NON_ASCII.test(password)) return password;
  // U+200B is in both tables; PostgreSQL checks the space table first, so it becomes a space.
  return password.replace(NON_ASCII_SPACES, ' ').replace(MAPPED_TO_NOTHING, '').normalize('NFKC');
}

const hmac = (key: Buffer, message: string): Buffer => createHmac('sha256', key).update(message, 'utf8').digest();

/**
 * A SCRAM-SHA-256 verifier as PostgreSQL stores it:
 * SCRAM-SHA-256$<iterations>:<salt b64>$<StoredKey b64>:<ServerKey b64>.
 * Sending this in CREATE/ALTER ROLE … PASSWORD keeps the cleartext password
 * out of the server, its logs and pg_stat_statements.
 *
 * PBKDF2 runs through the async crypto.pbkdf2, i.e. on libuv's thread pool,
 * so the 4096 HMAC rounds do not block the event loop.
 *
 * @param options.iterations PBKDF2 iterations; default 4096, PostgreSQL's default scram_iterations.
 * @param options.salt the salt; default 16 random bytes, as PostgreSQL generates.
 * @throws Error for an empty password: PostgreSQL refuses empty passwords
 *   in cleartext, and a verifier would slip past that check.
 * @throws RangeError for an invalid iteration count or an empty salt.
 */
export async function scramSha256Verifier(password: string, options: { iterations?: number; salt?: Buffer } = {}): Promise<string> {
  const iterations = options.iterations ?? DEFAULT_SCRAM_ITERATIONS;
  if (!Number.isInteger(iterations) || iterations < 1 || iterations > MAX_SCRAM_ITERATIONS) {
    throw new RangeError(`SCRAM iterations must be an integer from 1 to ${MAX_SCRAM_ITERATIONS}, got ${iterations}`);
  }
  const salt = options.salt ?? randomBytes(SCRAM_SALT_BYTES);
  if (salt.length === 0) throw new RangeError('SCRAM salt must not be empty');
  if (password === '') throw new Error('refusing to build a SCRAM verifier for an empty password');

  const saltedPassword = await pbkdf2Async(Buffer.from(saslPrep(password), 'utf8'), salt, iterations, SHA256_BYTES, 'sha256');
  const clientKey = hmac(saltedPassword, 'Client Key');
  const storedKey = createHash('sha256').update(clientKey).digest();
  const serverKey = hmac(saltedPassword, 'Server Key');
  return `SCRAM-SHA-256$${iterations}:${salt.toString('base64')}$${storedKey.toString('base64')}:${serverKey.toString('base64')}`;
}

/**
 * What goes into the statements' {{password}} for a connection's
 * password_authentication: a SCRAM-SHA-256 verifier under 'scram-sha-256'
 * (the default), the cleartext `password` under 'password'.
 *
 * @param iterations the verifier's PBKDF2 iterations: the scram_iterations
 *   PostgreSQL would hash the cleartext with (ServerFacts); default 4096.
 */
export async function passwordValue(password: string, authentication: PasswordAuthentication, iterations?: number): Promise<string> {
  if (authentication !== 'scram-sha-256') return password;
  return scramSha256Verifier(password, iterations === undefined ? {} : { iterations });
}
