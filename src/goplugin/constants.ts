// Environment variables go-plugin's client sets for the plugin process
// (hashicorp/go-plugin constants.go, client.go).

/** Comma-separated application protocol versions the host accepts. */
export const ENV_PROTOCOL_VERSIONS = 'PLUGIN_PROTOCOL_VERSIONS';

/** PEM certificate of the host; its presence means AutoMTLS. */
export const ENV_CLIENT_CERT = 'PLUGIN_CLIENT_CERT';

/** Directory to create the unix socket in; absent means the OS temp dir. */
export const ENV_UNIX_SOCKET_DIR = 'PLUGIN_UNIX_SOCKET_DIR';

/** Group that must own the socket (mode 0660); absent means leave it alone. */
export const ENV_UNIX_SOCKET_GROUP = 'PLUGIN_UNIX_SOCKET_GROUP';

/** Set when the host wants brokered connections multiplexed over one socket. */
export const ENV_MULTIPLEX_GRPC = 'PLUGIN_MULTIPLEX_GRPC';

/** go-plugin's core protocol version: the first handshake field, always 1. */
export const CORE_PROTOCOL_VERSION = 1;

/** Health service name go-plugin's Ping checks. */
export const HEALTH_SERVICE_NAME = 'plugin';

/** How long a brokered dial waits for the host's ConnInfo (grpc_broker.go). */
export const BROKER_WAIT_MS = 5_000;

/** How long the host waits after Shutdown before it SIGKILLs the process. */
export const HOST_KILL_GRACE_MS = 2_000;

/** Vault sends and accepts messages up to MaxInt32; -1 lifts grpc-js's 4 MiB. */
export const UNLIMITED_MESSAGE_SIZE = {
  'grpc.max_receive_message_length': -1,
  'grpc.max_send_message_length': -1,
} as const;

/**
 * grpc-js bookkeeping that nothing here reads: channelz (call counters and
 * traces per channel, server and socket, for a channelz service that is
 * never served) costs CPU on every call.
 */
export const NO_CHANNELZ = { 'grpc.enable_channelz': 0 } as const;
