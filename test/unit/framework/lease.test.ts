import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorKind, GO_ZERO_TIME, VaultError } from '../../../src/vault';
import { calculateTtl } from '../../../src/framework';
import type { TtlInputs, TtlResult } from '../../../src/framework';
import { StaticSystemView } from '../../helpers/fakes';

const HOUR = 3600;
const NOW = new Date('2024-05-01T12:00:00.750Z');
const NOW_SECONDS = Math.floor(NOW.getTime() / 1000);

/** A system view with mount default 1h and maximum 24h. */
function sys(): StaticSystemView {
  return new StaticSystemView({ defaultLeaseTtl: HOUR, maxLeaseTtl: 24 * HOUR });
}

function secondsAgo(seconds: number): Date {
  return new Date((NOW_SECONDS - seconds) * 1000);
}

const CASES: ReadonlyArray<[string, TtlInputs, TtlResult]> = [
  ['mount default when nothing is asked', {}, { ttl: HOUR, warnings: [] }],
  ['backend TTL', { backendTtl: 2 * HOUR }, { ttl: 2 * HOUR, warnings: [] }],
  ['increment wins over backend TTL', { increment: 5 * HOUR, backendTtl: 2 * HOUR }, { ttl: 5 * HOUR, warnings: [] }],
  [
    'capped by the backend max, with a warning',
    { backendTtl: 2 * HOUR, backendMaxTtl: 30 * 60 },
    { ttl: 30 * 60, warnings: ['TTL of "2h" exceeded the effective max_ttl of "30m"; TTL value is capped accordingly'] },
  ],
  [
    'capped by the mount max',
    { backendTtl: 48 * HOUR },
    { ttl: 24 * HOUR, warnings: ['TTL of "48h" exceeded the effective max_ttl of "24h"; TTL value is capped accordingly'] },
  ],
  ['a backend max above the mount max does not raise it', { backendTtl: 30 * HOUR, backendMaxTtl: 100 * HOUR }, {
    ttl: 24 * HOUR,
    warnings: ['TTL of "30h" exceeded the effective max_ttl of "24h"; TTL value is capped accordingly'],
  }],
  [
    'renewal: the max counts from the issue time',
    { increment: 2 * HOUR, backendMaxTtl: 3 * HOUR, startTime: secondsAgo(2 * HOUR + 90) },
    {
      ttl: HOUR - 90,
      warnings: ['TTL of "2h" exceeded the effective max_ttl of "58m30s"; TTL value is capped accordingly'],
    },
  ],
  ['Go zero time counts as now', { backendTtl: 10, startTime: GO_ZERO_TIME }, { ttl: 10, warnings: [] }],
];

for (const [label, inputs, expected] of CASES) {
  test(`calculateTtl: ${label}`, async () => {
    assert.deepEqual(await calculateTtl(sys(), { now: NOW, ...inputs }), expected);
  });
}

test('calculateTtl: past the max TTL → error', async () => {
  await assert.rejects(
    calculateTtl(sys(), { now: NOW, backendMaxTtl: HOUR, startTime: secondsAgo(HOUR) }),
    (err: unknown) =>
      err instanceof VaultError && err.kind === ErrorKind.UserError && err.message === 'past the max TTL, cannot renew',
  );
});

test('calculateTtl: times are truncated to seconds', async () => {
  // Issued 0.9 s "after" the truncated now: still a full hour left.
  const startTime = new Date(NOW_SECONDS * 1000 + 900);
  assert.deepEqual(await calculateTtl(sys(), { now: NOW, backendMaxTtl: HOUR, increment: 2 * HOUR, startTime }), {
    ttl: HOUR,
    warnings: ['TTL of "2h" exceeded the effective max_ttl of "1h"; TTL value is capped accordingly'],
  });
});
