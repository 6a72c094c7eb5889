/**
 * Forwarding by replication state, as sdk/framework does it for operations
 * marked ForwardPerformanceStandby / ForwardPerformanceSecondary: Vault's
 * read-only error before validation and before the handler, so that Vault
 * sends the request to the node that can write.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FORWARD_WRITES, FrameworkBackend, REPLICATION_STATE, storageReadOnly, type Path } from '../../../src/framework';
import { ErrorKind, READ_ONLY_MESSAGE, ReadOnlyError, VaultError, type Operation } from '../../../src/vault';
import { StaticSystemView, testRequest } from '../../helpers/fakes';

/** A system view that counts replicationState() calls. */
class CountingSystemView extends StaticSystemView {
  asked = 0;
  override async replicationState(): Promise<number> {
    this.asked++;
    return super.replicationState();
  }
}

function backendWith(calls: string[]): FrameworkBackend {
  const handler = (label: string) => async () => {
    calls.push(label);
    return { data: { handled: label } };
  };
  const path: Path = {
    pattern: 'things/(?<name>\\w+)',
    fields: { name: { type: 'string', description: 'Name.' }, size: { type: 'int', description: 'Size.' } },
    operations: {
      read: handler('read'),
      update: { callback: handler('update'), ...FORWARD_WRITES },
      delete: { callback: handler('delete'), forwardPerformanceStandby: true },
    },
    helpSynopsis: 'Things.',
    helpDescription: 'Things.',
  };
  return new FrameworkBackend({ help: 'test', paths: [path], periodic: async () => void calls.push('periodic') });
}

describe('forwarding by replication state', () => {
  it("uses Vault's ReplicationState bits (sdk/helper/consts/replication.go)", () => {
    // ReplicationPerformancePrimary is 1 << 5 (asserted by Vault's init()); the rest follow in order.
    assert.equal(REPLICATION_STATE.performanceSecondary, 64);
    assert.equal(REPLICATION_STATE.drSecondary, 512);
    assert.equal(REPLICATION_STATE.performanceStandby, 16384);
  });

  it('a marked operation on a performance standby: read-only error before validation and handler', async () => {
    const calls: string[] = [];
    const backend = backendWith(calls);
    const systemView = new StaticSystemView({ replicationState: REPLICATION_STATE.performanceStandby });
    const call = (operation: Operation, data: Record<string, unknown> = {}) =>
      backend.handleRequest(testRequest({ operation, path: 'things/a', data, systemView }));
    for (const [operation, data] of [['update', { size: 1 }], ['update', { size: 'not a number', bogus: 1 }], ['delete', {}]] as const) {
      await assert.rejects(call(operation, data), (err: unknown) => {
        assert.ok(err instanceof ReadOnlyError);
        assert.equal(err.kind, ErrorKind.Unknown);
        assert.equal(err.message, READ_ONLY_MESSAGE);
        return true;
      });
    }
    assert.deepEqual(await call('read'), { data: { handled: 'read' } }, 'unmarked operations run on the standby');
    assert.deepEqual(calls, ['read']);
  });

  it('on a performance secondary only operations marked for it are forwarded, and not for a local mount', async () => {
    const calls: string[] = [];
    const backend = backendWith(calls);
    const systemView = new StaticSystemView({ replicationState: REPLICATION_STATE.performanceSecondary });
    const call = (operation: Operation) => backend.handleRequest(testRequest({ operation, path: 'things/a', systemView }));
    await assert.rejects(call('update'), ReadOnlyError);
    assert.deepEqual(await call('delete'), { data: { handled: 'delete' } }, 'marked for standbys only');
    systemView.isLocalMount = true;
    assert.deepEqual(await call('update'), { data: { handled: 'update' } });
    assert.deepEqual(calls, ['delete', 'update']);
  });

  it('an active node handles everything; the system view is asked only for marked operations', async () => {
    const calls: string[] = [];
    const backend = backendWith(calls);
    const systemView = new CountingSystemView();
    await backend.handleRequest(testRequest({ operation: 'read', path: 'things/a', systemView }));
    assert.equal(systemView.asked, 0);
    await backend.handleRequest(testRequest({ operation: 'update', path: 'things/a', systemView }));
    assert.equal(systemView.asked, 1);
    await assert.rejects(backend.handleRequest(testRequest({ operation: 'update', path: 'things/a', data: { bogus: 1 }, systemView })), VaultError);
    assert.deepEqual(calls, ['read', 'update']);
  });

  it('rollback does nothing where storage is read-only', async () => {
    const calls: string[] = [];
    const backend = backendWith(calls);
    for (const state of [REPLICATION_STATE.performanceStandby, REPLICATION_STATE.drSecondary, REPLICATION_STATE.performanceSecondary]) {
      const systemView = new StaticSystemView({ replicationState: state });
      assert.equal(await storageReadOnly(systemView), true);
      assert.equal(await backend.handleRequest(testRequest({ operation: 'rollback', path: '', systemView })), undefined);
    }
    assert.deepEqual(calls, []);
    const local = new StaticSystemView({ replicationState: REPLICATION_STATE.performanceSecondary, localMount: true });
    assert.equal(await storageReadOnly(local), false);
    await backend.handleRequest(testRequest({ operation: 'rollback', path: '', systemView: local }));
    assert.deepEqual(calls, ['periodic']);
  });
});
