// Named objects in Vault storage under one prefix (`config/`, `role/`),
// cached in memory per backend instance. The cache entry for a name is
// replaced when it is written here and dropped when Vault invalidates the key
// (another node changed it).

import type { Storage } from '../vault';

/** How objects of one kind are stored. */
export interface StoredKind<T> {
  /** Storage prefix with trailing slash, e.g. `config/`. */
  prefix: string;
  encode(value: T): Buffer;
  decode(value: Buffer): T;
}

/** Objects of one kind by name, read through to storage. */
export class CachedStore<T> {
  readonly #cache = new Map<string, T>();
  readonly #kind: StoredKind<T>;

  constructor(kind: StoredKind<T>) {
    this.#kind = kind;
  }

  /** The object named `name`, or undefined. */
  async get(storage: Storage, name: string): Promise<T | undefined> {
    const cached = this.#cache.get(name);
    if (cached !== undefined) return cached;
    const entry = await storage.get(this.#kind.prefix + name);
    if (!entry) return undefined;
    const value = this.#kind.decode(entry.value);
    this.#cache.set(name, value);
    return value;
  }

  async put(storage: Storage, name: string, value: T): Promise<void> {
    await storage.put({ key: this.#kind.prefix + name, value: this.#kind.encode(value) });
    this.#cache.set(name, value);
  }

  async delete(storage: Storage, name: string): Promise<void> {
    await storage.delete(this.#kind.prefix + name);
    this.#cache.delete(name);
  }

  async list(storage: Storage): Promise<string[]> {
    return storage.list(this.#kind.prefix);
  }

  /** Forgets the cached copy for a storage key of this kind; returns its name, if it was one. */
  invalidate(key: string): string | undefined {
    const prefix = this.#kind.prefix;
    if (!key.startsWith(prefix) || key.length === prefix.length) return undefined;
    const name = key.slice(prefix.length);
    this.#cache.delete(name);
    return name;
  }
}
