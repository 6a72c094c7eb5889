// Translation between the protobuf messages of Vault's backend protocol and
// the logical model (logical.ts), following sdk/plugin/pb/translation.go:
// durations are nanoseconds on the wire and seconds above it; `data` and
// `internal_data` are JSON objects in strings and must never be empty; every
// lease carries an issue time.

import { pb } from '../gen/backend';
import { google } from '../gen/google/protobuf/timestamp';
import { ErrorKind, READ_ONLY_MESSAGE, VaultError, errorMessage, isReadOnlyError } from './errors';
import type { LeaseOptions, Operation, Request, Response, Secret, SpecialPaths, Storage, SystemView } from './logical';
import { GO_ZERO_TIME } from './logical';

const NS_PER_SECOND = 1e9;
const MS_PER_SECOND = 1e3;

/** Seconds → Go time.Duration nanoseconds (rounded: the wire is an integer). */
export function secondsToNs(seconds: number): number {
  return Math.round(seconds * NS_PER_SECOND);
}

/** Go time.Duration nanoseconds → seconds. */
export function nsToSeconds(ns: number): number {
  return ns / NS_PER_SECOND;
}

/** A Date as google.protobuf.Timestamp. */
export function toTimestamp(date: Date): google.protobuf.Timestamp {
  const ms = date.getTime();
  const seconds = Math.floor(ms / MS_PER_SECOND);
  return new google.protobuf.Timestamp({ seconds, nanos: (ms - seconds * MS_PER_SECOND) * 1e6 });
}

/** A google.protobuf.Timestamp as Date; a missing one is Go's zero time. */
export function fromTimestamp(ts: google.protobuf.Timestamp | undefined): Date {
  if (!ts) return GO_ZERO_TIME;
  return new Date(ts.seconds * MS_PER_SECOND + Math.floor(ts.nanos / 1e6));
}

/** Parses a JSON-object string; `null`, empty and non-objects become `{}`. */
export function parseJsonObject(text: string, what: string): Record<string, unknown> {
  if (text === '' || text === 'null') return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new VaultError(ErrorKind.InvalidRequest, `${what} is not valid JSON: ${errorMessage(err)}`);
  }
  if (value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new VaultError(ErrorKind.InvalidRequest, `${what} must be a JSON object`);
  }
  return { ...value };
}

function decodeLeaseOptions(lo: pb.LeaseOptions | undefined): LeaseOptions {
  return {
    ttl: nsToSeconds(lo?.TTL ?? 0),
    maxTtl: nsToSeconds(lo?.MaxTTL ?? 0),
    renewable: lo?.renewable ?? false,
    increment: nsToSeconds(lo?.increment ?? 0),
    issueTime: fromTimestamp(lo?.has_issue_time ? lo.issue_time : undefined),
  };
}

function encodeLeaseOptions(lo: LeaseOptions): pb.LeaseOptions {
  return new pb.LeaseOptions({
    TTL: secondsToNs(lo.ttl),
    MaxTTL: secondsToNs(lo.maxTtl),
    renewable: lo.renewable,
    increment: secondsToNs(lo.increment),
    issue_time: toTimestamp(lo.issueTime),
  });
}

/** A secret from a renew/revoke request. */
export function decodeSecret(secret: pb.Secret): Secret {
  return {
    leaseOptions: decodeLeaseOptions(secret.has_lease_options ? secret.lease_options : undefined),
    internalData: parseJsonObject(secret.internal_data, 'secret internal_data'),
    leaseId: secret.lease_id,
  };
}

/** A secret for a response: internal data always a JSON object, issue time always set. */
export function encodeSecret(secret: Secret): pb.Secret {
  return new pb.Secret({
    lease_options: encodeLeaseOptions(secret.leaseOptions),
    internal_data: JSON.stringify(secret.internalData),
    lease_id: secret.leaseId,
  });
}

/** What a decoded request needs besides the message. */
export interface RequestContext {
  storage: Storage;
  systemView: SystemView;
  signal: AbortSignal;
}

/** A wire request as the backend sees it. */
export function decodeRequest(req: pb.Request, ctx: RequestContext): Request {
  const decoded: Request = {
    id: req.id,
    operation: req.operation as Operation,
    path: req.path,
    data: parseJsonObject(req.data, 'request data'),
    mountPoint: req.mount_point,
    mountType: req.mount_type,
    mountAccessor: req.mount_accessor,
    displayName: req.display_name,
    entityId: req.entity_id,
    clientTokenAccessor: req.client_token_accessor,
    storage: ctx.storage,
    systemView: ctx.systemView,
    signal: ctx.signal,
  };
  if (req.has_secret) decoded.secret = decodeSecret(req.secret);
  return decoded;
}

/** A response for the wire; `undefined` stays absent (Go's nil response). */
export function encodeResponse(resp: Response | undefined): pb.Response | undefined {
  if (resp === undefined) return undefined;
  const out = new pb.Response({
    data: resp.data === undefined ? 'null' : JSON.stringify(resp.data),
    warnings: resp.warnings ?? [],
  });
  if (resp.secret) out.secret = encodeSecret(resp.secret);
  return out;
}

/** Any thrown value as a ProtoError plus the error response to send with it. */
export function encodeError(err: unknown): { error: pb.ProtoError; response: Response | undefined } {
  if (isReadOnlyError(err)) {
    // However it was wrapped, Vault must see its own ErrReadOnly: the kind
    // the Go SDK gives it, and a message containing its text.
    const message = errorMessage(err);
    const text = message.includes(READ_ONLY_MESSAGE) ? message : `${message}: ${READ_ONLY_MESSAGE}`;
    return { error: new pb.ProtoError({ err_type: ErrorKind.Unknown, err_msg: text }), response: undefined };
  }
  if (err instanceof VaultError) {
    return {
      error: new pb.ProtoError({ err_type: err.kind, err_msg: err.message, err_code: err.code }),
      response: err.response,
    };
  }
  return { error: new pb.ProtoError({ err_type: ErrorKind.Unknown, err_msg: errorMessage(err) }), response: undefined };
}

/** Special paths as `pb.Paths`. */
export function encodePaths(paths: SpecialPaths): pb.Paths {
  return new pb.Paths({
    root: paths.root ?? [],
    unauthenticated: paths.unauthenticated ?? [],
    local_storage: paths.localStorage ?? [],
    seal_wrap_storage: paths.sealWrapStorage ?? [],
  });
}
