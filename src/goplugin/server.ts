// Serves a go-plugin gRPC plugin: the handshake, the AutoMTLS unix-socket
// server with go-plugin's own services (health, broker, controller, stdio),
// and an orderly exit when the host says so (go-plugin server.go, grpc_server.go).

import * as grpc from '@grpc/grpc-js';
import type { Logger } from '../log';
import { Broker } from './broker';
import { generateIdentity } from './certificate';
import { HOST_KILL_GRACE_MS, NO_CHANNELZ, UNLIMITED_MESSAGE_SIZE } from './constants';
import { brokerDefinition, controllerDefinition, controllerService } from './controller';
import { checkMagicCookie, handshakeLine, negotiateVersion, type HandshakeConfig } from './handshake';
import { healthDefinition, healthService } from './health';
import { applySocketGroup, removeSocket, socketPath } from './listener';
import { stdioDefinition, stdioService } from './stdio';
import { LongLivedStreams } from './streams';
import { hostCertificate, serverCredentials, type MutualTls } from './tls';

/** How a plugin process serves; `register` and `handshake` are required. */
export interface ServeOptions {
  handshake: HandshakeConfig;
  log: Logger;
  /** Adds the application's services; the broker reaches the host's services. */
  register: (server: grpc.Server, broker: Broker) => void;
  /** Releases application resources before exit; bounded by the host's grace time. */
  beforeExit?: () => Promise<void>;
  /** Default: the process environment. */
  env?: NodeJS.ProcessEnv;
  /** Receives the handshake line; default: stdout. */
  writeHandshake?: (line: string) => void;
  /** Ends the process; default: process.exit. */
  exit?: (code: number) => void;
}

/** A running plugin server. */
export interface PluginServer {
  socketPath: string;
  /** Drains calls, runs beforeExit, removes the socket, then exits with 0. */
  shutdown(): Promise<void>;
}

/** Leaves room inside the host's 2 s for the process to actually end. */
const SHUTDOWN_BUDGET_MS = HOST_KILL_GRACE_MS - 500;

/** Starts serving; throws HandshakeError when the host is not a go-plugin host. */
export async function serve(options: ServeOptions): Promise<PluginServer> {
  const env = options.env ?? process.env;
  const log = options.log;
  checkMagicCookie(options.handshake, env);
  const version = negotiateVersion(options.handshake, env);
  const tls: MutualTls = { hostCertPem: hostCertificate(env), identity: generateIdentity() };

  const server = new grpc.Server({ ...UNLIMITED_MESSAGE_SIZE, ...NO_CHANNELZ });
  const streams = new LongLivedStreams();
  const broker = new Broker(tls, log.child({ '@module': 'goplugin.broker' }));
  let shuttingDown: Promise<void> | undefined;
  const path = socketPath(env);

  const shutdown = (): Promise<void> => {
    shuttingDown ??= stop();
    return shuttingDown;
  };
  const stop = async (): Promise<void> => {
    log.debug('plugin shutting down');
    const force = setTimeout(() => server.forceShutdown(), SHUTDOWN_BUDGET_MS / 2);
    const drained = new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
    streams.endAll();
    await drained;
    clearTimeout(force);
    if (options.beforeExit) await withDeadline(options.beforeExit(), SHUTDOWN_BUDGET_MS / 2, log);
    removeSocket(path);
    (options.exit ?? process.exit)(0);
  };

  server.addService(healthDefinition, healthService(streams));
  server.addService(brokerDefinition, broker.service(streams));
  server.addService(controllerDefinition, controllerService(() => void shutdown()));
  server.addService(stdioDefinition, stdioService(streams));
  options.register(server, broker);

  await new Promise<void>((resolve, reject) =>
    server.bindAsync(`unix://${path}`, serverCredentials(tls), (err) => (err ? reject(err) : resolve())),
  );
  applySocketGroup(path, env);
  (options.writeHandshake ?? ((line) => process.stdout.write(line)))(
    handshakeLine(version, { network: 'unix', address: path }, tls.identity.certDer, env),
  );
  log.debug({ socket: path }, 'plugin serving');
  return { socketPath: path, shutdown };
}

async function withDeadline(work: Promise<void>, ms: number, log: Logger): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<void>((resolve) => {
    timer = setTimeout(() => {
      log.warn('cleanup did not finish before the host deadline');
      resolve();
    }, ms);
  });
  try {
    await Promise.race([work.catch((err: unknown) => log.error({ err }, 'cleanup failed')), deadline]);
  } finally {
    clearTimeout(timer);
  }
}
