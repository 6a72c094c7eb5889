/** A short-lived PostgreSQL connection for test assertions. */
import { Client, type ClientConfig } from 'pg';

/** Runs `fn` with a connected client and always closes it. */
export async function withPgClient<T>(config: ClientConfig | string, fn: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client(config);
  client.on('error', () => undefined);
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/**
 * True when `password` logs in as `user` on the server at 127.0.0.1:`port`
 * (database postgres); false when PostgreSQL refuses that password (28P01).
 * Any other failure is thrown.
 */
export async function logsInAs(port: number, user: string, password: string): Promise<boolean> {
  try {
    await withPgClient({ host: '127.0.0.1', port, database: 'postgres', user, password }, (client) => client.query('SELECT 1'));
    return true;
  } catch (err) {
    if ((err as { code?: string }).code === '28P01') return false;
    throw err;
  }
}
