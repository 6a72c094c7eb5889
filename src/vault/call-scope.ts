// The lifetime of one Backend call as the backend sees it: an AbortSignal
// for Vault's cancellation and request deadline.

/** The parts of a grpc-js server call the scope watches. */
export interface WatchedCall {
  once(event: 'cancelled', listener: () => void): unknown;
  removeListener(event: 'cancelled', listener: () => void): unknown;
  /** grpc-js's Deadline: a Date, or milliseconds since the epoch (Infinity: none). */
  getDeadline(): Date | number;
}

/** A request's abort signal and the call that ends it. */
export interface CallScope {
  signal: AbortSignal;
  /** The handler finished: stop watching the call. */
  end(): void;
}

/**
 * Aborted when Vault cancels the call or its request deadline passes. The
 * watch ends with the handler: a deadline timer left armed would keep the
 * call (and everything it references) alive for the rest of Vault's 90 s.
 */
export function callScope(call: WatchedCall): CallScope {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const onCancel = () => controller.abort(new Error('request cancelled by Vault'));
  call.once('cancelled', onCancel);
  const deadline = call.getDeadline();
  const ms = deadline instanceof Date ? deadline.getTime() - Date.now() : deadline - Date.now();
  if (Number.isFinite(ms) && ms > 0) {
    timer = setTimeout(() => controller.abort(new Error('request deadline exceeded')), ms);
    timer.unref();
  }
  return {
    signal: controller.signal,
    end: () => {
      clearTimeout(timer);
      call.removeListener('cancelled', onCancel);
    },
  };
}
