/** Throw-away PostgreSQL servers; shared with the demo in scripts/. */
export * from '../../scripts/lib/postgres';
