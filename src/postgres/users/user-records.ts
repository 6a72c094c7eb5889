// The mount's user records in storage, with an in-memory index of them for
// this backend instance: username → role, state, creation time and lease
// end. The index is loaded from storage once, on first use (list + get),
// kept up to date by every change made through this class, and dropped
// when Vault invalidates a `user/` key (another node changed one); the next
// use loads it again. It serves counting for max_live_credentials and
// finding sweep candidates; whoever acts on a user re-reads its record.
//
// Issuances running in this process are tracked here too, from before
// their record is written until their request ends: they count as live
// credentials, the sweep leaves their records alone, and reconcile treats
// their usernames as claimed.

import type { Storage } from '../../vault';
import { forEachLimited } from './concurrency';
import { decodeUserRecord, encodeUserRecord, MalformedUserRecord, unescapeUsername, userKey, USER_PREFIX, type UserRecord, type UserState } from './record';

/** What the index keeps of a record. */
export interface IndexedUser {
  role: string;
  state: UserState;
  createdAt: number;
  leaseEnd: number;
}

/** Storage reads in flight at once while loading the index or listing records. */
const READ_CONCURRENCY = 16;

/** The index itself: users by name, with a live count per role. */
export class UserIndex {
  readonly #users = new Map<string, IndexedUser>();
  readonly #perRole = new Map<string, number>();

  /** Every indexed user. */
  entries(): IterableIterator<[string, IndexedUser]> {
    return this.#users.entries();
  }

  get size(): number {
    return this.#users.size;
  }

  has(username: string): boolean {
    return this.#users.has(username);
  }

  /** Records of `role`, issuing or issued. */
  count(role: string): number {
    return this.#perRole.get(role) ?? 0;
  }

  set(username: string, user: IndexedUser): void {
    this.delete(username);
    this.#users.set(username, user);
    this.#perRole.set(user.role, this.count(user.role) + 1);
  }

  delete(username: string): void {
    const old = this.#users.get(username);
    if (old === undefined) return;
    this.#users.delete(username);
    const left = this.count(old.role) - 1;
    if (left > 0) this.#perRole.set(old.role, left);
    else this.#perRole.delete(old.role);
  }
}

/** An issuance running in this process; `end()` when its request ends, whatever the outcome. */
export interface Issuance {
  end(): void;
}

/** Refusal of {@link UserRecords.beginIssuance}: the role is at its limit. */
export interface LimitReached {
  live: number;
  limit: number;
}

/**
 * Refusal of {@link UserRecords.beginIssuance}: a recorded or running user
 * already has the name (a username template without a random part).
 * Writing the new record would overwrite that user's and lose it.
 */
export interface NameInUse {
  inUse: string;
}

/** The index entry for a record. */
export function indexed(record: UserRecord): IndexedUser {
  return { role: record.role, state: record.state, createdAt: record.createdAt, leaseEnd: record.leaseEnd };
}

/** User records in storage plus this instance's index of them. */
export class UserRecords {
  #index: UserIndex | undefined;
  #loading: Promise<UserIndex> | undefined;
  /** Changes made while a load is under way, applied over what it read. */
  #journal: Map<string, IndexedUser | undefined> | undefined;
  /** Bumped by invalidation: a load started before it is not installed. */
  #generation = 0;
  readonly #inFlight = new Map<string, { user: IndexedUser; ended: Promise<void> }>();
  readonly #onMalformed: (username: string, err: unknown) => void;

  /** `onMalformed` hears of records the index load had to leave out. Absent: they are left out silently. */
  constructor(onMalformed: (username: string, err: unknown) => void = () => undefined) {
    this.#onMalformed = onMalformed;
  }

