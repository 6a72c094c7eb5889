// Errors a backend can return, each with the kind Vault's translation layer
// understands (sdk/plugin/pb/translation.go ErrType). User mistakes are
// answered with errorResponse(); failures are thrown as VaultError and turned
// into a ProtoError by the codec.

import type { Response } from './logical';

/** `pb.ProtoError.err_type` values. */
export enum ErrorKind {
  Unknown = 0,
  UserError = 1,
  InternalError = 2,
  CodedError = 3,
  StatusBadRequest = 4,
  UnsupportedOperation = 5,
  UnsupportedPath = 6,
  InvalidRequest = 7,
  PermissionDenied = 8,
  MultiAuthzPending = 9,
  Unrecoverable = 10,
}

/** An error carrying the Vault error kind it must be reported as. */
export class VaultError extends Error {
  readonly kind: ErrorKind;
  /** HTTP status, only for CodedError. */
  readonly code: number;
  /** An error response to send along with the error, if any. */
  readonly response: Response | undefined;

  constructor(kind: ErrorKind, message: string, options: { code?: number; cause?: unknown; response?: Response } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'VaultError';
    this.kind = kind;
    this.code = options.code ?? 0;
    this.response = options.response;
  }
}

/** Vault answers 404 for this path. */
export function unsupportedPath(): VaultError {
  return new VaultError(ErrorKind.UnsupportedPath, 'unsupported path');
}

/** Vault answers 405: the path exists but not with this operation. */
export function unsupportedOperation(): VaultError {
  return new VaultError(ErrorKind.UnsupportedOperation, 'unsupported operation');
}

/** Vault answers 400 with `message` (the framework's field-validation form). */
export function invalidRequest(message: string): VaultError {
  return new VaultError(ErrorKind.InvalidRequest, 'invalid request', { response: errorResponse(message) });
}

/** Vault answers with this HTTP status and message. */
export function codedError(code: number, message: string, cause?: unknown): VaultError {
  return new VaultError(ErrorKind.CodedError, message, { code, cause });
}

/**
 * A failure that retrying may fix (database down, timeout). Vault keeps
 * retrying revocations that fail with it, unlike Unrecoverable.
 */
export function retryableError(message: string, cause?: unknown): VaultError {
  return new VaultError(ErrorKind.Unknown, message, { cause });
}

/**
 * Vault's `logical.ErrReadOnly` text. ProtoError has no kind for it: the
 * Go SDK sends it as ErrTypeUnknown, and Vault recognises it by this text
 * (errwrap.Contains) and forwards the request to the active node.
 */
export const READ_ONLY_MESSAGE = 'cannot write to readonly storage';

/**
 * Storage is read-only on this node (a performance standby, or a
 * replication secondary for a replicated mount). Reported to Vault as its
 * own ErrReadOnly, so that Vault forwards the request; never a user error.
 */
export class ReadOnlyError extends VaultError {
  /** `message` must contain READ_ONLY_MESSAGE; absent: exactly that text. */
  constructor(message: string = READ_ONLY_MESSAGE) {
    super(ErrorKind.Unknown, message);
    this.name = 'ReadOnlyError';
  }
}

/** How deep isReadOnlyError follows `cause`: wrappers are few, and a cycle must end. */
const MAX_CAUSE_DEPTH = 16;

/** True when `err`, or an error in its `cause` chain, is a ReadOnlyError. */
export function isReadOnlyError(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < MAX_CAUSE_DEPTH; e = e.cause, depth++) {
    if (e instanceof ReadOnlyError) return true;
  }
  return false;
}

/** A user-facing error response: Vault answers 400 with `message`. */
export function errorResponse(message: string): Response {
  return { data: { error: message } };
}

/** True when the response is an error response (`data.error` set). */
export function isErrorResponse(resp: Response | undefined): boolean {
  return typeof resp?.data?.['error'] === 'string';
}

/** Narrows an unknown thrown value to a message without leaking structure. */
export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
