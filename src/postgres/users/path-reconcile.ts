// `reconcile/<connection>`: the roles in a database that look like this
// connection's users but that no user record claims, and (dry_run=false)
// dropping them with the default revocation.

import { FORWARD_WRITES, genericNameRegex, type FieldData, type Path } from '../../framework';
import { errorResponse, type Request, type Response } from '../../vault';
import type { Engine } from '../engine';
import { refusedStatement } from '../sql/refused-statement';
import { revokeUser } from './revoke-user';
import { UsernameTemplateError } from './username';
import { describeDatabaseError } from '../connections/verify';
import { matchingRoles, usernamePattern } from './reconcile';

const RECONCILE_FIELDS = {
  name: { type: 'string', description: 'Name of the database connection (config/<name>).', required: true },
  pattern: {
    type: 'string',
    description:
      'LIKE pattern of the role names to consider (e.g. "v-%"). Empty: derived from the connection\'s username_template (its fixed beginning, then %).',
  },
  dry_run: {
    type: 'bool',
    description: 'Only list the unclaimed roles. false: also drop them, with the default revocation.',
    default: true,
  },
} as const;

/** The reconcile path. */
export function reconcilePaths(engine: Engine): Path[] {
  return [
    {
      pattern: `reconcile/${genericNameRegex('name')}`,
      fields: RECONCILE_FIELDS,
      operations: {
        update: {
          callback: (req, data) => reconcile(engine, req, data),
          summary: 'List (and with dry_run=false drop) the roles matching the pattern that no user record claims.',
          // Only the active node has every record (a standby's copy lags):
          // a dry run must list what dry_run=false would drop there.
          ...FORWARD_WRITES,
        },
      },
      helpSynopsis: 'Find roles in a database that look like this connection\'s users but that no record claims.',
      helpDescription: RECONCILE_HELP,
    },
  ];
}

async function reconcile(engine: Engine, req: Request, data: FieldData): Promise<Response> {
  const name = data.getString('name');
  const conn = await engine.connection(req.storage, name);
  if (!conn) return errorResponse(`connection "${name}" does not exist`);
  const given = data.getString('pattern');
  let pattern: string | undefined;
  try {
    pattern = given !== '' ? given : usernamePattern(engine.usernameTemplate(conn.config));
  } catch (err) {
    // A template stored before it was checked on write, which does not render.
    if (!(err instanceof UsernameTemplateError)) throw err;
    return errorResponse(`the username_template of connection "${name}" does not work (${err.message}); give a pattern (a LIKE pattern, e.g. pattern="app-%")`);
  }
  if (pattern === undefined) {
    return errorResponse(
      `the username_template of connection "${name}" does not start with fixed text, so no pattern can be derived from it; give one with pattern (a LIKE pattern, e.g. pattern="app-%")`,
    );
  }
  const dryRun = data.getBool('dry_run');

  // Roles first, claims second: a role that exists now had its record
  // written before CREATE ROLE, so the list read afterwards holds it.
  if (pattern.includes('\0')) return errorResponse('pattern cannot contain a NUL character');
  let candidates: string[];
  try {
    candidates = await matchingRoles(conn.pool, pattern, conn.config.username);
  } catch (err) {
    // e.g. a pattern that ends with LIKE's escape character (22025).
    if (!refusedStatement(err)) throw err;
    return errorResponse(`pattern ${JSON.stringify(pattern)} is not a usable LIKE pattern: ${describeDatabaseError(err)}`);
  }
  const claimed = new Set([...(await engine.users.usernames(req.storage)), ...engine.users.issuingNow()]);
  for (const [username] of engine.users.loadedIndex()?.entries() ?? []) claimed.add(username);
  const unclaimed = candidates.filter((r) => !claimed.has(r));

  const dropped: string[] = [];
  const errors: Record<string, string> = {};
  if (!dryRun) {
    for (const role of unclaimed) {
      try {
        await revokeUser(conn, role);
        dropped.push(role);
      } catch (err) {
        errors[role] = describeDatabaseError(err);
      }
    }
    engine.log.info({ config: name, pattern, dropped: dropped.length, failed: Object.keys(errors).length }, 'reconcile dropped unclaimed roles');
  }
  return { data: { dry_run: dryRun, pattern, unclaimed, dropped, errors } };
}

const RECONCILE_HELP = `
Lists the roles in the connection's database whose names match the
connection's username pattern and that no user record of this mount claims:
leftovers of crashes before this plugin kept records, of manual work, or of
Vault's own database engine.

  vault write pg/reconcile/main                      # dry run: only lists
  vault write pg/reconcile/main pattern='v-token-%'  # a LIKE pattern of your own
  vault write pg/reconcile/main dry_run=false        # drops what it lists

The pattern is the fixed beginning of the connection's username_template
followed by % (v-% for the default template); without one, give pattern.
Never listed: the connection's own user, superusers, roles with REPLICATION
and the built-in pg_* roles. dry_run=false drops each listed role with the
default revocation (sessions ended, objects handed to the connection user)
and reports what it dropped and, per role, what failed.

Warning: this mount knows only its own records. Roles that other mounts of
this plugin, or Vault's own database engine, create on the same database
with the same pattern look unclaimed here, although a lease elsewhere holds
them. Run the dry run first and read the list, or give a narrower pattern.
`.trim();
