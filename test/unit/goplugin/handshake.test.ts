import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkMagicCookie, handshakeLine, negotiateVersion, HandshakeError } from '../../../src/goplugin/handshake';

const config = { magicCookieKey: 'COOKIE', magicCookieValue: 'yes', appProtocolVersion: 5 };

describe('handshake', () => {
  it('checks the magic cookie', () => {
    assert.doesNotThrow(() => checkMagicCookie(config, { COOKIE: 'yes' }));
    assert.throws(() => checkMagicCookie(config, {}), (e: Error) => e instanceof HandshakeError && /This binary is a plugin/.test(e.message));
    assert.throws(() => checkMagicCookie(config, { COOKIE: 'no' }), HandshakeError);
  });

  it('explains a start under another kind of plugin\'s cookie', () => {
    const withForeign = { ...config, foreignCookies: { OTHER_PLUGIN: 'started as another kind of plugin' } };
    assert.throws(() => checkMagicCookie(withForeign, { OTHER_PLUGIN: 'x' }), (e: Error) => e instanceof HandshakeError && e.message === 'started as another kind of plugin');
    assert.throws(() => checkMagicCookie(withForeign, {}), /This binary is a plugin/);
    assert.doesNotThrow(() => checkMagicCookie(withForeign, { COOKIE: 'yes', OTHER_PLUGIN: 'x' }), 'the right cookie wins');
  });

  it('negotiates only an offered version', () => {
    assert.equal(negotiateVersion(config, { PLUGIN_PROTOCOL_VERSIONS: '5' }), 5);
    assert.equal(negotiateVersion(config, { PLUGIN_PROTOCOL_VERSIONS: '4, 5' }), 5);
    assert.throws(() => negotiateVersion(config, { PLUGIN_PROTOCOL_VERSIONS: '3,4' }), /offered 3,4/);
    assert.throws(() => negotiateVersion(config, {}), /offered none/);
  });

  it('formats the line: raw base64 certificate only under AutoMTLS, 7th field only on request', () => {
    const der = Buffer.from([0xfb, 0xff, 0x01, 0x02]);
    const listen = { network: 'unix' as const, address: '/tmp/plugin1' };
    assert.equal(handshakeLine(5, listen, der, { PLUGIN_CLIENT_CERT: 'pem' }), '1|5|unix|/tmp/plugin1|grpc|+/8BAg\n');
    assert.equal(handshakeLine(5, listen, der, {}), '1|5|unix|/tmp/plugin1|grpc|\n');
    assert.equal(handshakeLine(5, listen, der, { PLUGIN_CLIENT_CERT: 'pem', PLUGIN_MULTIPLEX_GRPC: 'true' }), '1|5|unix|/tmp/plugin1|grpc|+/8BAg|false\n');
  });
});
