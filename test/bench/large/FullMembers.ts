// The main thread's side of fullMembersThread.ts: each request is answered by its id.
import { Worker } from 'node:worker_threads';
import type { FullMembersCommand, FullMembersReply, FullMembersSetup } from './fullMembersThread.ts';

type Command = FullMembersCommand extends infer C
  ? C extends { id: number }
    ? Omit<C, 'id'>
    : never
  : never;

export class FullMembers {
  readonly #worker: Worker;
  readonly #pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  #next = 0;

  /** `report` hears every problem a full member has (a warning, falling out of sync). */
  constructor(setup: FullMembersSetup, report: (kind: string, message: string) => void) {
    this.#worker = new Worker(new URL('./fullMembersEntry.mjs', import.meta.url), { workerData: setup });
    this.#worker.on('message', (reply: FullMembersReply) => {
      if (reply.type === 'problem') return report(reply.kind, reply.message);
      const pending = this.#pending.get(reply.id);
      this.#pending.delete(reply.id);
      if (reply.type === 'done') pending?.resolve(reply.value);
      else pending?.reject(Object.assign(new Error(reply.message), { code: reply.code }));
    });
    this.#worker.on('error', (error) => {
      for (const p of this.#pending.values()) p.reject(error);
      this.#pending.clear();
    });
  }

  /** Person `device` joins as a full member; resolves with the join's latency in ms. */
  async join(device: number, host = false): Promise<number> {
    return (await this.#request({ type: 'join', device, host })) as number;
  }

  /** Undefined when every full member holds `epoch` with one security code, else what differs. */
  async disagreement(epoch: number, timeoutMs: number): Promise<string | undefined> {
    return (await this.#request({ type: 'converge', epoch, timeoutMs })) as string | undefined;
  }

  async close(): Promise<void> {
    await this.#request({ type: 'close' }).catch(() => undefined);
    await this.#worker.terminate();
  }

  #request(command: Command): Promise<unknown> {
    const id = this.#next++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#worker.postMessage({ ...command, id } as FullMembersCommand);
    });
  }
}
