// One mediasoup worker per configured core. Rooms are placed on the least-loaded live worker; a
// worker that dies is logged and replaced, and its rooms are told through the 'worker-died' event.
import { EventEmitter } from 'node:events';
import * as mediasoup from 'mediasoup';
import type { types } from 'mediasoup';
import { ConclaveError } from '../errors.ts';
import type { Logger } from '../logger.ts';

export interface WorkerPoolOptions {
  size: number;
  rtcMinPort: number;
  rtcMaxPort: number;
  logger: Logger;
}

interface PoolEvents {
  'worker-died': [worker: types.Worker];
}

export class WorkerPool extends EventEmitter<PoolEvents> {
  readonly #options: WorkerPoolOptions;
  readonly #workers: types.Worker[] = [];
  /** Routers placed on each worker, to balance load without asking the workers. */
  readonly #load = new Map<types.Worker, number>();
  /** Replacements being started: a room created meanwhile waits for one rather than failing. */
  readonly #replacing = new Set<Promise<unknown>>();
  #closed = false;

  private constructor(options: WorkerPoolOptions) {
    super();
    this.#options = options;
  }

  static async create(options: WorkerPoolOptions): Promise<WorkerPool> {
    const pool = new WorkerPool(options);
    for (let i = 0; i < options.size; i++) await pool.#spawn();
    return pool;
  }

  get workers(): readonly types.Worker[] {
    return this.#workers;
  }

  /** Creates a router on the least-loaded worker; the router's close gives the slot back. */
  async createRouter(mediaCodecs: types.RtpCodecCapability[]): Promise<types.Router> {
    const worker = await this.#liveWorker();
    const router = await worker.createRouter({ mediaCodecs });
    this.#load.set(worker, (this.#load.get(worker) ?? 0) + 1);
    router.observer.once('close', () => {
      const load = this.#load.get(worker);
      if (load !== undefined) this.#load.set(worker, load - 1);
    });
    return router;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const worker of this.#workers) worker.close();
    this.#workers.length = 0;
  }

  /** The least-loaded live worker; when every worker has just died, the first replacement to start. */
  async #liveWorker(): Promise<types.Worker> {
    let worker = this.#leastLoaded();
    while (worker === undefined && this.#replacing.size > 0 && !this.#closed) {
      await Promise.race(this.#replacing);
      worker = this.#leastLoaded();
    }
    if (worker === undefined) {
      throw new ConclaveError('unavailable', 'no media server is available; try again shortly', 503);
    }
    return worker;
  }

  #leastLoaded(): types.Worker | undefined {
    const live = this.#workers.filter((w) => !w.died && !w.closed);
    if (live.length === 0) return undefined;
    return live.reduce((best, w) => ((this.#load.get(w) ?? 0) < (this.#load.get(best) ?? 0) ? w : best));
  }

  async #spawn(): Promise<types.Worker> {
    const worker = await mediasoup.createWorker({
      logLevel: 'warn',
      rtcMinPort: this.#options.rtcMinPort,
      rtcMaxPort: this.#options.rtcMaxPort,
    });
    this.#workers.push(worker);
    this.#load.set(worker, 0);
    worker.on('died', (error) => void this.#replace(worker, error));
    return worker;
  }

  async #replace(dead: types.Worker, error: Error): Promise<void> {
    this.#options.logger.error({ pid: dead.pid, err: error.message }, 'mediasoup worker died; replacing it');
    this.#workers.splice(this.#workers.indexOf(dead), 1);
    this.#load.delete(dead);
    if (this.#closed) {
      this.emit('worker-died', dead);
      return;
    }
    // Registered before the rooms hear of the death, so that their peers' rejoins wait for it.
    const spawning = this.#spawn();
    const settled = spawning.catch(() => undefined).finally(() => this.#replacing.delete(settled));
    this.#replacing.add(settled);
    this.emit('worker-died', dead);
    try {
      const worker = await spawning;
      this.#options.logger.info({ pid: worker.pid }, 'replacement mediasoup worker started');
    } catch (spawnError) {
      this.#options.logger.fatal(
        { err: (spawnError as Error).message },
        'could not start a replacement worker',
      );
    }
  }
}