  /** The index, loading it from storage first when it is not in memory. */
  index(storage: Storage): Promise<UserIndex> {
    if (this.#index !== undefined) return Promise.resolve(this.#index);
    this.#loading ??= this.#load(storage);
    return this.#loading;
  }

  /** The index if it is in memory now; undefined otherwise. */
  loadedIndex(): UserIndex | undefined {
    return this.#index;
  }

  /**
   * Registers an issuance of `username` for `role` before its record is
   * written. With `limit` > 0 the role's live credentials (records in
   * `index`, plus issuances running here that have none yet) are counted
   * first, in the same synchronous step, so concurrent requests can never
   * together pass the limit; at the limit nothing is registered and the
   * count is returned.
   */
  beginIssuance(index: UserIndex, username: string, user: IndexedUser, limit: number): Issuance | LimitReached | NameInUse {
    if (index.has(username) || this.#inFlight.has(username)) return { inUse: username };
    if (limit > 0) {
      let live = index.count(user.role);
      for (const [name, running] of this.#inFlight) {
        if (running.user.role === user.role && !index.has(name)) live++;
      }
      if (live >= limit) return { live, limit };
    }
    let resolve: () => void = () => undefined;
    const ended = new Promise<void>((r) => (resolve = r));
    this.#inFlight.set(username, { user, ended });
    return {
      end: () => {
        this.#inFlight.delete(username);
        resolve();
      },
    };
  }

  /** True while an issuance of `username` runs in this process. */
  issuing(username: string): boolean {
    return this.#inFlight.has(username);
  }

  /** Usernames of the issuances running in this process. */
  issuingNow(): string[] {
    return [...this.#inFlight.keys()];
  }

  /** Resolves when every issuance running now has ended, or after `ms`, whichever is first. */
  async issuancesEnded(ms: number): Promise<void> {
    const pending = [...this.#inFlight.values()].map((r) => r.ended);
    if (pending.length === 0) return;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((r) => (timer = setTimeout(r, ms)));
    await Promise.race([Promise.all(pending), timeout]);
    clearTimeout(timer);
  }

  /** The record of `username`; undefined when there is none. */
  async get(storage: Storage, username: string): Promise<UserRecord | undefined> {
    const key = userKey(username);
    const entry = await storage.get(key);
    return entry === undefined ? undefined : decodeUserRecord(key, entry.value);
  }

  /** Writes the record and updates the index. */
  async put(storage: Storage, record: UserRecord): Promise<void> {
    await storage.put({ key: userKey(record.username), value: encodeUserRecord(record) });
    this.#change(record.username, indexed(record));
  }

  /** Deletes the record (a missing one is fine) and its index entry. */
  async delete(storage: Storage, username: string): Promise<void> {
    await storage.delete(userKey(username));
    this.#change(username, undefined);
  }

  /** Drops the index entry of a record found missing from storage. */
  forget(username: string): void {
    this.#change(username, undefined);
  }

  /** Replaces the index entry of a record with what storage holds now. */
  reindex(record: UserRecord): void {
    this.#change(record.username, indexed(record));
  }

  /** Usernames that have a record in storage now. */
  async usernames(storage: Storage): Promise<string[]> {
    const keys = await storage.list(USER_PREFIX);
    return keys.filter((k) => !k.endsWith('/')).map(unescapeUsername);
  }

  /**
   * Every record in storage, read READ_CONCURRENCY at a time. Records that
   * vanish meanwhile are left out; a malformed one is passed to `malformed`
   * (and left out) instead of failing the whole read.
   */
  async list(storage: Storage, malformed: (username: string, err: unknown) => void = () => undefined): Promise<UserRecord[]> {
    const names = await this.usernames(storage);
    const records: UserRecord[] = [];
    await forEachLimited(names, READ_CONCURRENCY, async (name) => {
      try {
        const record = await this.get(storage, name);
        if (record !== undefined) records.push(record);
      } catch (err) {
        if (!(err instanceof MalformedUserRecord)) throw err;
        malformed(name, err);
      }
    });
    return records;
  }

  /** A storage key changed elsewhere: a `user/` key drops the index. True when it was one. */
  invalidate(key: string): boolean {
    if (!key.startsWith(USER_PREFIX)) return false;
    this.#generation++;
    this.#index = undefined;
    this.#loading = undefined;
    this.#journal = undefined;
    return true;
  }

  #change(username: string, user: IndexedUser | undefined): void {
    if (this.#index !== undefined) {
      if (user === undefined) this.#index.delete(username);
      else this.#index.set(username, user);
    } else {
      this.#journal?.set(username, user);
    }
  }

  async #load(storage: Storage): Promise<UserIndex> {
    const generation = this.#generation;
    const journal = new Map<string, IndexedUser | undefined>();
    this.#journal = journal;
    try {
      const index = new UserIndex();
      for (const record of await this.list(storage, this.#onMalformed)) index.set(record.username, indexed(record));
      for (const [username, user] of journal) {
        if (user === undefined) index.delete(username);
        else index.set(username, user);
      }
      // Invalidated meanwhile: this caller gets what was read, the next
      // use reads again.
      if (generation === this.#generation) this.#index = index;
      return index;
    } finally {
      if (generation === this.#generation) {
        this.#journal = undefined;
        this.#loading = undefined;
      }
    }
  }
}
