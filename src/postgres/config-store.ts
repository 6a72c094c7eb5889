// Connection configs in Vault storage, cached in memory per backend instance.
// The cache is dropped for a key when it is written here or when Vault
// invalidates it (another node changed it), and the pool goes with it.

import type { Storage } from '../vault';
import { CONFIG_PREFIX, configKey, decodeConfig, encodeConfig, type ConnectionConfig } from './connection-config';

/** Configs by name, read through to storage. */
export class ConfigStore {
  readonly #cache = new Map<string, ConnectionConfig>();

  /** The config named `name`, or undefined. */
  async get(storage: Storage, name: string): Promise<ConnectionConfig | undefined> {
    const cached = this.#cache.get(name);
    if (cached) return cached;
    const entry = await storage.get(configKey(name));
    if (!entry) return undefined;
    const config = decodeConfig(entry.value);
    this.#cache.set(name, config);
    return config;
  }

  async put(storage: Storage, name: string, config: ConnectionConfig): Promise<void> {
    await storage.put({ key: configKey(name), value: encodeConfig(config) });
    this.#cache.set(name, config);
  }

  async delete(storage: Storage, name: string): Promise<void> {
    await storage.delete(configKey(name));
    this.#cache.delete(name);
  }

  async list(storage: Storage): Promise<string[]> {
    return storage.list(CONFIG_PREFIX);
  }

  /** Forgets the cached copy of `name`. */
  forget(name: string): void {
    this.#cache.delete(name);
  }

  /** The config name a storage key belongs to, if it is a config key. */
  static nameOfKey(key: string): string | undefined {
    return key.startsWith(CONFIG_PREFIX) && key.length > CONFIG_PREFIX.length ? key.slice(CONFIG_PREFIX.length) : undefined;
  }
}
