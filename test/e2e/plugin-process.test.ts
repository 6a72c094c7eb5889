/**
 * The plugin executable as a go-plugin process, driven directly: magic
 * cookie, protocol negotiation, the handshake line, mutual TLS on its socket,
 * health, controller shutdown. Vault-level behaviour is in the other e2e
 * tests, which go through the conformance host.
 */
import * as grpc from '@grpc/grpc-js';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { grpc as healthpb } from '../../src/gen/health';
import { plugin } from '../../src/gen/plugin';
import { generateIdentity, type TlsIdentity } from '../../src/goplugin/certificate';
import { pluginBinary } from '../helpers/plugin-binary';

const COOKIE = { VAULT_BACKEND_PLUGIN: '6669da05-b1c8-4f49-97d9-c8e5bed98e20' };

interface Launched {
  child: ChildProcess;
  line: string;
  fields: string[];
  stdout: () => string;
  stderr: () => string;
  exited: Promise<number | null>;
}

/** Starts the binary as go-plugin would and waits for its handshake line. */
async function launch(env: NodeJS.ProcessEnv): Promise<Launched> {
  const child = spawn(pluginBinary(), [], { env: { PATH: process.env.PATH, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const line = await new Promise<string>((resolve, reject) => {
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('\n')) resolve(out.slice(0, out.indexOf('\n')));
    });
    void exited.then((code) => reject(new Error(`plugin exited (${code}) before the handshake: ${err}`)));
  });
  return { child, line, fields: line.split('|'), stdout: () => out, stderr: () => err, exited };
}

function hostEnv(host: TlsIdentity, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return { ...COOKIE, PLUGIN_PROTOCOL_VERSIONS: '5', PLUGIN_CLIENT_CERT: host.certPem, ...extra };
}

/** A gRPC client to the plugin's socket, presenting `client` (or no certificate). */
function dialPlugin(socket: string, pluginCertDer: Buffer, client?: TlsIdentity) {
  const pluginPem = new X509Certificate(pluginCertDer).toString();
  const creds = client
    ? grpc.credentials.createSsl(Buffer.from(pluginPem), Buffer.from(client.keyPem), Buffer.from(client.certPem))
    : grpc.credentials.createSsl(Buffer.from(pluginPem));
  const options = { 'grpc.ssl_target_name_override': 'localhost', 'grpc.default_authority': 'localhost' };
  return {
    health: new healthpb.health.v1.HealthClient(`unix://${socket}`, creds, options),
    controller: new plugin.GRPCControllerClient(`unix://${socket}`, creds, options),
  };
}

function check(client: healthpb.health.v1.HealthClient, service: string): Promise<number> {
  return new Promise((resolve, reject) =>
    client.Check(new healthpb.health.v1.HealthCheckRequest({ service }), { deadline: Date.now() + 5000 }, (err, reply) =>
      err || !reply ? reject(err ?? new Error('no reply')) : resolve(reply.status),
    ),
  );
}

