// Vault's SystemView, served on the brokered connection (sdk/plugin/grpc_system.go).
//
// The replication state and whether the mount is local are asked before
// every request that writes (forwarding) and every lease revocation and
// renewal: a broker round trip each time, for an answer that changes only
// when the node changes role (and Vault then sets the mount up again).
// Each answer is reused for REPLICATION_TTL_MS.

import * as grpc from '@grpc/grpc-js';
import { pb } from '../gen/backend';
import { nsToSeconds } from './codec';
import { unaryCall, type UnaryMethod } from './grpc-call';
import type { SystemView } from './logical';
import { Recent } from './recent';

/** How long a replication state or local-mount answer is reused, in ms. */
export const REPLICATION_TTL_MS = 1_000;

/** SystemView over a brokered channel. */
export class SystemViewClient implements SystemView {
  readonly #client: pb.SystemViewClient;
  readonly #replicationState: Recent<number>;
  readonly #localMount: Recent<boolean>;

  /** `now` (ms) is the clock of the reuse window; default Date.now. */
  constructor(channel: grpc.Channel, now: () => number = Date.now) {
    this.#client = new pb.SystemViewClient('unused', grpc.credentials.createInsecure(), { channelOverride: channel });
    const ask = <Rep>(method: UnaryMethod<pb.Empty, Rep>): Promise<Rep> => unaryCall(method, new pb.Empty(), new grpc.Metadata());
    this.#replicationState = new Recent(REPLICATION_TTL_MS, now, async () => (await ask<pb.ReplicationStateReply>(this.#client.ReplicationState)).state);
    this.#localMount = new Recent(REPLICATION_TTL_MS, now, async () => (await ask<pb.LocalMountReply>(this.#client.LocalMount)).local);
  }

  async defaultLeaseTtl(): Promise<number> {
    return nsToSeconds((await unaryCall<pb.Empty, pb.TTLReply>(this.#client.DefaultLeaseTTL, new pb.Empty(), new grpc.Metadata())).TTL);
  }

  async maxLeaseTtl(): Promise<number> {
    return nsToSeconds((await unaryCall<pb.Empty, pb.TTLReply>(this.#client.MaxLeaseTTL, new pb.Empty(), new grpc.Metadata())).TTL);
  }

  async tainted(): Promise<boolean> {
    return (await unaryCall<pb.Empty, pb.TaintedReply>(this.#client.Tainted, new pb.Empty(), new grpc.Metadata())).tainted;
  }

  /** Reused for REPLICATION_TTL_MS. */
  localMount(): Promise<boolean> {
    return this.#localMount.get();
  }

  /** Reused for REPLICATION_TTL_MS. */
  replicationState(): Promise<number> {
    return this.#replicationState.get();
  }

  async vaultVersion(): Promise<string> {
    const reply = await unaryCall<pb.Empty, pb.PluginEnvReply>(this.#client.PluginEnv, new pb.Empty(), new grpc.Metadata());
    if (reply.err !== '') throw new Error(`plugin environment: ${reply.err}`);
    return reply.plugin_environment?.vault_version ?? '';
  }

  /** Vault reports failures as gRPC status errors; the policy name is safe to repeat. */
  async generatePasswordFromPolicy(policyName: string): Promise<string> {
    const reply = await unaryCall<pb.GeneratePasswordFromPolicyRequest, pb.GeneratePasswordFromPolicyReply>(
      this.#client.GeneratePasswordFromPolicy,
      new pb.GeneratePasswordFromPolicyRequest({ policy_name: policyName }),
      new grpc.Metadata(),
    );
    return reply.password;
  }
}

