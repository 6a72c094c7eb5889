import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pb } from '../../../src/gen/backend';
import {
  decodeRequest,
  encodeError,
  encodeResponse,
  fromTimestamp,
  nsToSeconds,
  parseJsonObject,
  secondsToNs,
  toTimestamp,
} from '../../../src/vault/codec';
import { ErrorKind, GO_ZERO_TIME, VaultError, invalidRequest, unsupportedPath } from '../../../src/vault';
import { InmemStorage, StaticSystemView } from '../../helpers/fakes';

const ctx = () => ({ storage: new InmemStorage(), systemView: new StaticSystemView(), signal: new AbortController().signal });

describe('codec', () => {
  it('converts durations between seconds and Go nanoseconds', () => {
    assert.equal(secondsToNs(3600), 3_600_000_000_000);
    assert.equal(nsToSeconds(3_600_000_000_000), 3600);
    assert.equal(secondsToNs(0.5), 500_000_000);
  });

  it('round-trips timestamps and maps a missing one to Go zero time', () => {
    const d = new Date('2026-01-02T03:04:05.678Z');
    const ts = toTimestamp(d);
    assert.equal(ts.seconds, Math.floor(d.getTime() / 1000));
    assert.equal(ts.nanos, 678_000_000);
    assert.equal(fromTimestamp(ts).getTime(), d.getTime());
    assert.equal(fromTimestamp(undefined).getTime(), GO_ZERO_TIME.getTime());
    assert.equal(toTimestamp(GO_ZERO_TIME).seconds, -62135596800);
  });

  it('parses request data: null and empty are {}, non-objects are rejected', () => {
    assert.deepEqual(parseJsonObject('null', 'd'), {});
    assert.deepEqual(parseJsonObject('', 'd'), {});
    assert.deepEqual(parseJsonObject('{"a":1}', 'd'), { a: 1 });
    assert.throws(() => parseJsonObject('[1]', 'd'), (e: VaultError) => e.kind === ErrorKind.InvalidRequest);
    assert.throws(() => parseJsonObject('{', 'd'), (e: VaultError) => e.kind === ErrorKind.InvalidRequest);
  });

  it('decodes a renew request with its secret', () => {
    const req = new pb.Request({
      operation: 'renew',
      path: 'creds/app',
      data: 'null',
      mount_point: 'pg/',
      secret: new pb.Secret({
        internal_data: '{"secret_type":"creds","username":"v-x"}',
        lease_options: new pb.LeaseOptions({ TTL: 60e9, increment: 30e9, renewable: true, issue_time: toTimestamp(new Date(1000)) }),
      }),
    });
    const decoded = decodeRequest(req, ctx());
    assert.equal(decoded.operation, 'renew');
    assert.deepEqual(decoded.data, {});
    assert.equal(decoded.secret?.leaseOptions.ttl, 60);
    assert.equal(decoded.secret?.leaseOptions.increment, 30);
    assert.equal(decoded.secret?.leaseOptions.issueTime.getTime(), 1000);
    assert.deepEqual(decoded.secret?.internalData, { secret_type: 'creds', username: 'v-x' });
  });

  it('encodes responses: absent stays absent, data is always JSON, leases carry issue_time', () => {
    assert.equal(encodeResponse(undefined), undefined);
    assert.equal(encodeResponse({})?.data, 'null');
    const resp = encodeResponse({
      data: { username: 'u' },
      warnings: ['w'],
      secret: { leaseId: '', internalData: {}, leaseOptions: { ttl: 10, maxTtl: 20, renewable: true, increment: 0, issueTime: new Date(5000) } },
    });
    assert.equal(resp?.data, '{"username":"u"}');
    assert.deepEqual(resp?.warnings, ['w']);
    assert.equal(resp?.secret.internal_data, '{}');
    assert.equal(resp?.secret.lease_options.TTL, 10e9);
    assert.equal(resp?.secret.lease_options.MaxTTL, 20e9);
    assert.equal(resp?.secret.lease_options.has_issue_time, true);
    assert.equal(resp?.secret.lease_options.issue_time.seconds, 5);
    // The bytes survive a wire round trip.
    const back = pb.Response.deserialize(resp?.serialize() ?? new Uint8Array());
    assert.equal(back.secret.lease_options.issue_time.seconds, 5);
  });

  it('encodes errors with their Vault kind and keeps the error response', () => {
    assert.equal(encodeError(unsupportedPath()).error.err_type, ErrorKind.UnsupportedPath);
    const invalid = encodeError(invalidRequest('field "x" is bad'));
    assert.equal(invalid.error.err_type, ErrorKind.InvalidRequest);
    assert.deepEqual(invalid.response?.data, { error: 'field "x" is bad' });
    const plain = encodeError(new Error('boom'));
    assert.equal(plain.error.err_type, ErrorKind.Unknown);
    assert.equal(plain.error.err_msg, 'boom');
    const coded = encodeError(new VaultError(ErrorKind.CodedError, 'busy', { code: 503 }));
    assert.equal(coded.error.err_code, 503);
  });
});
