// Public surface of the PostgreSQL engine.
export { postgresBackendFactory, enginePaths, WAL_MIN_AGE_OPTION } from './backend';
export { Engine } from './engine';
