import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorKind, VaultError } from '../../../src/vault';
import type { Operation, Request, Secret } from '../../../src/vault';
import { FrameworkBackend, SECRET_TYPE_KEY, secretResponse } from '../../../src/framework';
import type { SecretType } from '../../../src/framework';
import { testRequest } from '../../helpers/fakes';

const NOW = new Date('2024-05-01T12:00:00Z');

function creds(calls: string[]): SecretType {
  return {
    type: 'creds',
    fields: { username: { type: 'string', description: 'Database user.' } },
    defaultDuration: 3600,
    renew: async (req, data) => {
      calls.push(`renew ${data.getString('username')}`);
      return { secret: req.secret };
    },
    revoke: async (req) => {
      calls.push(`revoke ${String(req.secret?.internalData['username'])}`);
      return undefined;
    },
  };
}

const REVOKE_ONLY: SecretType = { type: 'static', revoke: async () => undefined };
const NO_HANDLERS: SecretType = { type: 'bare' };

function leaseRequest(operation: Operation, internalData: Record<string, unknown>): Request {
  const secret: Secret = {
    leaseOptions: { ttl: 3600, maxTtl: 0, renewable: true, increment: 0, issueTime: NOW },
    internalData,
    leaseId: '',
  };
  return testRequest({ operation, path: 'creds/ro', data: { username: 'v-ro-1' }, secret });
}

function backend(calls: string[] = []): FrameworkBackend {
  return new FrameworkBackend({ help: '', paths: [], secrets: [creds(calls), REVOKE_ONLY, NO_HANDLERS] });
}

test('secretResponse adds secret_type and lease options', () => {
  const resp = secretResponse(creds([]), { username: 'u', password: 'p' }, { username: 'u', role: 'ro' }, {}, NOW);
  assert.deepEqual(resp, {
    data: { username: 'u', password: 'p' },
    secret: {
      leaseOptions: { ttl: 3600, maxTtl: 0, renewable: true, increment: 0, issueTime: NOW },
      internalData: { username: 'u', role: 'ro', secret_type: 'creds' },
      leaseId: '',
    },
  });
  assert.equal(SECRET_TYPE_KEY, 'secret_type');
});

test('secretResponse: explicit lease wins; no renew handler means not renewable', () => {
  const resp = secretResponse(REVOKE_ONLY, {}, { secret_type: 'spoofed' }, { ttl: 60, maxTtl: 120 });
  assert.equal(resp.secret?.leaseOptions.ttl, 60);
  assert.equal(resp.secret?.leaseOptions.maxTtl, 120);
  assert.equal(resp.secret?.leaseOptions.renewable, false);
  assert.equal(resp.secret?.internalData['secret_type'], 'static');
  assert.ok(resp.secret?.leaseOptions.issueTime instanceof Date);
});

test('renew and revoke dispatch on secret_type and get the lease data as fields', async () => {
  const calls: string[] = [];
  const b = backend(calls);
  const renewed = await b.handleRequest(leaseRequest('renew', { secret_type: 'creds', username: 'v-ro-1' }));
  assert.equal(renewed?.secret?.internalData['secret_type'], 'creds');
  assert.equal(await b.handleRequest(leaseRequest('revoke', { secret_type: 'creds', username: 'v-ro-1' })), undefined);
  assert.deepEqual(calls, ['renew v-ro-1', 'revoke v-ro-1']);
});

const UNSUPPORTED: ReadonlyArray<[string, Record<string, unknown>]> = [
  ['missing', { username: 'x' }],
  ['not a string', { secret_type: 5 }],
  ['unknown', { secret_type: 'other' }],
];

const LEASE_OPERATIONS: readonly Operation[] = ['renew', 'revoke'];

for (const [label, internalData] of UNSUPPORTED) {
  for (const op of LEASE_OPERATIONS) {
    test(`${op} with ${label} secret_type → "secret is unsupported by this backend"`, async () => {
      const resp = await backend().handleRequest(leaseRequest(op, internalData));
      assert.deepEqual(resp, { data: { error: 'secret is unsupported by this backend' } });
    });
  }
}

test('renew of a type without renew handler → UnsupportedOperation', async () => {
  await assert.rejects(
    backend().handleRequest(leaseRequest('renew', { secret_type: 'static' })),
    (err: unknown) => err instanceof VaultError && err.kind === ErrorKind.UnsupportedOperation,
  );
});

test('revoke of a type without revoke handler → UnsupportedOperation', async () => {
  await assert.rejects(
    backend().handleRequest(leaseRequest('revoke', { secret_type: 'bare' })),
    (err: unknown) => err instanceof VaultError && err.kind === ErrorKind.UnsupportedOperation,
  );
});

test('revoke without a secret is an invalid request', async () => {
  await assert.rejects(
    backend().handleRequest(testRequest({ operation: 'revoke', path: 'creds/ro' })),
    (err: unknown) => err instanceof VaultError && err.kind === ErrorKind.InvalidRequest,
  );
});
