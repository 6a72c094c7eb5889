// Public surface of the PostgreSQL engine.
export { postgresBackendFactory } from './backend';
