/**
 * Pool settings derived from a connection config that Node or pg-pool
 * would misread: values are held to what they can take.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeConfig } from '../../../src/postgres/connections/connection-config';
import { poolConfig } from '../../../src/postgres/engine';

describe('pool settings from a config', () => {
  it('a max_connection_lifetime beyond Node\'s longest timer is held to it, not turned into "end every connection at once"', () => {
    const config = (seconds: number) => ({ ...decodeConfig(Buffer.from('{}')), connectionUrl: 'postgresql://h/db', maxConnectionLifetime: seconds });
    assert.equal(poolConfig(config(3600)).maxLifetimeSeconds, 3600);
    assert.equal(poolConfig(config(0)).maxLifetimeSeconds, 0);
    assert.equal(poolConfig(config(2 ** 50)).maxLifetimeSeconds, 2_147_483);
  });
});
