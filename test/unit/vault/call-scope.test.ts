import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { describe, it } from 'node:test';
import { callScope } from '../../../src/vault/call-scope';

/** Just enough of a grpc-js server call. */
function fakeCall(deadline: Date | number) {
  const emitter = new EventEmitter();
  return Object.assign(emitter, { getDeadline: () => deadline });
}

describe('call scope', () => {
  it('aborts when Vault cancels the call', () => {
    const call = fakeCall(Infinity);
    const scope = callScope(call);
    call.emit('cancelled');
    assert.equal(scope.signal.aborted, true);
    scope.end();
  });

  it('aborts when the deadline passes', async () => {
    const scope = callScope(fakeCall(new Date(Date.now() + 20)));
    await new Promise((r) => setTimeout(r, 60));
    assert.equal(scope.signal.aborted, true);
    assert.match(String(scope.signal.reason), /deadline/);
    scope.end();
  });

  it('lets go of the call once the handler ended: no listener, no timer, no abort', async () => {
    const call = fakeCall(new Date(Date.now() + 20));
    const scope = callScope(call);
    scope.end();
    assert.equal(call.listenerCount('cancelled'), 0);
    call.emit('cancelled');
    await new Promise((r) => setTimeout(r, 60));
    assert.equal(scope.signal.aborted, false, 'a finished request is not aborted later');
  });
});
