// The `pb.Backend` service (sdk/plugin/grpc_backend_server.go). One process
// may serve several mounts: Vault tags every Backend call with gRPC metadata
// `multiplex_id`, one id per mount, and each id gets its own backend instance
// with its own brokered Storage/SystemView connection.

import * as grpc from '@grpc/grpc-js';
import { pb } from '../gen/backend';
import type { Broker } from '../goplugin';
import type { Logger } from '../log';
import { decodeRequest, encodeError, encodePaths, encodeResponse } from './codec';
import { callScope } from './call-scope';
import { errorMessage } from './errors';
import type { Backend, BackendFactory } from './logical';
import { StorageClient } from './storage-client';
import { SystemViewClient } from './system-view-client';

/** gRPC metadata key Vault uses to name the mount of a call. */
const MULTIPLEX_ID_KEY = 'multiplex_id';

/** `TypeReply.type` of a secrets engine. */
const BACKEND_TYPE_LOGICAL = 1;

interface Instance {
  backend: Backend;
  storage: StorageClient;
  systemView: SystemViewClient;
  channel: grpc.Channel;
}

type Unary<Req, Rep> = (call: grpc.ServerUnaryCall<Req, Rep>, callback: grpc.sendUnaryData<Rep>) => void;

/** Backend instances by multiplex id, and the gRPC handlers that reach them. */
export class BackendServer {
  readonly #instances = new Map<string, Instance>();
  readonly #factory: BackendFactory;
  readonly #broker: Broker;
  readonly #log: Logger;

  constructor(factory: BackendFactory, broker: Broker, log: Logger) {
    this.#factory = factory;
    this.#broker = broker;
    this.#log = log;
  }

  /** Number of mounts this process serves. */
  get size(): number {
    return this.#instances.size;
  }

