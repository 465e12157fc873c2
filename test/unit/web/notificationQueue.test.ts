// The client's notification queue (web/src/lib/meeting/NotificationQueue.ts): in order, one at a
// time, held until the join's answer, except that a run of overlapping ones (pushed consumers) is
// handled together, so that mediasoup-client can negotiate them in one offer/answer.
import { describe, expect, it } from 'vitest';
import { NotificationQueue } from '../../../web/src/lib/meeting/NotificationQueue.ts';

/** A promise and the means to settle it from the test. */
function deferred() {
  let resolve!: () => void;
  let reject!: (error: Error) => void;
  const promise = new Promise<void>((res, rej) => ((resolve = res), (reject = rej)));
  return { promise, resolve, reject };
}

/** Lets every queued microtask and promise continuation run. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

/**
 * A queue whose handler logs when each item starts and ends, and finishes an item only when the
 * test says so (`finish`). Items named `newConsumer …` overlap.
 */
function recordingQueue() {
  const log: string[] = [];
  const errors: string[] = [];
  const running = new Map<string, ReturnType<typeof deferred>>();
  const queue = new NotificationQueue<string>({
    handle: async (item) => {
      log.push(`start ${item}`);
      const done = deferred();
      running.set(item, done);
      await done.promise;
      log.push(`end ${item}`);
    },
    overlaps: (item) => item.startsWith('newConsumer '),
    onError: (item, error) => errors.push(`${item}: ${(error as Error).message}`),
  });
  const finish = async (item: string, error?: Error) => {
    const done = running.get(item);
    if (done === undefined) throw new Error(`${item} is not running`);
    if (error === undefined) done.resolve();
    else done.reject(error);
    await settle();
  };
  return { queue, log, errors, finish };
}

describe('NotificationQueue', () => {
  it('holds everything until released', async () => {
    const { queue, log } = recordingQueue();
    queue.push('peerJoined a');
    await settle();
    expect(log).toEqual([]);
    queue.release();
    await settle();
    expect(log).toEqual(['start peerJoined a']);
  });

  it('runs the others one at a time, in order', async () => {
    const { queue, log, finish } = recordingQueue();
    queue.release();
    queue.push('peerJoined a');
    queue.push('peerLeft a');
    await settle();
    expect(log).toEqual(['start peerJoined a']);
    await finish('peerJoined a');
    expect(log).toEqual(['start peerJoined a', 'end peerJoined a', 'start peerLeft a']);
  });

  it('starts a run of overlapping ones together, and what follows them only once all have ended', async () => {
    const { queue, log, finish } = recordingQueue();
    for (const item of ['newConsumer 1', 'newConsumer 2', 'newConsumer 3', 'consumerClosed 2'])
      queue.push(item);
    queue.release();
    await settle();
    expect(log).toEqual(['start newConsumer 1', 'start newConsumer 2', 'start newConsumer 3']);
    await finish('newConsumer 3');
    await finish('newConsumer 1');
    expect(log).not.toContain('start consumerClosed 2');
    await finish('newConsumer 2');
    expect(log.slice(-2)).toEqual(['end newConsumer 2', 'start consumerClosed 2']);
  });

  it('keeps the order across kinds: an overlapping one after another kind waits for it', async () => {
    const { queue, log, finish } = recordingQueue();
    queue.release();
    queue.push('peerJoined b');
    queue.push('newConsumer 1');
    queue.push('newConsumer 2');
    await settle();
    expect(log).toEqual(['start peerJoined b']);
    await finish('peerJoined b');
    expect(log).toEqual([
      'start peerJoined b',
      'end peerJoined b',
      'start newConsumer 1',
      'start newConsumer 2',
    ]);
  });

  it('goes on after a handler fails, and reports the failure', async () => {
    const { queue, log, errors, finish } = recordingQueue();
    queue.release();
    queue.push('newConsumer 1');
    queue.push('peerLeft a');
    await settle();
    await finish('newConsumer 1', new Error('negotiation failed'));
    expect(errors).toEqual(['newConsumer 1: negotiation failed']);
    expect(log).toEqual(['start newConsumer 1', 'start peerLeft a']);
  });

  it('once closed, drops what waits and takes nothing more', async () => {
    const { queue, log, finish } = recordingQueue();
    queue.release();
    queue.push('peerJoined a');
    queue.push('peerLeft a');
    await settle();
    queue.close();
    queue.push('peerJoined c');
    await finish('peerJoined a');
    expect(log).toEqual(['start peerJoined a', 'end peerJoined a']);
  });
});
