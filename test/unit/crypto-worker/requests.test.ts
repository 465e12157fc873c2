// The main thread's request helper for the crypto worker (crypto-worker/src/client/requests.ts).
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { WorkerRequest } from '../../../crypto-worker/src/protocol.ts';
import { CryptoWorkerError, WorkerRequests } from '../../../crypto-worker/src/client/requests.ts';

afterEach(() => vi.useRealTimers());

describe('WorkerRequests', () => {
  it('numbers requests and settles each by its response', async () => {
    const sent: WorkerRequest[] = [];
    const requests = new WorkerRequests((r) => sent.push(r));
    const a = requests.send({ type: 'clearSenderKey', context: 'mic' });
    const b = requests.send({ type: 'configure', suite: 9 as 4 });
    expect(sent.map((r) => r.id)).toEqual([1, 2]);
    requests.handle({
      type: 'response',
      id: 2,
      ok: false,
      error: { name: 'TypeError', message: 'bad suite' },
    });
    requests.handle({ type: 'response', id: 1, ok: true });
    await expect(a).resolves.toBeUndefined();
    await expect(b).rejects.toBeInstanceOf(CryptoWorkerError);
    await expect(b).rejects.toMatchObject({ code: 'refused', remoteName: 'TypeError', message: 'bad suite' });
    expect(requests.handle({ type: 'keyFrameRequest', attachmentId: 'x' })).toBe(false);
  });

  it('times out unanswered requests and rejects everything on close', async () => {
    vi.useFakeTimers();
    const requests = new WorkerRequests(() => undefined, 100);
    const late = requests.send({ type: 'detach', attachmentId: 'a' });
    const pending = requests.send({ type: 'detach', attachmentId: 'b' });
    vi.advanceTimersByTime(101);
    await expect(late).rejects.toThrow(/did not answer/);
    await expect(late).rejects.toMatchObject({ name: 'CryptoWorkerError', code: 'timeout' });
    await expect(pending).rejects.toThrow(/did not answer/);
    const open = requests.send({ type: 'detach', attachmentId: 'c' });
    requests.rejectAll('closed');
    await expect(open).rejects.toThrow('closed');
    await expect(open).rejects.toMatchObject({ code: 'closed' });
    const after = requests.send({ type: 'detach', attachmentId: 'd' });
    await expect(after).rejects.toThrow(/closed/);
    await expect(after).rejects.toMatchObject({ code: 'closed' });
  });

  it('reports a request that cannot be posted, keeping what the channel threw as its cause', async () => {
    const cloneError = new Error('could not be cloned');
    const requests = new WorkerRequests(() => {
      throw cloneError;
    });
    const sent = requests.send({ type: 'detach', attachmentId: 'a' });
    await expect(sent).rejects.toMatchObject({ code: 'post-failed', message: 'could not be cloned' });
    await expect(sent).rejects.toHaveProperty('cause', cloneError);
  });
});