  /** Cleans up every instance (the process is about to exit). */
  async cleanupAll(): Promise<void> {
    await Promise.all([...this.#instances.keys()].map((id) => this.#cleanup(id)));
  }

  /** The service implementation to register with `pb.UnimplementedBackendService.definition`. */
  service(): grpc.UntypedServiceImplementation {
    const setup: Unary<pb.SetupArgs, pb.SetupReply> = (call, cb) => {
      this.#setup(multiplexId(call), call.request).then(
        () => cb(null, new pb.SetupReply()),
        (err: unknown) => cb(null, new pb.SetupReply({ err: errorMessage(err) })),
      );
    };
    const initialize: Unary<pb.InitializeArgs, pb.InitializeReply> = (call, cb) => {
      this.#with(call, cb, async (inst) => {
        try {
          await inst.backend.initialize(inst.storage);
          return new pb.InitializeReply();
        } catch (err) {
          return new pb.InitializeReply({ err: encodeError(err).error });
        }
      });
    };
    const type: Unary<pb.Empty, pb.TypeReply> = (_call, cb) => cb(null, new pb.TypeReply({ type: BACKEND_TYPE_LOGICAL }));
    const specialPaths: Unary<pb.Empty, pb.SpecialPathsReply> = (call, cb) => {
      this.#with(call, cb, async (inst) => new pb.SpecialPathsReply({ paths: encodePaths(inst.backend.specialPaths()) }));
    };
    const handleRequest: Unary<pb.HandleRequestArgs, pb.HandleRequestReply> = (call, cb) => {
      this.#with(call, cb, async (inst) => {
        const scope = callScope(call);
        try {
          const req = decodeRequest(call.request.request, { storage: inst.storage, systemView: inst.systemView, signal: scope.signal });
          const resp = await inst.backend.handleRequest(req);
          const reply = new pb.HandleRequestReply();
          const encoded = encodeResponse(resp);
          if (encoded) reply.response = encoded;
          return reply;
        } catch (err) {
          return this.#errorReply(err, call.request.request);
        } finally {
          scope.end();
        }
      });
    };
    const handleExistenceCheck: Unary<pb.HandleExistenceCheckArgs, pb.HandleExistenceCheckReply> = (call, cb) => {
      this.#with(call, cb, async (inst) => {
        const scope = callScope(call);
        try {
          const req = decodeRequest(call.request.request, { storage: inst.storage, systemView: inst.systemView, signal: scope.signal });
          const result = await inst.backend.handleExistenceCheck(req);
          return new pb.HandleExistenceCheckReply({ check_found: result.checkFound, exists: result.exists });
        } catch (err) {
          return new pb.HandleExistenceCheckReply({ err: encodeError(err).error });
        } finally {
          scope.end();
        }
      });
    };
    const invalidateKey: Unary<pb.InvalidateKeyArgs, pb.Empty> = (call, cb) => {
      this.#with(call, cb, async (inst) => {
        inst.backend.invalidateKey(call.request.key);
        return new pb.Empty();
      });
    };
    const cleanup: Unary<pb.Empty, pb.Empty> = (call, cb) => {
      this.#cleanup(multiplexId(call)).then(
        () => cb(null, new pb.Empty()),
        (err: unknown) => cb({ code: grpc.status.INTERNAL, details: errorMessage(err) }),
      );
    };
    return {
      Setup: setup,
      Initialize: initialize,
      Type: type,
      SpecialPaths: specialPaths,
      HandleRequest: handleRequest,
      HandleExistenceCheck: handleExistenceCheck,
      InvalidateKey: invalidateKey,
      Cleanup: cleanup,
    };
  }

  async #setup(id: string, args: pb.SetupArgs): Promise<void> {
    // Dial before building: Storage/SystemView of this mount live there. The
    // backend must not use them yet (the catalog probe has none at all).
    const channel = await this.#broker.dial(args.broker_id);
    const storage = new StorageClient(channel);
    const systemView = new SystemViewClient(channel);
    const config = Object.fromEntries(args.Config);
    try {
      const backend = await this.#factory({ config, backendUuid: args.backendUUID, storage, systemView });
      const previous = this.#instances.get(id);
      this.#instances.set(id, { backend, storage, systemView, channel });
      if (previous) await this.#release(previous);
      this.#log.debug({ multiplex_id: id, mounts: this.#instances.size }, 'backend set up');
    } catch (err) {
      channel.close();
      throw err;
    }
  }

  async #cleanup(id: string): Promise<void> {
    const inst = this.#instances.get(id);
    if (!inst) return;
    this.#instances.delete(id);
    await this.#release(inst);
    this.#log.debug({ multiplex_id: id, mounts: this.#instances.size }, 'backend cleaned up');
  }

  async #release(inst: Instance): Promise<void> {
    try {
      await inst.backend.cleanup();
    } finally {
      inst.channel.close();
    }
  }

  #errorReply(err: unknown, req: pb.Request): pb.HandleRequestReply {
    const { error, response } = encodeError(err);
    // Failures are the operator's to see in Vault's log; messages carry no secrets.
    this.#log.debug({ operation: req.operation, path: req.path, err_type: error.err_type, error: error.err_msg }, 'request failed');
    const reply = new pb.HandleRequestReply({ err: error });
    const encoded = encodeResponse(response);
    if (encoded) reply.response = encoded;
    return reply;
  }

  /** Runs `work` against the call's instance; a call for an unknown mount is a gRPC error. */
  #with<Req, Rep>(
    call: grpc.ServerUnaryCall<Req, Rep>,
    cb: grpc.sendUnaryData<Rep>,
    work: (inst: Instance) => Promise<Rep>,
  ): void {
    const id = multiplexId(call);
    const inst = this.#instances.get(id);
    if (!inst) {
      cb({ code: grpc.status.FAILED_PRECONDITION, details: `no backend instance for multiplex id ${JSON.stringify(id)}` });
      return;
    }
    work(inst).then(
      (reply) => cb(null, reply),
      (err: unknown) => {
        this.#log.error({ err }, 'backend call failed');
        cb({ code: grpc.status.INTERNAL, details: errorMessage(err) });
      },
    );
  }
}

function multiplexId<Req, Rep>(call: grpc.ServerUnaryCall<Req, Rep>): string {
  const value = call.metadata.get(MULTIPLEX_ID_KEY)[0];
  return typeof value === 'string' ? value : '';
}
