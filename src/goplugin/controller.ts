// plugin.GRPCController: the host asks the plugin to exit, then kills it after
// two seconds. The reply goes out first, then the owner drains and exits.

import type * as grpc from '@grpc/grpc-js';
import { plugin } from '../gen/plugin';

/** The controller service; `onShutdown` runs after the reply is sent. */
export function controllerService(onShutdown: () => void): grpc.UntypedServiceImplementation {
  return {
    Shutdown: (_call: grpc.ServerUnaryCall<plugin.Empty, plugin.Empty>, callback: grpc.sendUnaryData<plugin.Empty>) => {
      callback(null, new plugin.Empty());
      setImmediate(onShutdown);
    },
  };
}

export const controllerDefinition = plugin.UnimplementedGRPCControllerService.definition;
export const brokerDefinition = plugin.UnimplementedGRPCBrokerService.definition;
