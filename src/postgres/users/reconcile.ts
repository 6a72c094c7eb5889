// Reconciling a database with the mount's records: the roles in it that
// look like this connection's users (their names match the connection's
// username pattern, or a LIKE pattern the operator gives) but that no
// record claims. Leftovers of crashes before records existed, or of Vault's
// own database engine, show up here; they are dropped only when asked.
//
// Never listed, whatever the pattern: the connection's own user, superusers,
// roles with REPLICATION and the built-in pg_* roles.

import type { Pool } from 'pg';
import { runQuery } from '../sql/query';
import type { UsernameTemplate } from './username';

/**
 * Renders of a template that differ in everything a template can draw on:
 * display and role names with a different first letter each, and two
 * instants that differ in the first character of every date and time field
 * (year, month number and name, day, 12- and 24-hour clock, minute, second,
 * fraction, AM/PM, weekday, Unix time). Random parts differ with high
 * probability across eight renders.
 */
const PROBES: ReadonlyArray<{ displayName: string; roleName: string; now: Date }> = [
  ['alpha', 'india'],
  ['bravo', 'juliet'],
  ['charlie', 'kilo'],
  ['delta', 'lima'],
  ['echo', 'mike'],
  ['foxtrot', 'november'],
  ['golf', 'oscar'],
  ['hotel', 'papa'],
].map(([displayName = '', roleName = ''], i) => ({
  displayName,
  roleName,
  now: i % 2 === 0 ? new Date(Date.UTC(1987, 10, 22, 22, 47, 38, 618)) : new Date(Date.UTC(2064, 2, 5, 3, 5, 9, 204)),
}));

/**
 * The fixed text every username of `template` starts with: the common
 * prefix of renders that differ in every input. Empty when the template
 * starts with a value.
 */
export function templatePrefix(template: UsernameTemplate): string {
  const renders = PROBES.map(({ displayName, roleName, now }) => [...template.render({ displayName, roleName }, now)]);
  const first = renders[0] ?? [];
  let length = 0;
  while (length < first.length && renders.every((r) => r[length] === first[length])) length++;
  return first.slice(0, length).join('');
}

/** `text` as a LIKE pattern that matches exactly it (backslash is LIKE's default escape). */
export function likeEscape(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}

/** The LIKE pattern of a template's usernames, or undefined when it has no fixed beginning. */
export function usernamePattern(template: UsernameTemplate): string | undefined {
  const prefix = templatePrefix(template);
  return prefix === '' ? undefined : `${likeEscape(prefix)}%`;
}

/**
 * Roles matching `pattern` that may be reconciled: not a superuser, without
 * REPLICATION, not a pg_* role, and not the connection's own user (the
 * session's, or `connectionUser` when the URL logs in as someone else).
 */
export async function matchingRoles(pool: Pool, pattern: string, connectionUser: string): Promise<string[]> {
  const res = await runQuery<{ rolname: string }>(
    pool,
    `SELECT rolname FROM pg_roles
      WHERE rolname LIKE $1
        AND NOT rolsuper AND NOT rolreplication
        AND left(rolname, 3) <> 'pg_'
        AND rolname NOT IN (current_user, session_user, $2)
      ORDER BY rolname`,
    [pattern, connectionUser],
  );
  return res.rows.map((r) => r.rolname);
}
