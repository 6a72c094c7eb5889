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
