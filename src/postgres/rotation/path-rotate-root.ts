// `rotate-root/:name` and `reset/:name`.
//
// rotate-root gives the connection's root user a new password only Vault
// knows (rotate-root.ts; the same rotation runs on the config's
// rotation_period or rotation_schedule, queue.ts). Rotating resets that
// schedule: the next automated rotation is one period (or the next
// scheduled time) after this one.

import { FORWARD_WRITES, genericNameRegex, type FieldData, type Path } from '../../framework';
import { errorResponse, type Request, type Response } from '../../vault';
import type { Engine } from '../engine';
import { rotateRootPassword } from './rotate-root';

const NAME_FIELD = { name: { type: 'string', description: 'Name of the database connection.', required: true } } as const;

/** The rotate-root and reset paths. */
export function rootPaths(engine: Engine): Path[] {
  return [
    {
      pattern: `rotate-root/${genericNameRegex('name')}`,
      fields: NAME_FIELD,
      operations: {
        update: { callback: (req, data) => rotateRoot(engine, req, data), summary: "Rotate the connection's root password.", ...FORWARD_WRITES },
      },
      helpSynopsis: "Give the connection's root user a new password that only Vault knows.",
      helpDescription: ROTATE_HELP,
    },
    {
      pattern: `reset/${genericNameRegex('name')}`,
      fields: NAME_FIELD,
      // Writes nothing, but the pool an operator means is the active node's.
      operations: { update: { callback: (req, data) => reset(engine, req, data), summary: 'Close and reopen the connection pool.', ...FORWARD_WRITES } },
      helpSynopsis: 'Close the connection pool of a connection; the next request reopens it from the stored config.',
      helpDescription:
        'Closes every pooled connection of the named connection and forgets the cached config. Use it after changing something outside Vault (certificates, network) that open connections still hold.',
    },
  ];
}

async function rotateRoot(engine: Engine, req: Request, data: FieldData): Promise<Response | undefined> {
  const name = data.getString('name');
  const outcome = await engine.rotations.withRootLock(name, async () => {
    const problem = await rotateRootPassword(engine, req.storage, req.systemView, name);
    if (problem === undefined) await engine.rotations.rootRotated(req.storage, name);
    return problem;
  });
  return outcome === undefined ? undefined : errorResponse(outcome);
}

async function reset(engine: Engine, req: Request, data: FieldData): Promise<Response | undefined> {
  const name = data.getString('name');
  engine.configs.invalidate(`config/${name}`);
  if (!(await engine.configs.get(req.storage, name))) return errorResponse(`connection "${name}" does not exist`);
  await engine.pools.close(name);
  return undefined;
}

const ROTATE_HELP = `
Generates a new password for the connection's root user (the username
field), sets it in PostgreSQL with root_rotation_statements (default:
ALTER ROLE … WITH PASSWORD, as a SCRAM verifier under scram-sha-256), and
stores it in the config. Afterwards only Vault knows the root password.

  vault write -f pg/rotate-root/main

The connection_url must use {{password}}, not a literal password.
`.trim();
