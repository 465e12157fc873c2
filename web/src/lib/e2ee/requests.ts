// One request helper for the crypto worker channel: an id per request, a pending map, a timeout,
// and reject-all on close. Responses come back as `{ type: 'response', id, ok, error? }`.
import type {
  WorkerErrorInfo,
  WorkerEvent,
  WorkerRequest,
  WorkerRequestBody,
} from '@conclave/crypto-worker/protocol';

/** A request the worker refused; `reason` is the SFrame failure reason when there is one. */
export class CryptoWorkerError extends Error {
  override readonly name = 'CryptoWorkerError';
  readonly reason: string | undefined;
  readonly remoteName: string;

  constructor(info: WorkerErrorInfo) {
    super(info.message);
    this.reason = info.reason;
    this.remoteName = info.name;
  }
}

interface Pending {
  resolve: () => void;
  reject: (error: Error) => void;
  timer: ReturnType<typeof setTimeout>;
}

export class WorkerRequests {
  readonly #post: (request: WorkerRequest, transfer: Transferable[]) => void;
  readonly #timeoutMs: number;
  readonly #pending = new Map<number, Pending>();
  #nextId = 1;
  #closed = false;

  constructor(post: (request: WorkerRequest, transfer: Transferable[]) => void, timeoutMs = 10_000) {
    this.#post = post;
    this.#timeoutMs = timeoutMs;
  }

  send(body: WorkerRequestBody, transfer: Transferable[] = []): Promise<void> {
    if (this.#closed) return Promise.reject(new Error('crypto worker is closed'));
    const id = this.#nextId++;
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new Error(`crypto worker did not answer ${body.type} within ${this.#timeoutMs} ms`));
      }, this.#timeoutMs);
      this.#pending.set(id, { resolve, reject, timer });
      try {
        this.#post({ ...body, id } as WorkerRequest, transfer);
      } catch (error) {
        this.#settle(id)?.reject(error instanceof Error ? error : new Error(String(error)));
      }
    });
  }

  /** Settles the matching request; returns false for events that are not responses. */
  handle(event: WorkerEvent): boolean {
    if (event.type !== 'response') return false;
    const pending = this.#settle(event.id);
    if (pending === undefined) return true;
    if (event.ok) pending.resolve();
    else pending.reject(new CryptoWorkerError(event.error));
    return true;
  }

  rejectAll(error: Error): void {
    this.#closed = true;
    for (const id of [...this.#pending.keys()]) this.#settle(id)?.reject(error);
  }

  #settle(id: number): Pending | undefined {
    const pending = this.#pending.get(id);
    if (pending === undefined) return undefined;
    clearTimeout(pending.timer);
    this.#pending.delete(id);
    return pending;
  }
}
