import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Broker } from '../../../src/goplugin/broker';
import { generateIdentity } from '../../../src/goplugin/certificate';
import { createLogger } from '../../../src/log';
import { Writable } from 'node:stream';

const silent = createLogger({ level: 'silent', destination: new Writable({ write: (_c, _e, cb) => cb() }) });
const tls = () => ({ identity: generateIdentity(), hostCertPem: generateIdentity().certPem });

describe('broker', () => {
  it('hands out an address announced before the dial', async () => {
    const broker = new Broker(tls(), silent, 200);
    broker.announce(1, { network: 'unix', address: '/tmp/a' });
    assert.deepEqual(await broker.address(1), { network: 'unix', address: '/tmp/a' });
  });

  it('waits for an address announced after the dial', async () => {
    const broker = new Broker(tls(), silent, 1000);
    const pending = broker.address(2);
    setTimeout(() => broker.announce(2, { network: 'unix', address: '/tmp/b' }), 20);
    assert.deepEqual(await pending, { network: 'unix', address: '/tmp/b' });
  });

  it('gives up after the broker timeout, and forgets unclaimed announcements', async () => {
    const broker = new Broker(tls(), silent, 50);
    await assert.rejects(broker.address(3), /timeout waiting for connection info for broker id 3/);
    broker.announce(4, { network: 'unix', address: '/tmp/c' });
    await new Promise((r) => setTimeout(r, 80));
    await assert.rejects(broker.address(4), /timeout/);
  });
});
