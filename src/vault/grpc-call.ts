// Promise form of a generated grpc-js unary client method.

import type * as grpc from '@grpc/grpc-js';

/** A generated unary method in its (message, metadata, options, callback) form. */
export type UnaryMethod<Req, Rep> = (
  message: Req,
  metadata: grpc.Metadata,
  options: grpc.CallOptions,
  callback: grpc.requestCallback<Rep>,
) => grpc.ClientUnaryCall;

/** Calls `method` and resolves with its reply. */
export function unaryCall<Req, Rep>(
  method: UnaryMethod<Req, Rep>,
  message: Req,
  metadata: grpc.Metadata,
  options: grpc.CallOptions = {},
): Promise<Rep> {
  return new Promise((resolve, reject) => {
    method(message, metadata, options, (err, reply) => {
      // Vault's own words (`details`) without grpc-js's "13 INTERNAL:" prefix.
      if (err) reject(new Error(err.details || err.message, { cause: err }));
      else if (reply === undefined) reject(new Error('empty gRPC reply'));
      else resolve(reply);
    });
  });
}
