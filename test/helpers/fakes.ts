// In-memory stand-ins for what Vault serves over the broker (storage and
// system view), plus a request builder, shared by all unit tests — the
// counterparts of the Go SDK's logical.InmemStorage and TestSystemView.

import { ErrorKind, VaultError } from '../../src/vault';
import type { Request, Storage, StorageEntry, SystemView } from '../../src/vault';

/** Vault's system default and maximum lease TTL (768h), seconds. */
export const VAULT_DEFAULT_TTL = 768 * 3600;
/** Version the fake system view reports. */
export const FAKE_VAULT_VERSION = '1.17.0';

/** Storage in a Map, with Vault's list semantics and key checks. */
export class InmemStorage implements Storage {
  private readonly entries = new Map<string, StorageEntry>();

  /** Immediate children of `prefix`, relative to it; sub-folders once, with a trailing `/`; sorted. */
  async list(prefix: string): Promise<string[]> {
    checkKey(prefix);
    const children = new Set<string>();
    for (const key of this.entries.keys()) {
      if (!key.startsWith(prefix)) continue;
      const rest = key.slice(prefix.length);
      const slash = rest.indexOf('/');
      children.add(slash === -1 ? rest : rest.slice(0, slash + 1));
    }
    return [...children].sort();
  }

  async get(key: string): Promise<StorageEntry | undefined> {
    checkKey(key);
    const entry = this.entries.get(key);
    return entry === undefined ? undefined : copyEntry(entry);
  }

  async put(entry: StorageEntry): Promise<void> {
    checkKey(entry.key);
    this.entries.set(entry.key, copyEntry(entry));
  }

  async delete(key: string): Promise<void> {
    checkKey(key);
    this.entries.delete(key);
  }

  /** Every key, sorted (for assertions). */
  keys(): string[] {
    return [...this.entries.keys()].sort();
  }
}

/** Vault refuses keys with parent references (logical.InmemStorage does too). */
function checkKey(key: string): void {
  if (key.includes('..')) throw new VaultError(ErrorKind.Unknown, 'path cannot contain parent references');
}

function copyEntry(entry: StorageEntry): StorageEntry {
  return { ...entry, value: Buffer.from(entry.value) };
}

/** Settable parts of the fake system view. */
export interface StaticSystemViewOptions {
  /** Seconds. Absent: 768h. */
  defaultLeaseTtl?: number;
  /** Seconds. Absent: 768h. */
  maxLeaseTtl?: number;
  /** Absent: false. */
  tainted?: boolean;
  /** Absent: false. */
  localMount?: boolean;
  /** Absent: FAKE_VAULT_VERSION. */
  vaultVersion?: string;
  /** Vault's ReplicationState bits (e.g. REPLICATION_STATE.performanceStandby). Absent: 0, an active node without replication. */
  replicationState?: number;
  /** Absent: every policy name is unknown. */
  passwordPolicy?: (policyName: string) => Promise<string>;
}

/** A system view with fixed, settable answers. */
export class StaticSystemView implements SystemView {
  /** Seconds. */
  defaultTtl: number;
  /** Seconds. */
  maxTtl: number;
  /** What tainted() answers. */
  isTainted: boolean;
  /** What localMount() answers. */
  isLocalMount: boolean;
  /** What vaultVersion() answers. */
  version: string;
  /** What replicationState() answers. */
  replication: number;
  /** Generates passwords for generatePasswordFromPolicy. */
  passwordPolicy: (policyName: string) => Promise<string>;

  constructor(options: StaticSystemViewOptions = {}) {
    this.defaultTtl = options.defaultLeaseTtl ?? VAULT_DEFAULT_TTL;
    this.maxTtl = options.maxLeaseTtl ?? VAULT_DEFAULT_TTL;
    this.isTainted = options.tainted ?? false;
    this.isLocalMount = options.localMount ?? false;
    this.version = options.vaultVersion ?? FAKE_VAULT_VERSION;
    this.replication = options.replicationState ?? 0;
    this.passwordPolicy =
      options.passwordPolicy ??
      (async (name) => {
        throw new VaultError(ErrorKind.Unknown, `password policy "${name}" not found`);
      });
  }

  async defaultLeaseTtl(): Promise<number> {
    return this.defaultTtl;
  }

  async maxLeaseTtl(): Promise<number> {
    return this.maxTtl;
  }

  async tainted(): Promise<boolean> {
    return this.isTainted;
  }

  async localMount(): Promise<boolean> {
    return this.isLocalMount;
  }

  async replicationState(): Promise<number> {
    return this.replication;
  }

  async vaultVersion(): Promise<string> {
    return this.version;
  }

  async generatePasswordFromPolicy(policyName: string): Promise<string> {
    return this.passwordPolicy(policyName);
  }
}

/** A request with test defaults (read of the mount root, fresh storage and system view), overridden by `partial`. */
export function testRequest(partial: Partial<Request> = {}): Request {
  return {
    id: 'test-request-id',
    operation: 'read',
    path: '',
    data: {},
    mountPoint: 'test/',
    mountType: 'test',
    mountAccessor: 'test_accessor',
    displayName: 'token-test',
    entityId: '',
    clientTokenAccessor: '',
    storage: new InmemStorage(),
    systemView: new StaticSystemView(),
    signal: new AbortController().signal,
    ...partial,
  };
}
