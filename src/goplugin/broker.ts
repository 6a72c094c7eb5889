// The plugin's side of go-plugin's gRPC broker (grpc_broker.go). The host
// opens one StartStream per process and announces, for each broker id, where
// it serves brokered services (for Vault: Storage and SystemView of a mount).
// The announcement may arrive before or after the RPC that names the id, so
// announcements are kept by id and dials wait for them.

import * as grpc from '@grpc/grpc-js';
import { plugin } from '../gen/plugin';
import { BROKER_WAIT_MS, NO_CHANNELZ, UNLIMITED_MESSAGE_SIZE } from './constants';
import { channelCredentials, LOCALHOST_CHANNEL_OPTIONS, type MutualTls } from './tls';
import type { Logger } from '../log';
import type { LongLivedStreams } from './streams';

/** An address the host announced for a broker id. */
export interface BrokerAddress {
  network: string;
  address: string;
}

interface Waiter {
  resolve: (addr: BrokerAddress) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

/** Announcements and waiting dials, by broker id. */
export class Broker {
  readonly #announced = new Map<number, { addr: BrokerAddress; expiry: NodeJS.Timeout }>();
  readonly #waiters = new Map<number, Waiter[]>();
  readonly #tls: MutualTls;
  readonly #log: Logger;
  readonly #waitMs: number;

  constructor(tls: MutualTls, log: Logger, waitMs: number = BROKER_WAIT_MS) {
    this.#tls = tls;
    this.#log = log;
    this.#waitMs = waitMs;
  }

  /** The gRPC service implementation to register on the plugin's server. */
  service(streams: LongLivedStreams): grpc.UntypedServiceImplementation {
    return {
      StartStream: (call: grpc.ServerDuplexStream<plugin.ConnInfo, plugin.ConnInfo>) => {
        streams.track(call);
        call.on('data', (info: plugin.ConnInfo) => this.announce(info.service_id, { network: info.network, address: info.address }));
        // The stream lives as long as the process; ending it from our side
        // would close the host's broker, so only follow the host's lead.
        call.on('end', () => call.end());
        call.on('error', (err) => this.#log.debug({ err: err.message }, 'broker stream closed'));
      },
    };
  }

  /** Records where the host serves broker id `id`; wakes dials waiting for it. */
  announce(id: number, addr: BrokerAddress): void {
    const waiting = this.#waiters.get(id);
    if (waiting && waiting.length > 0) {
      this.#waiters.delete(id);
      for (const w of waiting) {
        clearTimeout(w.timer);
        w.resolve(addr);
      }
      return;
    }
    // go-plugin forgets unclaimed announcements after the same wait.
    const previous = this.#announced.get(id);
    if (previous) clearTimeout(previous.expiry);
    const expiry = setTimeout(() => this.#announced.delete(id), this.#waitMs);
    expiry.unref();
    this.#announced.set(id, { addr, expiry });
  }

  /** Waits (at most the broker timeout) for the host's address of broker id `id`. */
  address(id: number): Promise<BrokerAddress> {
    const known = this.#announced.get(id);
    if (known) {
      clearTimeout(known.expiry);
      this.#announced.delete(id);
      return Promise.resolve(known.addr);
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const list = (this.#waiters.get(id) ?? []).filter((w) => w.timer !== timer);
        if (list.length > 0) this.#waiters.set(id, list);
        else this.#waiters.delete(id);
        reject(new Error(`timeout waiting for connection info for broker id ${id}`));
      }, this.#waitMs);
      const list = this.#waiters.get(id) ?? [];
      list.push({ resolve, reject, timer });
      this.#waiters.set(id, list);
    });
  }

  /**
   * Opens a mutually authenticated channel to the host's server for broker
   * id `id`. Clients built on it share the one connection.
   */
  async dial(id: number): Promise<grpc.Channel> {
    const addr = await this.address(id);
    const target = addr.network === 'unix' ? `unix://${addr.address}` : addr.address;
    return new grpc.Channel(target, channelCredentials(this.#tls), {
      ...LOCALHOST_CHANNEL_OPTIONS,
      ...UNLIMITED_MESSAGE_SIZE,
      ...NO_CHANNELZ,
    });
  }
}
