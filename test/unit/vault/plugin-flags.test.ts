import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parsePluginFlags, canonicalVersion } from '../../../src/vault';

describe('plugin flags', () => {
  it('accepts the conventional flags in every Go flag syntax', () => {
    const flags = parsePluginFlags([
      '-ca-cert', '/ca.pem', '--ca-path=/cas', '-client-cert=/c.pem', '-client-key', '/k.pem',
      '-tls-server-name=vault.local', '-tls-skip-verify',
    ]);
    assert.deepEqual(flags, {
      caCert: '/ca.pem', caPath: '/cas', clientCert: '/c.pem', clientKey: '/k.pem',
      tlsServerName: 'vault.local', tlsSkipVerify: true, rest: [],
    });
    assert.equal(parsePluginFlags(['-tls-skip-verify=false']).tlsSkipVerify, false);
  });

  it('tolerates unknown flags and positional arguments', () => {
    assert.deepEqual(parsePluginFlags(['-whatever=1', 'x']).rest, ['-whatever=1', 'x']);
  });

  it('reports versions in the canonical v-prefixed form Vault compares against', () => {
    assert.equal(canonicalVersion('1.2.3'), 'v1.2.3');
    assert.equal(canonicalVersion('v1.2.3'), 'v1.2.3');
    assert.equal(canonicalVersion(''), '');
  });
});
