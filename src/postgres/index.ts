// Public surface of the PostgreSQL engine.
export { postgresBackendFactory, enginePaths, USER_SWEEP_GRACE_OPTION, WAL_MIN_AGE_OPTION } from './backend';
export { Engine } from './engine';
