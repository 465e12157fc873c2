// The main thread's side of the drivers: one worker thread per share of the rooms, run phase by
// phase in step, so the server is measured over one common churn window.
import { Worker } from 'node:worker_threads';
import type { DriverCommand, DriverMessage } from './driverThread.ts';
import type { DriverResult, DriverSetup } from './RoomsDriver.ts';

class DriverThread {
  readonly #worker: Worker;
  readonly #waiting = new Map<string, { resolve: () => void; reject: (e: Error) => void }>();
  result: DriverResult | undefined;

  constructor(setup: DriverSetup, log: (line: string) => void) {
    this.#worker = new Worker(new URL('./driverThreadEntry.mjs', import.meta.url), { workerData: setup });
    this.#worker.on('message', (message: DriverMessage) => {
      if (message.type === 'log') log(message.line);
      else if (message.type === 'result') this.result = message.result;
      else if (message.type === 'done') this.#waiting.get(message.phase)?.resolve();
      else this.#waiting.get(message.phase)?.reject(new Error(message.message));
    });
    this.#worker.on('error', (error) => {
      for (const w of this.#waiting.values()) w.reject(error);
    });
  }

  run(command: DriverCommand): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#waiting.set(command.phase, { resolve, reject });
      this.#worker.postMessage(command);
    });
  }

  async terminate(): Promise<void> {
    await this.#worker.terminate();
  }
}

export class DriverThreads {
  readonly #threads: DriverThread[];

  constructor(setups: DriverSetup[], log: (line: string) => void) {
    this.#threads = setups.map((s) => new DriverThread(s, log));
  }

  /** Runs a phase in every thread; resolves when all are done. */
  async run(command: DriverCommand): Promise<void> {
    await Promise.all(this.#threads.map((t) => t.run(command)));
  }

  /** Every thread's participants leave; their results. */
  async close(): Promise<DriverResult[]> {
    await this.run({ phase: 'close' });
    const results = this.#threads.map((t) => t.result!);
    await Promise.all(this.#threads.map((t) => t.terminate()));
    return results;
  }

  async terminate(): Promise<void> {
    await Promise.all(this.#threads.map((t) => t.terminate()));
  }
}
