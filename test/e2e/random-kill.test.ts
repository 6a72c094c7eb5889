/**
 * SIGKILL of the plugin at random instants while 24 clients issue
 * credentials of one role as fast as they can, through the Vault under test
 * (a real Vault or OpenBao named by VAULT_ADDR, else the conformance host).
 * Each kill may leave roles no lease holds (killed between CREATE ROLE and
 * Vault recording the lease); once every lease end plus the sweep's grace
 * and a few rollback ticks have passed, no role of the role's pattern may be
 * left in pg_roles.
 *
 * RANDOM_KILL_CAMPAIGNS sets the number of kills (default 3). Each campaign
 * prints: roles created, orphans right after the kill (roles whose username
 * no lease holds, from LIST sys/leases/lookup/<mount>/creds/<role>/), and
 * roles of that campaign left at the end.
 */
import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { Client } from 'pg';
import { PLUGIN_NAME, pluginBinary } from '../helpers/plugin-binary';
import { connectionConfig } from '../helpers/plugin-config';
import { startPostgres, type PostgresServer } from '../helpers/postgres';
import { processesOf } from '../helpers/processes';
import { installPlugin, registerPlugin, startVault, stopVaultFirst, untilPluginAnswers, type VaultUnderTest } from '../helpers/vault-host';
import { waitUntil } from '../helpers/wait';

const MOUNT = 'pg-random-kill';
const ROLE = 'app';
const CLIENTS = 24;
const CAMPAIGNS = Number(process.env.RANDOM_KILL_CAMPAIGNS ?? 3);
const TTL_S = 4;
const GRACE_S = 2;
/** Usernames `rkill-<20 random>`: the pattern below matches them and nothing else. */
const USERNAME_TEMPLATE = 'rkill-{{random 20}}';
const PATTERN = 'rkill-%';
/**
 * The kill comes this long after the campaign's first credential (uniformly
 * random, never at a checkpoint): clients are then issuing at full
 * concurrency. Counted from the clients' start, a short delay could end a
 * campaign before a plugin that a real server has just relaunched answered
 * anything.
 */
const KILL_AFTER_MS = { min: 200, max: 1500 };
const CREATE = `CREATE ROLE "{{name}}" WITH LOGIN PASSWORD '{{password}}' VALID UNTIL '{{expiration}}';`;

/** What one campaign saw. */
interface Campaign {
  killAfterMs: number;
  pids: number[];
  /** Users a response reported, plus roles that appeared without one. */
  created: Set<string>;
  responses: number;
  failures: number;
  /** Roles of this campaign right after the kill that no lease holds. */
  orphans: string[];
  /** Leases the server lists whose username no client saw (should be none). */
  unknownLeases: number;
  /** When the last lease of this campaign can end, ms since the epoch. */
  lastLeaseEndMs: number;
}

