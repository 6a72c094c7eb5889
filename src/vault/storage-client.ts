// The mount's storage, served by Vault on the brokered connection
// (sdk/plugin/grpc_storage.go). Backend-level failures arrive in the reply's
// `err` string, transport failures as gRPC errors; both become Errors here.

import * as grpc from '@grpc/grpc-js';
import { pb } from '../gen/backend';
import { READ_ONLY_MESSAGE, ReadOnlyError } from './errors';
import { unaryCall } from './grpc-call';
import type { Storage, StorageEntry } from './logical';

/** Storage over a brokered channel. */
export class StorageClient implements Storage {
  readonly #client: pb.StorageClient;

  constructor(channel: grpc.Channel) {
    this.#client = new pb.StorageClient('unused', grpc.credentials.createInsecure(), { channelOverride: channel });
  }

  async list(prefix: string): Promise<string[]> {
    const reply = await unaryCall<pb.StorageListArgs, pb.StorageListReply>(this.#client.List, new pb.StorageListArgs({ prefix }), new grpc.Metadata());
    throwIfErr('list', reply.err);
    return reply.keys;
  }

  async get(key: string): Promise<StorageEntry | undefined> {
    const reply = await unaryCall<pb.StorageGetArgs, pb.StorageGetReply>(this.#client.Get, new pb.StorageGetArgs({ key }), new grpc.Metadata());
    throwIfErr('get', reply.err);
    if (!reply.has_entry) return undefined;
    return { key: reply.entry.key, value: Buffer.from(reply.entry.value), sealWrap: reply.entry.seal_wrap };
  }

  async put(entry: StorageEntry): Promise<void> {
    const message = new pb.StoragePutArgs({
      entry: new pb.StorageEntry({ key: entry.key, value: entry.value, seal_wrap: entry.sealWrap ?? false }),
    });
    const reply = await unaryCall<pb.StoragePutArgs, pb.StoragePutReply>(this.#client.Put, message, new grpc.Metadata());
    throwIfErr('put', reply.err);
  }

  async delete(key: string): Promise<void> {
    const reply = await unaryCall<pb.StorageDeleteArgs, pb.StorageDeleteReply>(this.#client.Delete, new pb.StorageDeleteArgs({ key }), new grpc.Metadata());
    throwIfErr('delete', reply.err);
  }
}

/**
 * Vault's storage reply carries errors as text only. Read-only storage (a
 * performance standby, a replication secondary) is recognised by Vault's
 * own text, as Vault itself recognises it, and kept as a ReadOnlyError so
 * that Vault forwards the request instead of answering 500.
 */
export function storageError(op: string, err: string): Error | undefined {
  if (err === '') return undefined;
  if (err.includes(READ_ONLY_MESSAGE)) return new ReadOnlyError(`storage ${op} failed: ${err}`);
  return new Error(`storage ${op} failed: ${err}`);
}

function throwIfErr(op: string, err: string): void {
  const error = storageError(op, err);
  if (error) throw error;
}
