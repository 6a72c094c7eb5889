// Public surface of the go-plugin server layer. Knows nothing of Vault.
export { serve, type ServeOptions, type PluginServer } from './server';
export { Broker, type BrokerAddress } from './broker';
export { HandshakeError, type HandshakeConfig } from './handshake';
export { UNLIMITED_MESSAGE_SIZE } from './constants';