describe('random SIGKILL of the plugin during concurrent issuance', () => {
  let pg: PostgresServer;
  let vault: VaultUnderTest;
  let admin: Client;
  let installed: string;
  /** Lease id → username, of every response any client got. */
  const leased = new Map<string, string>();

  const patternRoles = async () =>
    new Set((await admin.query<{ rolname: string }>('SELECT rolname FROM pg_roles WHERE rolname LIKE $1', [PATTERN])).rows.map((r) => r.rolname));

  /** Usernames of the leases the server holds now. */
  async function leaseHolders(): Promise<{ holders: Set<string>; unknown: number }> {
    const prefix = `${MOUNT}/creds/${ROLE}/`;
    const res = await vault.request('LIST', `sys/leases/lookup/${prefix}`);
    const keys: string[] = res.status === 200 ? res.body.data.keys : [];
    assert.ok(res.status === 200 || res.status === 404, `lease list: ${res.status} ${res.text}`);
    const holders = new Set<string>();
    let unknown = 0;
    for (const key of keys) {
      const username = leased.get(prefix + key);
      if (username === undefined) unknown++;
      else holders.add(username);
    }
    return { holders, unknown };
  }

  async function campaign(): Promise<Campaign> {
    // The plugin runs (relaunched after the previous kill) before the clock starts.
    await untilPluginAnswers(vault, 'GET', `${MOUNT}/roles/${ROLE}`);
    const before = await patternRoles();
    const result: Campaign = { killAfterMs: randomInt(KILL_AFTER_MS.min, KILL_AFTER_MS.max), pids: [], created: new Set(), responses: 0, failures: 0, orphans: [], unknownLeases: 0, lastLeaseEndMs: 0 };
    let stop = false;
    const client = async (): Promise<void> => {
      while (!stop) {
        const res = await vault.request('GET', `${MOUNT}/creds/${ROLE}`).catch(() => undefined);
        if (res?.status === 200) {
          leased.set(res.body.lease_id, res.body.data.username);
          result.created.add(res.body.data.username);
          result.responses++;
          result.lastLeaseEndMs = Date.now() + res.body.lease_duration * 1000;
        } else {
          result.failures++;
        }
      }
    };
    const clients = Array.from({ length: CLIENTS }, client);
    try {
      await waitUntil('the campaign\'s first credential', () => result.responses > 0, 30_000, 5);
    } catch (err) {
      stop = true;
      await Promise.all(clients);
      throw err;
    }
    await sleep(result.killAfterMs);
    result.pids = processesOf(installed);
    for (const pid of result.pids) process.kill(pid, 'SIGKILL');
    stop = true;
    await Promise.all(clients);
    result.lastLeaseEndMs = Math.max(result.lastLeaseEndMs, Date.now() + TTL_S * 1000);

    const now = await patternRoles();
    const { holders, unknown } = await leaseHolders();
    for (const role of now) if (!before.has(role)) result.created.add(role);
    result.orphans = [...now].filter((r) => result.created.has(r) && !holders.has(r));
    result.unknownLeases = unknown;
    return result;
  }

  before(async () => {
    pg = await startPostgres();
    admin = new Client({ connectionString: pg.url });
    await admin.connect();
    vault = await startVault({ rollbackPeriodMs: 1000, revokeRetryBaseMs: 500 });
    installed = installPlugin(vault, pluginBinary()).path;
    await registerPlugin(vault, PLUGIN_NAME, { binaryPath: pluginBinary() });
    const mount = await vault.request('POST', `sys/mounts/${MOUNT}`, {
      type: PLUGIN_NAME,
      options: { wal_rollback_min_age: '1s', user_sweep_grace: `${GRACE_S}s` },
    });
    assert.ok(mount.status < 300, mount.text);
    const config = await vault.request('POST', `${MOUNT}/config/main`, { ...connectionConfig(pg, ROLE), username_template: USERNAME_TEMPLATE, max_open_connections: 8 });
    assert.ok(config.status < 300, config.text);
    const role = await vault.request('POST', `${MOUNT}/roles/${ROLE}`, { db_name: 'main', creation_statements: CREATE, default_ttl: `${TTL_S}s`, max_ttl: `${TTL_S}s` });
    assert.ok(role.status < 300, role.text);
  });
  after(() => stopVaultFirst(vault, async () => admin?.end(), async () => pg?.stop()));

  it(`${CAMPAIGNS} kills at random instants under concurrency ${CLIENTS}: no role outlives lease end + grace`, async () => {
    const campaigns: Campaign[] = [];
    for (let i = 0; i < CAMPAIGNS; i++) {
      const c = await campaign();
      assert.ok(c.pids.length > 0, 'a plugin process was running and was killed');
      assert.ok(c.responses > 0, `campaign ${i + 1}: some credentials were issued before the kill (${c.failures} failures)`);
      campaigns.push(c);
    }
    // Relaunch the plugin (rollback ticks and revocations need it), then wait
    // for every lease end, the grace, and a few rollback ticks.
    await untilPluginAnswers(vault, 'GET', `${MOUNT}/roles/${ROLE}`);
    const lastLeaseEnd = Math.max(...campaigns.map((c) => c.lastLeaseEndMs));
    const deadline = lastLeaseEnd + GRACE_S * 1000 + 3 * vault.timing.rollbackPeriodMs + 10_000;
    await waitUntil('every role of the pattern to be dropped', async () => (await patternRoles()).size === 0, Math.max(0, deadline - Date.now())).catch(() => undefined);
    const left = await patternRoles();

    for (const [i, c] of campaigns.entries()) {
      const leftHere = [...c.created].filter((r) => left.has(r)).length;
      console.log(
        `[random-kill] campaign ${i + 1}/${campaigns.length}: killed pid ${c.pids.join(',')} ${c.killAfterMs} ms after the first credential; ` +
          `roles created ${c.created.size} (responses ${c.responses}, failed requests ${c.failures}); ` +
          `orphans right after the kill ${c.orphans.length}; leases unknown to clients ${c.unknownLeases}; roles left at the end ${leftHere}`,
      );
    }
    console.log(`[random-kill] total: roles created ${campaigns.reduce((n, c) => n + c.created.size, 0)}, orphans after kills ${campaigns.reduce((n, c) => n + c.orphans.length, 0)}, roles left ${left.size}`);
    assert.deepEqual([...left], [], 'no role of the pattern is left in pg_roles');
  });
});
