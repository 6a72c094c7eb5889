// Streams the host keeps open for the life of the process (broker, stdio,
// health watch). A graceful server shutdown waits for every call, so these are
// ended by us once in-flight unary calls are the only thing left to drain.

/** A server stream that can be ended from our side. */
interface Endable {
  end(): void;
}

/** The set of open long-lived streams. */
export class LongLivedStreams {
  readonly #open = new Set<Endable>();

  /** Tracks `call` until it ends. */
  track(call: Endable & { on(event: 'close' | 'cancelled', cb: () => void): unknown }): void {
    this.#open.add(call);
    const forget = () => this.#open.delete(call);
    call.on('close', forget);
    call.on('cancelled', forget);
  }

  /** Ends every open stream with status OK. */
  endAll(): void {
    for (const call of this.#open) call.end();
    this.#open.clear();
  }
}
