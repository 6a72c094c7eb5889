// plugin.GRPCStdio: Vault opens the stream and discards what it carries; the
// plugin never writes to stdout after the handshake, so the stream stays silent
// until the host cancels it.

import type * as grpc from '@grpc/grpc-js';
import { plugin } from '../gen/plugin';
import type { google } from '../gen/google/protobuf/empty';
import type { LongLivedStreams } from './streams';

/** The stdio service implementation. */
export function stdioService(streams: LongLivedStreams): grpc.UntypedServiceImplementation {
  return {
    StreamStdio: (call: grpc.ServerWritableStream<google.protobuf.Empty, plugin.StdioData>) => {
      streams.track(call);
    },
  };
}

export const stdioDefinition = plugin.UnimplementedGRPCStdioService.definition;