describe('plugin process', () => {
  it('run by hand: explains itself on stderr and exits 1 without a byte on stdout', () => {
    const started = Date.now();
    const res = spawnSync(pluginBinary(), [], { env: { PATH: process.env.PATH }, encoding: 'utf8' });
    assert.equal(res.status, 1);
    assert.equal(res.stdout, '');
    assert.match(res.stderr, /This binary is a plugin\. These are not meant to be executed directly\./);
    assert.ok(Date.now() - started < 5000, 'the cookie check must not wait for anything');
  });

  it('version subcommand works without Vault', () => {
    const pkg = JSON.parse(fs.readFileSync(path.resolve(__dirname, '../../package.json'), 'utf8')) as { version: string };
    const res = spawnSync(pluginBinary(), ['version'], { env: { PATH: process.env.PATH }, encoding: 'utf8' });
    assert.equal(res.status, 0);
    assert.equal(res.stdout.trim(), `vault-plugin-secrets-postgres v${pkg.version}`);
  });

  it('started as a database plugin (an untyped registration\'s first probe), refuses at once and says what it is', () => {
    const started = Date.now();
    const res = spawnSync(pluginBinary(), [], {
      env: { PATH: process.env.PATH, VAULT_DATABASE_PLUGIN: '926a0820-aea2-be28-51d6-83cdf00e8edb', PLUGIN_PROTOCOL_VERSIONS: '5,6' },
      encoding: 'utf8',
    });
    assert.equal(res.status, 1);
    assert.equal(res.stdout, '', 'no handshake line: the host must not connect');
    assert.match(res.stderr, /secrets-engine \(backend\) plugin, not a database plugin/);
    assert.match(res.stderr, /type "secret"/);
    assert.ok(Date.now() - started < 5000, 'the cookie check must not wait for anything');
  });

  it('refuses a host that does not offer protocol 5', () => {
    const host = generateIdentity();
    const res = spawnSync(pluginBinary(), [], { env: { PATH: process.env.PATH, ...hostEnv(host, { PLUGIN_PROTOCOL_VERSIONS: '3,4' }) }, encoding: 'utf8' });
    assert.equal(res.status, 1);
    assert.equal(res.stdout, '');
    assert.match(res.stderr, /protocol version 5; the host offered 3,4/);
  });

  it('prints exactly the handshake line, serves health over mTLS, refuses clients without the host certificate, exits 0 on Shutdown', async () => {
    const host = generateIdentity();
    const socketDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pgsock-'));
    const p = await launch(hostEnv(host, { PLUGIN_UNIX_SOCKET_DIR: socketDir }));
    try {
      assert.equal(p.fields.length, 6, `no multiplex field unless asked: ${p.line}`);
      const [core, app, network, address, protocol, cert] = p.fields;
      assert.deepEqual([core, app, network, protocol], ['1', '5', 'unix', 'grpc']);
      assert.equal(path.dirname(address ?? ''), socketDir, 'PLUGIN_UNIX_SOCKET_DIR is honoured');
      assert.match(cert ?? '', /^[A-Za-z0-9+/]+$/, 'raw standard base64, no padding');
      const der = Buffer.from(cert ?? '', 'base64');
      const x509 = new X509Certificate(der);
      assert.equal(x509.checkHost('localhost'), 'localhost');

      const good = dialPlugin(address ?? '', der, host);
      assert.equal(await check(good.health, 'plugin'), healthpb.health.v1.HealthCheckResponse.ServingStatus.SERVING);

      const anonymous = dialPlugin(address ?? '', der);
      await assert.rejects(check(anonymous.health, 'plugin'), (err: grpc.ServiceError) => err.code === grpc.status.UNAVAILABLE);
      const stranger = dialPlugin(address ?? '', der, generateIdentity());
      await assert.rejects(check(stranger.health, 'plugin'), (err: grpc.ServiceError) => err.code === grpc.status.UNAVAILABLE);

      await new Promise<void>((resolve, reject) =>
        good.controller.Shutdown(new plugin.Empty(), (err) => (err ? reject(err) : resolve())),
      );
      const code = await Promise.race([p.exited, new Promise<string>((r) => setTimeout(() => r('timeout'), 2000))]);
      assert.equal(code, 0, 'exits 0 within the host grace period');
      assert.equal(fs.existsSync(address ?? ''), false, 'socket removed');
      assert.equal(p.stdout(), `${p.line}\n`, 'nothing but the handshake line on stdout');
      for (const line of p.stderr().split('\n').filter((l) => l.trim() !== '')) {
        const entry = JSON.parse(line) as Record<string, unknown>;
        assert.equal(typeof entry['@level'], 'string');
        assert.equal(typeof entry['@message'], 'string');
        assert.match(String(entry['@timestamp']), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
      }
      good.health.close();
      anonymous.health.close();
      stranger.health.close();
    } finally {
      p.child.kill('SIGKILL');
      fs.rmSync(socketDir, { recursive: true, force: true });
    }
  });

  it('ignores SIGINT and answers a multiplexing host with a 7th field', async () => {
    const host = generateIdentity();
    const p = await launch(hostEnv(host, { PLUGIN_MULTIPLEX_GRPC: 'true' }));
    try {
      assert.equal(p.fields.length, 7);
      assert.equal(p.fields[6], 'false', 'brokered multiplexing is not offered');
      p.child.kill('SIGINT');
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(p.child.exitCode, null, 'still running after SIGINT');
      assert.equal(p.child.signalCode, null);
    } finally {
      p.child.kill('SIGKILL');
      await p.exited;
    }
  });
});
