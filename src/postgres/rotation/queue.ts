// The rotation queue: rotates static roles' passwords and connections' root
// passwords when they fall due, inside the plugin process.
//
// Nothing about the schedule lives only in memory. A static role stores when
// its next rotation is due (static-role.ts); a connection with automated root
// rotation stores it under `root-rotation/<name>`. The queue is an index of
// those times, rebuilt from storage whenever the backend starts, so a
// restart or a killed process neither skips a rotation (one overdue runs at
// once) nor repeats one (a finished rotation stored its next time before
// the queue forgot it). Before anything else a start finishes the static
// role rotations a crash interrupted (their WAL entries; rotate-static.ts),
// so the stored password works again before it is handed out.
//
// A timer ticks every second; each tick rotates at most a few of the items
// due, one after another, oldest first: rotations that fall due together
// (hundreds of roles created by one script) are spread over several ticks
// rather than sent to the database at once. A failed rotation is retried
// with exponential backoff and its error is logged and stored on the role
// (static-creds shows it). A rotation_window is honoured on every attempt:
// past the window the rotation waits for the next scheduled time.
//
// Only the node that can write the mount's storage rotates: never a
// performance standby, a DR secondary, or a performance secondary for a
// replicated mount (SystemView replication state), where the rotation
// belongs to the primary's active node.

import { deleteWal, getWal, isPlainObject, listWal, storageReadOnly } from '../../framework';
import { errorMessage, type Storage, type SystemView } from '../../vault';
import type { Engine } from '../engine';
import { nextRotation, rotates, sameTiming, windowEnd, type RotationTiming } from '../rotation-schedule';
import { stringField } from '../stored-fields';
import { rotateRootPassword } from './rotate-root';
import { rotateStaticRole, stalePending, WAL_STATIC_ROTATION, type PendingRotation, type StaticRotationResult } from './rotate-static';
import { STATIC_ROLE_PREFIX, type StaticRole } from './static-role';
import { CONFIG_KIND } from '../connections/connection-config';

/** Tuning of a queue; every field has a default. */
export interface RotationQueueOptions {
  /** Milliseconds between ticks. Default 1000; 0 runs no timer (ticks come only from tick()). */
  tickMs?: number;
  /** Rotations run per tick at most; the rest wait for the next tick. Default 4. */
  perTick?: number;
  /** Seconds before the first retry of a failed rotation; doubles per failure. Default 5. */
  retryBaseSeconds?: number;
  /** Longest wait between retries, seconds. Default 3600. */
  retryMaxSeconds?: number;
  /**
   * How long a rotation's statements wait for a lock (PostgreSQL's
   * lock_timeout), milliseconds. Default 10000. ALTER ROLE waits for any
   * open transaction that changed the same role; without a limit, one such
   * transaction would hold up this rotation, the queue, and every rotation
   * behind it, for as long as it stayed open.
   */
  lockTimeoutMs?: number;
}

const DEFAULTS = { tickMs: 1000, perTick: 4, retryBaseSeconds: 5, retryMaxSeconds: 3600, lockTimeoutMs: 10_000 } as const;
/** Seconds before a node whose storage is read-only looks again whether it may rotate. */
const READ_ONLY_RECHECK_SECONDS = 10;
/** Storage prefix of root rotation state. */
const ROOT_ROTATION_PREFIX = 'root-rotation/';

/** Storage prefixes whose invalidation concerns the queue. */
const STATIC_ROLE_KEY_PREFIX = STATIC_ROLE_PREFIX;
const CONFIG_KEY_PREFIX = CONFIG_KIND.prefix;

/** Queue key of static role `name`, the same as its storage key; also its lock. */
export function staticLockKey(name: string): string {
  return STATIC_ROLE_KEY_PREFIX + name;
}

const ROOT_KEY_PREFIX = 'root/';

/** Queue key of connection `name`'s root rotation; also its lock. */
export function rootLockKey(name: string): string {
  return ROOT_KEY_PREFIX + name;
}

/** Where the queue runs: the mount's storage and system view, from the backend's setup. */
interface Attachment {
  storage: Storage;
  systemView: SystemView;
}

