// Vault's SystemView, served on the brokered connection (sdk/plugin/grpc_system.go).

import * as grpc from '@grpc/grpc-js';
import { pb } from '../gen/backend';
import { nsToSeconds } from './codec';
import { unaryCall } from './grpc-call';
import type { SystemView } from './logical';

/** SystemView over a brokered channel. */
export class SystemViewClient implements SystemView {
  readonly #client: pb.SystemViewClient;

  constructor(channel: grpc.Channel) {
    this.#client = new pb.SystemViewClient('unused', grpc.credentials.createInsecure(), { channelOverride: channel });
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

  async localMount(): Promise<boolean> {
    return (await unaryCall<pb.Empty, pb.LocalMountReply>(this.#client.LocalMount, new pb.Empty(), new grpc.Metadata())).local;
  }

  async replicationState(): Promise<number> {
    return (await unaryCall<pb.Empty, pb.ReplicationStateReply>(this.#client.ReplicationState, new pb.Empty(), new grpc.Metadata())).state;
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
