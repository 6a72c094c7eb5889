// The logical model of Vault's backend protocol: what a request, a response,
// a secret, the mount's storage and its system view are, independent of the
// protobuf wire form (see codec.ts) and of any particular engine.
//
// Durations are seconds (numbers, fractions allowed) everywhere above the
// codec; the wire carries nanoseconds.

/** Operations Vault sends in `Request.operation` (sdk/logical/request.go). */
export type Operation =
  | 'create'
  | 'read'
  | 'update'
  | 'patch'
  | 'delete'
  | 'list'
  | 'help'
  | 'alias-lookahead'
  | 'resolve-role'
  | 'header'
  | 'renew'
  | 'revoke'
  | 'rollback'
  | 'recover';

/** Lease parameters of a secret, as issued or as Vault sends them back. */
export interface LeaseOptions {
  /** Lease duration in seconds; 0 means the mount/system default. */
  ttl: number;
  /** Backend-imposed maximum lifetime in seconds; 0 means none. */
  maxTtl: number;
  renewable: boolean;
  /** On renew: the increment the caller asked for in seconds, 0 if none. */
  increment: number;
  /** When the lease was first issued. Vault rejects a lease without one. */
  issueTime: Date;
}

/** A leased secret. `internalData` is never shown to clients. */
export interface Secret {
  leaseOptions: LeaseOptions;
  /** Everything renew/revoke needs; must survive plugin upgrades. */
  internalData: Record<string, unknown>;
  /** Set by Vault; ignored in responses, may be empty in requests. */
  leaseId: string;
}

/** One entry of the mount's private storage. */
export interface StorageEntry {
  key: string;
  value: Buffer;
  sealWrap?: boolean;
}

/** The mount's private storage, served by Vault through the broker. */
export interface Storage {
  /** Immediate children of `prefix`; folders end with `/`. */
  list(prefix: string): Promise<string[]>;
  /** `undefined` when the key does not exist. */
  get(key: string): Promise<StorageEntry | undefined>;
  put(entry: StorageEntry): Promise<void>;
  /** Deleting a missing key is not an error. */
  delete(key: string): Promise<void>;
}

/** Vault's view of the mount and the system, served through the broker. */
export interface SystemView {
  /** Mount-tuned or system default lease TTL, seconds. */
  defaultLeaseTtl(): Promise<number>;
  /** Mount-tuned or system maximum lease TTL, seconds. */
  maxLeaseTtl(): Promise<number>;
  /** True while the mount is being unmounted. */
  tainted(): Promise<boolean>;
  localMount(): Promise<boolean>;
  replicationState(): Promise<number>;
  /** Vault's version string, e.g. `1.17.3`. */
  vaultVersion(): Promise<string>;
  /** Generates a password from a password policy stored in Vault. */
  generatePasswordFromPolicy(policyName: string): Promise<string>;
}

/** A request as the backend sees it. */
export interface Request {
  /** Request UUID; empty for renew, revoke and rollback. */
  id: string;
  operation: Operation;
  /** Path relative to the mount; list paths end with `/`; `""` is the root. */
  path: string;
  /** Request parameters (JSON object; `{}` when Vault sent `null`). */
  data: Record<string, unknown>;
  /** Only on renew and revoke. */
  secret?: Secret;
  /** Mount path with a trailing `/`; empty on the OpenAPI request. */
  mountPoint: string;
  mountType: string;
  mountAccessor: string;
  displayName: string;
  entityId: string;
  clientTokenAccessor: string;
  storage: Storage;
  systemView: SystemView;
  /** Aborted when Vault's request deadline passes or the call is cancelled. */
  signal: AbortSignal;
}

/** A backend's answer. A missing response is Go's nil response. */
export interface Response {
  /** JSON object returned to the client; `{error}` marks an error response. */
  data?: Record<string, unknown>;
  /** Present when the response creates a lease. */
  secret?: Secret;
  warnings?: string[];
}

/** Result of an existence check (decides create versus update). */
export interface ExistenceCheckResult {
  /** False when the path has no existence check: the operation stays update. */
  checkFound: boolean;
  exists: boolean;
}

/** Vault's special paths (`pb.Paths`); patterns are exact or end with `*`. */
export interface SpecialPaths {
  root?: string[];
  unauthenticated?: string[];
  localStorage?: string[];
  sealWrapStorage?: string[];
}

/** What a backend instance receives when Vault sets it up. */
export interface BackendConfig {
  /** Mount options plus plugin_name, plugin_type, plugin_version. */
  config: Record<string, string>;
  /** Unique per mount, stable across restarts; empty on the catalog probe. */
  backendUuid: string;
  storage: Storage;
  systemView: SystemView;
}

/** A logical (secrets-engine) backend: one instance per mount. */
export interface Backend {
  /** Called once storage is writable; may be skipped after a crash restart. */
  initialize(storage: Storage): Promise<void>;
  handleRequest(req: Request): Promise<Response | undefined>;
  handleExistenceCheck(req: Request): Promise<ExistenceCheckResult>;
  specialPaths(): SpecialPaths;
  /** A storage key changed elsewhere: drop whatever is cached for it. */
  invalidateKey(key: string): void;
  /** The mount is going away (unmount, seal, reload): release resources. */
  cleanup(): Promise<void>;
}

/** Builds a backend instance; must not touch storage (see BackendConfig). */
export type BackendFactory = (conf: BackendConfig) => Promise<Backend>;

/** Go's zero time, which Vault sends when an issue time is unknown. */
export const GO_ZERO_TIME = new Date(-62135596800000);
