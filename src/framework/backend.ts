// A Backend assembled from path tables and secret types (sdk/framework
// Backend). It only routes: the concepts live in their own files.

import { ErrorKind, VaultError, invalidRequest, unsupportedOperation, unsupportedPath } from '../vault';
import type { Backend, ExistenceCheckResult, Request, Response, SpecialPaths, Storage } from '../vault';
import { FieldData } from './field-data';
import { validateFields } from './field-validation';
import { pathHelpText, rootHelpText } from './help';
import { openApiDocument } from './openapi';
import type { OpenApiDocument } from './openapi-types';
import { isPathOperationName, operationCallback, operationForwarding } from './path';
import type { Path, PathOperationName } from './path';
import { forwardIfRequired, storageReadOnly } from './replication';
import { handleRollback } from './rollback';
import type { PeriodicFunc, RollbackConfig, WalRollbackFunc } from './rollback';
import { Router } from './router';
import type { RouteMatch } from './router';
import { dispatchSecretOperation } from './secret';
import type { SecretType } from './secret';

/** How old (seconds) a WAL entry must be before rollback touches it; Vault's default. */
const DEFAULT_WAL_ROLLBACK_MIN_AGE = 600;
/** OpenAPI version when neither the options nor Vault tell one (as the Go SDK). */
const UNKNOWN_VERSION = 'unknown';

/** Operations that change state: unknown parameters are rejected on them. */
const WRITE_OPERATIONS: ReadonlySet<PathOperationName> = new Set(['create', 'update', 'patch']);
/** Operations on which `required` fields must be present; patch is partial by design. */
const REQUIRING_OPERATIONS: ReadonlySet<PathOperationName> = new Set(['create', 'update']);

/** What a FrameworkBackend is built from. */
export interface FrameworkBackendOptions {
  /** Overview shown by `vault path-help <mount>`. */
  help: string;
  /** Routes, matched in order; the first match wins. */
  paths: readonly Path[];
  /** Secret types the backend issues; renew/revoke dispatch on them. Absent: none. */
  secrets?: readonly SecretType[];
  /** Undoes leftover WAL entries on rollback. Absent: WAL entries are never rolled back. */
  walRollback?: WalRollbackFunc;
  /**
   * Seconds a WAL entry must exist before rollback touches it; longer than
   * any request that writes one can take. Absent: 600, as in Vault.
   */
  walRollbackMinAge?: number;
  /** Work run on each rollback tick (about every minute). Absent: none. */
  periodic?: PeriodicFunc;
  /** A storage key changed elsewhere: drop caches for it. Absent: nothing cached. */
  invalidate?: (key: string) => void;
  /** The mount is going away: release connections. Absent: nothing to release. */
  clean?: () => Promise<void>;
  /** Storage is writable for the first time (upgrades, migrations). Absent: nothing. */
  initialize?: (storage: Storage) => Promise<void>;
  /** Paths needing sudo, no token, etc. Absent: none. */
  specialPaths?: SpecialPaths;
  /** OpenAPI `info.version`. Absent: Vault's version from the system view. */
  version?: string;
  /** The clock, for WAL ages. Absent: the system clock. */
  now?: () => Date;
}

/** A Vault backend driven by declarative paths and secret types. */
export class FrameworkBackend implements Backend {
  private readonly options: FrameworkBackendOptions;
  private readonly router: Router;
  private readonly secretTypes: ReadonlyMap<string, SecretType>;
  private readonly rollback: RollbackConfig;

  /** Throws an InternalError naming the problem when the tables are inconsistent. */
  constructor(options: FrameworkBackendOptions) {
    this.options = options;
    this.router = new Router(options.paths);
    this.secretTypes = secretTypeMap(options.secrets ?? []);
    const walRollbackMinAge = options.walRollbackMinAge ?? DEFAULT_WAL_ROLLBACK_MIN_AGE;
    if (!Number.isFinite(walRollbackMinAge) || walRollbackMinAge < 0) {
      throw new VaultError(ErrorKind.InternalError, 'walRollbackMinAge must be a non-negative number of seconds');
    }
    this.rollback = {
      periodic: options.periodic,
      walRollback: options.walRollback,
      walRollbackMinAge,
      now: options.now ?? (() => new Date()),
    };
  }

  /** Runs the `initialize` option, if any. */
  async initialize(storage: Storage): Promise<void> {
    await this.options.initialize?.(storage);
  }

  /**
   * renew/revoke go to the secret type, rollback to periodic work and WAL,
   * help to the generated help; everything else to the matching path after
   * field validation (InvalidRequest on failure). UnsupportedPath (404) when
   * no path matches, UnsupportedOperation (405) when it lacks the operation.
   */
  async handleRequest(req: Request): Promise<Response | undefined> {
    switch (req.operation) {
      case 'renew':
      case 'revoke':
        return dispatchSecretOperation(this.secretTypes, req);
      case 'rollback':
        // Periodic work and WAL rollback write storage; where it is
        // read-only, the active node of the primary does them.
        if (await storageReadOnly(req.systemView)) return undefined;
        return handleRollback(req, this.rollback);
      case 'help':
        return this.handleHelp(req);
      default:
        return this.handlePathOperation(req);
    }
  }

