// One request helper for the crypto worker channel (main thread side): an id per request, a pending
// map, a timeout, and reject-all on close. Responses come back as `{ type: 'response', id, ok, error? }`.
//
// What must hold: every request settles exactly once (answered, refused, timed out or closed), and
// every failure is a CryptoWorkerError whose `code` says which; its message never carries key bytes
// (the worker's error info is a name, a sentence and an SFrame reason).
import { ReasonedError } from '@conclave/common/errors';
import type { SFrameErrorReason } from '../sframe/errors.ts';
import type { WorkerErrorInfo, WorkerEvent, WorkerRequest, WorkerRequestBody } from '../protocol.ts';

/**
 * Why a request to the crypto worker failed:
 * - `refused`: the worker answered with an error (`reason` is the SFrame reason when there is one);
 * - `timeout`: no answer within the request timeout;
 * - `closed`: the worker was closed before (or while) the request was pending;
 * - `post-failed`: the request could not be posted to the worker (e.g. a value it cannot clone);
 * - `unsupported`: this browser offers no encoded transform (FrameCryptor cannot attach).
 */
export type CryptoWorkerErrorCode = 'refused' | 'timeout' | 'closed' | 'post-failed' | 'unsupported';

/** A request to the crypto worker that did not succeed; switch on `code`, never on the message. */
export class CryptoWorkerError extends ReasonedError<CryptoWorkerErrorCode> {
  override readonly name = 'CryptoWorkerError';
  /** For `refused`: the SFrame failure reason, when the worker gave one. */
  readonly reason: SFrameErrorReason | undefined;
  /** For `refused`: the name of the error the worker caught (e.g. 'SFrameError', 'TypeError'). */
  readonly remoteName: string | undefined;

  /**
   * @param code why the request failed
   * @param message a sentence for people (never key material)
   * @param remote for `refused`: what the worker said
   */
  constructor(
    code: CryptoWorkerErrorCode,
    message: string,
    remote?: WorkerErrorInfo,
    options?: { cause?: unknown },
  ) {
    super(code, message, options);
    this.reason = remote?.reason;
    this.remoteName = remote?.name;
  }

  /** The worker's answer to a refused request, as an error. */
  static refused(info: WorkerErrorInfo): CryptoWorkerError {
    return new CryptoWorkerError('refused', info.message, info);
  }
}

interface Pending {
  resolve: () => void;
  reject: (error: Error) => void;
  timer: ReturnType<typeof setTimeout>;
}

/**
 * The pending requests of one worker channel.
 * @example
 * const requests = new WorkerRequests((request, transfer) => worker.postMessage(request, transfer));
 * worker.onmessage = (event) => requests.handle(event.data);
 * await requests.send({ type: 'configure', suite: 4 });
 */
export class WorkerRequests {
  readonly #post: (request: WorkerRequest, transfer: Transferable[]) => void;
  readonly #timeoutMs: number;
  readonly #pending = new Map<number, Pending>();
  #nextId = 1;
  #closed = false;

  /**
   * @param post sends one request to the worker
   * @param timeoutMs how long a request may wait for its answer
   */
  constructor(post: (request: WorkerRequest, transfer: Transferable[]) => void, timeoutMs = 10_000) {
    this.#post = post;
    this.#timeoutMs = timeoutMs;
  }

  /**
   * Sends `body` with a fresh id; resolves when the worker answers ok.
   * @throws CryptoWorkerError (`refused`, `timeout`, `closed` or `post-failed`)
   */
  send(body: WorkerRequestBody, transfer: Transferable[] = []): Promise<void> {
    if (this.#closed) return Promise.reject(new CryptoWorkerError('closed', 'crypto worker is closed'));
    const id = this.#nextId++;
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        const message = `crypto worker did not answer ${body.type} within ${this.#timeoutMs} ms`;
        reject(new CryptoWorkerError('timeout', message));
      }, this.#timeoutMs);
      this.#pending.set(id, { resolve, reject, timer });
      try {
        this.#post({ ...body, id } as WorkerRequest, transfer);
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        this.#settle(id)?.reject(new CryptoWorkerError('post-failed', message, undefined, { cause: error }));
      }
    });
  }

  /** Settles the matching request; returns false for events that are not responses. */
  handle(event: WorkerEvent): boolean {
    if (event.type !== 'response') return false;
    const pending = this.#settle(event.id);
    if (pending === undefined) return true;
    if (event.ok) pending.resolve();
    else pending.reject(CryptoWorkerError.refused(event.error));
    return true;
  }

  /** Closes the channel: every pending request, and every later one, fails with `closed`. */
  rejectAll(message = 'crypto worker closed'): void {
    this.#closed = true;
    const error = new CryptoWorkerError('closed', message);
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