/** See the module comment. One per engine (mount). */
export class RotationQueue {
  readonly #engine: Engine;
  readonly #options: Required<RotationQueueOptions>;
  /** Due time (ms since the epoch) per key. */
  readonly #due = new Map<string, number>();
  /** Consecutive failures per key, for the backoff. */
  readonly #failures = new Map<string, number>();
  /** Rotations of static roles that may have reached the database but not storage, by role name. */
  readonly #pending = new Map<string, PendingRotation>();
  readonly #locks = new Map<string, Promise<unknown>>();
  #attachment: Attachment | undefined;
  #started: Promise<void> | undefined;
  #ticking: Promise<void> = Promise.resolve();
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;

  constructor(engine: Engine, options: RotationQueueOptions = {}) {
    this.#engine = engine;
    this.#options = {
      tickMs: options.tickMs ?? DEFAULTS.tickMs,
      perTick: options.perTick ?? DEFAULTS.perTick,
      retryBaseSeconds: options.retryBaseSeconds ?? DEFAULTS.retryBaseSeconds,
      retryMaxSeconds: options.retryMaxSeconds ?? DEFAULTS.retryMaxSeconds,
      lockTimeoutMs: options.lockTimeoutMs ?? DEFAULTS.lockTimeoutMs,
    };
  }

  /** See RotationQueueOptions.lockTimeoutMs. */
  get lockTimeoutMs(): number {
    return this.#options.lockTimeoutMs;
  }

  /** Gives the queue the mount's storage and system view (the backend's setup); nothing runs before start(). */
  attach(storage: Storage, systemView: SystemView): void {
    this.#attachment = { storage, systemView };
  }

  /**
   * Loads the schedule from storage and finishes interrupted rotations,
   * once; later calls wait for that first one. Requests that hand out or
   * change a static role's password call it first, so they never see a
   * password an interrupted rotation left behind. A failure (storage
   * unreachable) is logged and the next call tries again.
   */
  start(): Promise<void> {
    if (this.#started === undefined) {
      const started = this.#load().catch((err: unknown) => {
        this.#started = undefined;
        this.#engine.log.warn({ error: errorMessage(err) }, 'loading the rotation schedule failed; trying again on the next request or tick');
      });
      this.#started = started;
      if (this.#options.tickMs > 0 && this.#timer === undefined && !this.#stopped) {
        this.#timer = setInterval(() => void this.tick(), this.#options.tickMs);
        // The queue must not keep a process alive that has nothing else to do.
        this.#timer.unref();
      }
    }
    return this.#started;
  }

  /** Stops the timer and waits for the rotation in progress (unmount, seal, reload). */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#ticking;
  }

  /** Runs `work` while holding `key`'s lock: one rotation or write of a role (or root) at a time. */
  async withLock<T>(key: string, work: () => Promise<T>): Promise<T> {
    const before = this.#locks.get(key) ?? Promise.resolve();
    const run = before.catch(() => undefined).then(work);
    const settled = run.catch(() => undefined);
    this.#locks.set(key, settled);
    try {
      return await run;
    } finally {
      if (this.#locks.get(key) === settled) this.#locks.delete(key);
    }
  }

  /** Runs `work` while holding connection `name`'s root rotation lock: what writes the config's password goes one at a time. */
  withRootLock<T>(name: string, work: () => Promise<T>): Promise<T> {
    return this.withLock(rootLockKey(name), work);
  }

  /**
   * One tick: rotates up to `perTick` of the items due now, oldest first,
   * one at a time. Ticks never overlap: a tick waits for the one running.
   * The timer calls it; so does the backend's periodic function.
   */
  tick(): Promise<void> {
    const run = this.#ticking.then(() => this.#runDue());
    this.#ticking = run.catch((err: unknown) => this.#engine.log.error({ error: errorMessage(err) }, 'rotation tick failed'));
    return this.#ticking;
  }

  /**
   * A storage key changed on another node (Vault's invalidation): a static
   * role, a config or a root rotation time this queue may hold. The item is
   * looked at on the next tick, which follows what storage now says.
   */
  keyChanged(key: string): void {
    if (key.startsWith(STATIC_ROLE_KEY_PREFIX)) this.#due.set(key, 0);
    else if (key.startsWith(CONFIG_KEY_PREFIX)) this.#due.set(rootLockKey(key.slice(CONFIG_KEY_PREFIX.length)), 0);
    else if (key.startsWith(ROOT_ROTATION_PREFIX)) this.#due.set(rootLockKey(key.slice(ROOT_ROTATION_PREFIX.length)), 0);
  }

  // ---- static roles ----

  /** Static role `name` was written or rotated (stored as `role`) or deleted (undefined): schedules it. Call under its lock. */
  staticRoleChanged(name: string, role: StaticRole | undefined): void {
    const key = staticLockKey(name);
    this.#failures.delete(key);
    if (role === undefined) this.#pending.delete(name);
    if (role === undefined || role.nextVaultRotation <= 0) this.#due.delete(key);
    else this.#due.set(key, role.nextVaultRotation);
  }

  /**
   * Rotates static role `name` now (rotate-role, or its creation), finishing
   * an interrupted rotation first if there is one. Call under its lock with
   * the role as stored. Stores the outcome on the role and schedules the
   * next rotation (or a retry).
   */
  async rotateStaticNow(storage: Storage, systemView: SystemView, name: string, role: StaticRole): Promise<StaticRotationResult> {
    let pending = this.#pending.get(name);
    if (pending !== undefined && stalePending(pending, role)) pending = undefined;
    const result = await rotateStaticRole({ engine: this.#engine, storage, systemView }, name, role, pending);
    await this.#afterStaticRotation(storage, name, role, result);
    return result;
  }

  /** The rotation error stored on a role for static-creds: '' when the last attempt succeeded. */
  async #afterStaticRotation(storage: Storage, name: string, role: StaticRole, result: StaticRotationResult): Promise<void> {
    const key = staticLockKey(name);
    if (result.kind === 'rotated') {
      this.#pending.delete(name);
      this.staticRoleChanged(name, result.role);
      this.#engine.log.info({ role: name, username: result.role.activeUsername }, 'rotated static role password');
      return;
    }
    if (result.pending !== undefined) this.#pending.set(name, result.pending);
    else this.#pending.delete(name);
    const failures = (this.#failures.get(key) ?? 0) + 1;
    this.#failures.set(key, failures);
    const retryAt = this.#engine.now().getTime() + this.#backoffSeconds(failures) * 1000;
    this.#due.set(key, retryAt);
    this.#engine.log.warn({ role: name, attempt: failures, retry_at: new Date(retryAt).toISOString(), error: result.message }, 'rotating static role password failed');
    try {
      await this.#engine.staticRoles.put(storage, name, { ...role, lastRotationError: result.message });
    } catch (err) {
      this.#engine.log.warn({ role: name, error: errorMessage(err) }, 'storing the rotation error failed');
    }
  }

  /**
   * Settles a static-rotation WAL entry that Vault's rollback found (older
   * than wal_rollback_min_age): finishes the rotation it guards unless the
   * role is gone or has rotated since. Throws when finishing fails, so that
   * rollback keeps the entry and tries again.
   */
  async finishFromRollback(storage: Storage, systemView: SystemView, data: unknown): Promise<void> {
    const name = stringField(data, 'role_name');
    const pending: PendingRotation = {
      // Rollback deletes the entry itself once this returns.
      walId: '',
      username: stringField(data, 'username'),
      password: stringField(data, 'new_password'),
      lastVaultRotation: stringField(data, 'last_vault_rotation'),
    };
    if (name === '' || pending.username === '' || pending.password === '') return;
    await this.withLock(staticLockKey(name), async () => {
      const role = await this.#engine.staticRoles.get(storage, name);
      if (role === undefined || stalePending(pending, role)) return;
      const result = await rotateStaticRole({ engine: this.#engine, storage, systemView }, name, role, pending);
      await this.#afterStaticRotation(storage, name, role, result);
      if (result.kind === 'failed') throw new Error(result.message);
      this.#engine.log.info({ role: name }, 'completed an interrupted static role rotation');
    });
  }

  // ---- root rotation ----

  /**
   * Connection `name` was written or deleted: recomputes its automated root
   * rotation. A new or changed timing starts from now; an unchanged one keeps
   * its stored next time. Stores the next time (or removes it). Call under
   * withRootLock(name), held since the config write read the stored config.
   */
  async rootConfigChanged(storage: Storage, name: string, before: RotationTiming | undefined): Promise<void> {
    const config = await this.#engine.configs.get(storage, name);
    const key = rootLockKey(name);
    this.#failures.delete(key);
    if (config === undefined || config.disableAutomatedRotation || !rotates(config.rootRotation)) {
      await storage.delete(ROOT_ROTATION_PREFIX + name);
      this.#due.delete(key);
      return;
    }
    const stored = await this.#rootNext(storage, name);
    if (stored !== undefined && before !== undefined && sameTiming(before, config.rootRotation)) {
      this.#due.set(key, stored);
      return;
    }
    await this.#scheduleRoot(storage, name, config.rootRotation);
  }

  /** The root password of `name` was rotated by hand (rotate-root): the next automated rotation counts from now. Call under its lock. */
  async rootRotated(storage: Storage, name: string): Promise<void> {
    const config = await this.#engine.configs.get(storage, name);
    const key = rootLockKey(name);
    this.#failures.delete(key);
    if (config === undefined || config.disableAutomatedRotation || !rotates(config.rootRotation)) return;
    await this.#scheduleRoot(storage, name, config.rootRotation);
  }

  async #scheduleRoot(storage: Storage, name: string, timing: RotationTiming): Promise<void> {
    const next = nextRotation(timing, this.#engine.now());
    const key = rootLockKey(name);
    if (next === undefined) {
      await storage.delete(ROOT_ROTATION_PREFIX + name);
      this.#due.delete(key);
      return;
    }
    await storage.put({ key: ROOT_ROTATION_PREFIX + name, value: Buffer.from(JSON.stringify({ next_rotation: next.toISOString() })) });
    this.#due.set(key, next.getTime());
  }

  async #rootNext(storage: Storage, name: string): Promise<number | undefined> {
    const entry = await storage.get(ROOT_ROTATION_PREFIX + name);
    if (entry === undefined) return undefined;
    const parsed: unknown = JSON.parse(entry.value.toString('utf8'));
    const ms = Date.parse(stringField(parsed, 'next_rotation'));
    return Number.isFinite(ms) ? ms : undefined;
  }

  // ---- loading and ticking ----

  async #load(): Promise<void> {
    const { storage, systemView } = this.#attached();
    const readOnly = await storageReadOnly(systemView);
    if (!readOnly) await this.#finishInterrupted(storage, systemView);
    for (const name of await this.#engine.staticRoles.list(storage)) {
      if (name.endsWith('/')) continue;
      const role = await this.#engine.staticRoles.get(storage, name);
      if (role !== undefined && role.nextVaultRotation > 0 && !this.#due.has(staticLockKey(name))) this.#due.set(staticLockKey(name), role.nextVaultRotation);
    }
    for (const name of await this.#engine.configs.list(storage)) {
      if (name.endsWith('/')) continue;
      const config = await this.#engine.configs.get(storage, name);
      if (config === undefined || config.disableAutomatedRotation || !rotates(config.rootRotation)) continue;
      const next = await this.#rootNext(storage, name);
      if (next !== undefined) this.#due.set(rootLockKey(name), next);
      // Written before the next time was (an older version, or a crash in between): counts from now.
      else if (!readOnly) await this.withRootLock(name, () => this.#scheduleRoot(storage, name, config.rootRotation));
    }
  }

  /** Finishes the static role rotations a crash interrupted, from their WAL entries, before any password is handed out. */
  async #finishInterrupted(storage: Storage, systemView: SystemView): Promise<void> {
    for (const id of await listWal(storage)) {
      const entry = await getWal(storage, id);
      if (entry === undefined || !isPlainObject(entry.data)) continue;
      if (entry.kind === WAL_STATIC_ROTATION) {
        const name = stringField(entry.data, 'role_name');
        const pending: PendingRotation = {
          walId: id,
          username: stringField(entry.data, 'username'),
          password: stringField(entry.data, 'new_password'),
          lastVaultRotation: stringField(entry.data, 'last_vault_rotation'),
        };
        await this.withLock(staticLockKey(name), async () => {
          const role = await this.#engine.staticRoles.get(storage, name);
          if (role === undefined || pending.username === '' || pending.password === '' || stalePending(pending, role)) {
            await deleteWal(storage, id);
            return;
          }
          const result = await rotateStaticRole({ engine: this.#engine, storage, systemView }, name, role, pending);
          await this.#afterStaticRotation(storage, name, role, result);
          if (result.kind === 'rotated') this.#engine.log.info({ role: name }, 'completed an interrupted static role rotation');
        });
      }
      // rotate-root entries are left to Vault's rollback (wal-rollback.ts), past
      // wal_rollback_min_age: the root password is never handed out, and an
      // entry must not be settled while the database is merely unreachable.
    }
  }

  async #runDue(): Promise<void> {
    if (this.#stopped || this.#attachment === undefined) return;
    await this.start();
    const now = this.#engine.now().getTime();
    const due = [...this.#due].filter(([, at]) => at <= now).sort((a, b) => a[1] - b[1]);
    if (due.length === 0) return;
    const { storage, systemView } = this.#attached();
    if (await storageReadOnly(systemView)) {
      // The active node of the primary rotates; look again later (a standby may be promoted).
      for (const [key] of due) this.#due.set(key, now + READ_ONLY_RECHECK_SECONDS * 1000);
      return;
    }
    for (const [key] of due.slice(0, this.#options.perTick)) {
      if (this.#stopped) return;
      try {
        if (key.startsWith(STATIC_ROLE_KEY_PREFIX)) await this.#rotateDueStatic(storage, systemView, key.slice(STATIC_ROLE_KEY_PREFIX.length));
        else await this.#rotateDueRoot(storage, systemView, key.slice(ROOT_KEY_PREFIX.length));
      } catch (err) {
        this.#failed(key, errorMessage(err));
      }
    }
  }

  async #rotateDueStatic(storage: Storage, systemView: SystemView, name: string): Promise<void> {
    await this.withLock(staticLockKey(name), async () => {
      const role = await this.#engine.staticRoles.get(storage, name);
      if (role === undefined || role.nextVaultRotation <= 0) {
        this.staticRoleChanged(name, undefined);
        return;
      }
      const now = this.#engine.now();
      // Another node, or a write, moved the rotation: follow storage.
      if (role.nextVaultRotation > now.getTime()) {
        this.#due.set(staticLockKey(name), role.nextVaultRotation);
        return;
      }
      const closes = windowEnd(role.timing, new Date(role.nextVaultRotation));
      if (closes !== undefined && now.getTime() > closes.getTime()) {
        const next = nextRotation(role.timing, now)?.getTime() ?? 0;
        const updated: StaticRole = { ...role, nextVaultRotation: next };
        await this.#engine.staticRoles.put(storage, name, updated);
        this.staticRoleChanged(name, updated);
        this.#engine.log.warn({ role: name, next_rotation: new Date(next).toISOString() }, 'rotation window closed before the static role could be rotated; waiting for the next scheduled time');
        return;
      }
      await this.rotateStaticNow(storage, systemView, name, role);
    });
  }

  async #rotateDueRoot(storage: Storage, systemView: SystemView, name: string): Promise<void> {
    await this.withRootLock(name, async () => {
      const key = rootLockKey(name);
      const config = await this.#engine.configs.get(storage, name);
      const next = await this.#rootNext(storage, name);
      if (config === undefined || config.disableAutomatedRotation || !rotates(config.rootRotation) || next === undefined) {
        this.#due.delete(key);
        return;
      }
      const now = this.#engine.now();
      if (next > now.getTime()) {
        this.#due.set(key, next);
        return;
      }
      const closes = windowEnd(config.rootRotation, new Date(next));
      if (closes !== undefined && now.getTime() > closes.getTime()) {
        await this.#scheduleRoot(storage, name, config.rootRotation);
        this.#engine.log.warn({ config: name }, 'rotation window closed before the root password could be rotated; waiting for the next scheduled time');
        return;
      }
      const problem = await rotateRootPassword(this.#engine, storage, systemView, name);
      if (problem !== undefined) throw new Error(problem);
      await this.rootRotated(storage, name);
    });
  }

  #failed(key: string, message: string): void {
    const failures = (this.#failures.get(key) ?? 0) + 1;
    this.#failures.set(key, failures);
    const retryAt = this.#engine.now().getTime() + this.#backoffSeconds(failures) * 1000;
    this.#due.set(key, retryAt);
    this.#engine.log.warn({ item: key, attempt: failures, retry_at: new Date(retryAt).toISOString(), error: message }, 'automated rotation failed');
  }

  #backoffSeconds(failures: number): number {
    return Math.min(this.#options.retryBaseSeconds * 2 ** Math.min(failures - 1, 30), this.#options.retryMaxSeconds);
  }

  #attached(): Attachment {
    if (this.#attachment === undefined) throw new Error('the rotation queue has no storage: attach() was not called');
    return this.#attachment;
  }
}