  /** Runs the path's existence check; `checkFound: false` when it has none. */
  async handleExistenceCheck(req: Request): Promise<ExistenceCheckResult> {
    if (req.operation !== 'create' && req.operation !== 'update') {
      throw new VaultError(ErrorKind.Unknown, `incorrect operation type ${req.operation} for an existence check`);
    }
    const match = this.route(req);
    const check = match.path.existenceCheck;
    if (check === undefined) return { checkFound: false, exists: false };
    const raw = requestData(req, match);
    const problems = validateFields(match.fields, raw, { forWrite: false });
    if (problems.length > 0) {
      // Vault turns any error from the existence check into a 500
      // (RespondErrorCommon knows no UserError). Answering "no check" lets
      // the request go on as an update, whose validation reports the
      // problem as a 400 naming the field.
      return { checkFound: false, exists: false };
    }
    return { checkFound: true, exists: await check(req, new FieldData(raw, match.fields)) };
  }

  /** The `specialPaths` option, `{}` when absent. */
  specialPaths(): SpecialPaths {
    return this.options.specialPaths ?? {};
  }

  /** Runs the `invalidate` option, if any. */
  invalidateKey(key: string): void {
    this.options.invalidate?.(key);
  }

  /** Runs the `clean` option, if any. */
  async cleanup(): Promise<void> {
    await this.options.clean?.();
  }

  private async handlePathOperation(req: Request): Promise<Response | undefined> {
    const match = this.route(req);
    const operation = req.operation;
    if (!isPathOperationName(operation)) throw unsupportedOperation();
    const operations = match.path.operations;
    // Without an existence check Vault never sends create; when it does
    // anyway (older Vaults, direct callers) update is the right handler.
    const entry = operations[operation] ?? (operation === 'create' ? operations.update : undefined);
    if (entry === undefined) throw unsupportedOperation();
    // Before validation, as sdk/framework: the node that can write answers
    // everything about the request, its 400s included.
    await forwardIfRequired(req.systemView, operationForwarding(entry));
    const raw = requestData(req, match);
    const problems = validateFields(match.fields, raw, {
      forWrite: WRITE_OPERATIONS.has(operation),
      requireFields: REQUIRING_OPERATIONS.has(operation),
    });
    if (problems.length > 0) throw invalidRequest(validationMessage(problems));
    return operationCallback(entry)(req, new FieldData(raw, match.fields));
  }

  private async handleHelp(req: Request): Promise<Response> {
    // The mount root is always the overview, whatever the patterns match.
    if (req.path === '') {
      const doc = openApiDocument(this.router.paths, await this.openApiOptions(req));
      return helpResponse(rootHelpText(this.options.help, this.router.paths), doc);
    }
    const match = this.route(req);
    const doc = openApiDocument([match.path], await this.openApiOptions(req));
    return helpResponse(pathHelpText(req.path, match.path), doc);
  }

  private async openApiOptions(req: Request): Promise<{ version: string; specialPaths: SpecialPaths }> {
    return { version: this.options.version ?? (await vaultVersion(req)), specialPaths: this.specialPaths() };
  }

  private route(req: Request): RouteMatch {
    const match = this.router.match(req.path);
    if (match === undefined) throw unsupportedPath();
    return match;
  }
}

/** Request parameters with the path's captures, which win over body values (as in Vault). */
function requestData(req: Request, match: RouteMatch): Record<string, unknown> {
  return { ...req.data, ...match.captures };
}

function validationMessage(problems: readonly string[]): string {
  return `Field validation failed: ${problems.join('; ')}`;
}

/** Vault's HelpResponse shape. */
function helpResponse(help: string, openapi: OpenApiDocument): Response {
  return { data: { help, see_also: null, openapi } };
}

async function vaultVersion(req: Request): Promise<string> {
  try {
    return await req.systemView.vaultVersion();
  } catch {
    // An error here would fail sys/internal/specs/openapi for every mount;
    // the version is only a label in the document.
    return UNKNOWN_VERSION;
  }
}

function secretTypeMap(secrets: readonly SecretType[]): ReadonlyMap<string, SecretType> {
  const map = new Map<string, SecretType>();
  for (const secret of secrets) {
    if (secret.type === '') throw new VaultError(ErrorKind.InternalError, 'a secret type needs a non-empty type name');
    if (map.has(secret.type)) {
      throw new VaultError(ErrorKind.InternalError, `secret type "${secret.type}" is declared twice`);
    }
    map.set(secret.type, secret);
  }
  return map;
}
