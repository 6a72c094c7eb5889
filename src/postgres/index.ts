// Public surface of the PostgreSQL engine.
//
// Layout: one folder per concept, and a concept's paths (`path-*.ts`) live
// in its folder, as Vault's database engine keeps path_roles.go with the
// role code:
//   sql/          lexing, splitting, templating and quoting statements; running
//                 them with retries; whose fault a refused statement is
//   connections/  connection configs (`config/`), DSNs, sslmode, transport,
//                 pools, verification, what the server is
//   users/        database users: names, passwords, creating, renewing and
//                 revoking them, `creds/` and its secret, user records, the
//                 sweep, `users/`, `reconcile/`
//   roles/        roles (`roles/`) and trying their statements at write time
//   rotation/     `rotate-root/`, `reset/`, static roles (`static-roles/`,
//                 `static-creds/`, `rotate-role/`), the rotation queue that
//                 runs static and root rotations on schedule, and the WAL
//                 rollback that repairs an interrupted rotation (and settles
//                 older versions' created-user entries)
// Here at the top only the assembly (backend.ts; engine.ts with its
// lease-limits.ts) and what several concepts share (cached-store.ts,
// stored-fields.ts, field-update.ts, and rotation-schedule.ts with cron.ts:
// when a password is rotated, for configs and static roles alike).
// A folder imports only the folders listed before it and the shared files
// here. Exceptions: engine.ts's Engine and roles/role.ts's Role are taken
// as types wherever needed, and config/ (connections/path-config.ts) checks
// a username_template with users/username.ts.
export { postgresBackendFactory, enginePaths, USER_SWEEP_GRACE_OPTION, WAL_MIN_AGE_OPTION } from './backend';
export { Engine } from './engine';
