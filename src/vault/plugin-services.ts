// The small services Vault asks about right after the handshake:
// logical.PluginVersion (sdk/logical/version.proto) and
// pluginutil.multiplexing.PluginMultiplexing (sdk/helper/pluginutil/multiplexing.proto).

import type * as grpc from '@grpc/grpc-js';
import { logical } from '../gen/logical';
import { pluginutil } from '../gen/multiplexing';

/**
 * Vault canonicalises registered versions to `v<semver>` and refuses a plugin
 * whose report differs, so the report always carries the `v`.
 */
export function canonicalVersion(version: string): string {
  return version === '' || version.startsWith('v') ? version : `v${version}`;
}

/** PluginVersion/Version. */
export function versionService(version: string): grpc.UntypedServiceImplementation {
  return {
    Version: (_call: grpc.ServerUnaryCall<logical.Empty, logical.VersionReply>, cb: grpc.sendUnaryData<logical.VersionReply>) =>
      cb(null, new logical.VersionReply({ plugin_version: canonicalVersion(version) })),
  };
}

/** PluginMultiplexing/MultiplexingSupport: one process may serve many mounts. */
export function multiplexingService(): grpc.UntypedServiceImplementation {
  return {
    MultiplexingSupport: (
      _call: grpc.ServerUnaryCall<pluginutil.multiplexing.MultiplexingSupportRequest, pluginutil.multiplexing.MultiplexingSupportResponse>,
      cb: grpc.sendUnaryData<pluginutil.multiplexing.MultiplexingSupportResponse>,
    ) => cb(null, new pluginutil.multiplexing.MultiplexingSupportResponse({ supported: true })),
  };
}

export const versionDefinition = logical.UnimplementedPluginVersionService.definition;
export const multiplexingDefinition = pluginutil.multiplexing.UnimplementedPluginMultiplexingService.definition;
