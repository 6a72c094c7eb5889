// A path is data (sdk/framework Path): pattern, fields, one handler per
// operation, existence check and help in one literal. Routing, validation,
// help and OpenAPI are all derived from it.

import type { Request, Response } from '../vault';
import type { FieldData } from './field-data';
import type { FieldSchemas } from './field-schema';
import type { ForwardingRules } from './replication';

/** Handles one operation on a path; `undefined` is Go's nil response. */
export type OperationHandler = (req: Request, data: FieldData) => Promise<Response | undefined>;

/** Whether the object a create/update targets exists (decides create vs update). */
export type ExistenceCheck = (req: Request, data: FieldData) => Promise<boolean>;

/** The operations a path can implement; the rest are answered by the backend itself. */
export type PathOperationName = 'create' | 'read' | 'update' | 'patch' | 'delete' | 'list';

/** An operation handler with documentation for OpenAPI. */
export interface PathOperation {
  /** The handler. */
  callback: OperationHandler;
  /** One line for OpenAPI `summary`. Absent: none. */
  summary?: string;
  /** Longer OpenAPI `description`. Absent: none. */
  description?: string;
  /**
   * The operation writes storage (or must see what the active node wrote):
   * on a performance standby it is answered with Vault's read-only error
   * before the handler runs, and Vault forwards it to the active node (Go's
   * ForwardPerformanceStandby). Absent: handled on any node.
   */
  forwardPerformanceStandby?: boolean;
  /**
   * The same on a performance secondary, unless the mount is local to it
   * (Go's ForwardPerformanceSecondary). Absent: handled there.
   */
  forwardPerformanceSecondary?: boolean;
}

/** One route of the backend. */
export interface Path {
  /**
   * Regular expression (JavaScript syntax; Go's `(?P<name>…)` is accepted
   * too) without anchors: it is matched against the whole request path.
   * Named captures become fields and must be declared in `fields`. List
   * paths should end with `optionalTrailingSlash`, since list requests carry
   * a trailing slash and help requests do not.
   */
  pattern: string;
  /** Request parameters and captures. Absent: none (every parameter is unknown). */
  fields?: FieldSchemas;
  /** Handlers by operation. A `create` without handler runs `update`. */
  operations: Partial<Record<PathOperationName, OperationHandler | PathOperation>>;
  /**
   * Makes Vault send `create` when the object is missing, `update` when it
   * exists. A path with an existence check must handle `create`. Absent:
   * Vault always sends `update`.
   */
  existenceCheck?: ExistenceCheck;
  /** One sentence: shown in the root help listing and as the OpenAPI path description. */
  helpSynopsis: string;
  /** Long-form help for `vault path-help`. */
  helpDescription: string;
}

/** Vault's GenericNameRegex: word characters, `-` and `.`, not starting or ending with `-`/`.`. */
export function genericNameRegex(name: string): string {
  return `(?<${name}>\\w(([\\w.-]+)?\\w)?)`;
}

/** Matches an optional trailing slash (list requests add one). */
export const optionalTrailingSlash = '/?';

/** Captures the rest of the path, slashes included. */
export function matchAllRegex(name: string): string {
  return `(?<${name}>.*)`;
}

/** The forwarding flags of an operation entry; a bare handler has none. */
export function operationForwarding(entry: OperationHandler | PathOperation): ForwardingRules {
  if (typeof entry === 'function') return {};
  return { performanceStandby: entry.forwardPerformanceStandby, performanceSecondary: entry.forwardPerformanceSecondary };
}

/** The handler of an operation entry, whichever form it was declared in. */
export function operationCallback(entry: OperationHandler | PathOperation): OperationHandler {
  return typeof entry === 'function' ? entry : entry.callback;
}

/** The operations a path can implement, in documentation order. */
export const PATH_OPERATIONS: readonly PathOperationName[] = ['create', 'read', 'update', 'patch', 'delete', 'list'];

/** True for operations a path can implement. */
export function isPathOperationName(op: string): op is PathOperationName {
  return PATH_OPERATIONS.some((known) => known === op);
}
