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
