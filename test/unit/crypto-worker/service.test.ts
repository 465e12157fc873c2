// The worker's message handling: validation, one response per request, key-frame requests, and
// throttled status.
import { describe, expect, it } from 'vitest';
import type { WorkerEvent } from '../../../crypto-worker/src/protocol.ts';
import { CryptoWorkerService } from '../../../crypto-worker/src/service.ts';
import { type StatusClock, StatusReporter, type StreamStatus } from '../../../crypto-worker/src/status.ts';
import { randomBytes } from './vectors.ts';

describe('CryptoWorkerService messages', () => {
  it('answers invalid messages with a TypeError response and changes nothing', async () => {
    const events: WorkerEvent[] = [];
    const service = new CryptoWorkerService((e) => events.push(e));
    const bad = [
      { id: 1, type: 'nope' },
      { id: 2, type: 'setSenderKey', context: 'camera', kid: 1, baseKey: randomBytes(16) },
      { id: 3, type: 'setSenderKey', context: 'desktop', kid: 1n, baseKey: randomBytes(16) },
      { id: 4, type: 'addReceiverKey', kid: 2n ** 64n, baseKey: randomBytes(16) },
      { id: 5, type: 'addReceiverKey', kid: 1n, baseKey: new Uint8Array(0) },
      { id: 6, type: 'configure', suite: 9 },
      { type: 'configure', suite: 4 },
      null,
    ];
    for (const message of bad) await service.handleMessage(message);
    expect(events).toHaveLength(bad.length);
    for (const event of events)
      expect(event).toMatchObject({ type: 'response', ok: false, error: { name: 'TypeError' } });
    expect(events.map((e) => (e.type === 'response' ? e.id : 0))).toEqual([1, 2, 3, 4, 5, 6, -1, -1]);
  });

  it('acknowledges valid requests and never puts key bytes in any event', async () => {
    const events: WorkerEvent[] = [];
    const service = new CryptoWorkerService((e) => events.push(e));
    const baseKey = Uint8Array.from({ length: 16 }, (_, i) => 0xa0 + i);
    await service.handleMessage({ id: 1, type: 'configure', suite: 1 });
    await service.handleMessage({ id: 2, type: 'setSenderKey', context: 'mic', kid: 3n, baseKey });
    await service.handleMessage({ id: 3, type: 'addReceiverKey', kid: 4n, baseKey, epoch: 7n });
    await service.handleMessage({ id: 4, type: 'removeReceiverKeys', epochsBefore: 8n });
    expect(events).toEqual([1, 2, 3, 4].map((id) => ({ type: 'response', id, ok: true })));
    const serialized = JSON.stringify(events);
    expect(serialized).not.toContain('a0a1a2');
    expect(serialized).not.toContain('160,161,162');
  });

  it('asks for a key frame on every sender of the stream after a key change', async () => {
    const events: WorkerEvent[] = [];
    const service = new CryptoWorkerService((e) => events.push(e));
    service.createTransform({ attachmentId: 'cam', kind: 'sender', context: 'camera' });
    service.createTransform({ attachmentId: 'mic', kind: 'sender', context: 'mic' });
    await service.handleMessage({
      id: 1,
      type: 'setSenderKey',
      context: 'camera',
      kid: 1n,
      baseKey: randomBytes(16),
    });
    expect(events).toContainEqual({ type: 'keyFrameRequest', attachmentId: 'cam' });
    expect(events).not.toContainEqual({ type: 'keyFrameRequest', attachmentId: 'mic' });
  });

  it('uses the script transformer’s generateKeyFrame when it has one', async () => {
    const events: WorkerEvent[] = [];
    const service = new CryptoWorkerService((e) => events.push(e));
    let asked = 0;
    const { readable, writable } = new TransformStream();
    service.attachScriptTransform({
      readable,
      writable,
      options: { attachmentId: 'cam', kind: 'sender', context: 'camera' },
      generateKeyFrame: async () => {
        asked++;
      },
    });
    expect(events).toContainEqual({ type: 'attached', attachmentId: 'cam', kind: 'sender' });
    await service.handleMessage({
      id: 1,
      type: 'setSenderKey',
      context: 'camera',
      kid: 1n,
      baseKey: randomBytes(16),
    });
    expect(asked).toBe(1);
    expect(events.some((e) => e.type === 'keyFrameRequest')).toBe(false);
    service.close();
  });

  it('handles messages one at a time in arrival order: a clear sent right after a set wins', async () => {
    // The worker entry does not await handleMessage; key derivation makes setSenderKey slower than
    // clearSenderKey, so an unqueued clear would finish first and the old key would stay (fail open).
    const events: WorkerEvent[] = [];
    const service = new CryptoWorkerService((e) => events.push(e));
    const transform = service.createTransform({
      attachmentId: 'mic',
      kind: 'sender',
      context: 'mic',
      codec: 'opus',
    });
    const sealed: unknown[] = [];
    const sink = { enqueue: (frame: unknown) => sealed.push(frame) };
    const set = service.handleMessage({
      id: 1,
      type: 'setSenderKey',
      context: 'mic',
      kid: 1n,
      baseKey: randomBytes(16),
    });
    const clear = service.handleMessage({ id: 2, type: 'clearSenderKey', context: 'mic' });
    await Promise.all([set, clear]);
    expect(
      events.filter((e) => e.type === 'response').map((e) => (e.type === 'response' ? e.id : 0)),
    ).toEqual([1, 2]);
    await transform.transform({ data: randomBytes(30).buffer as ArrayBuffer }, sink);
    expect(sealed, 'a frame sealed after the clear').toEqual([]);
  });

  it('reports the KID of the first frame sealed under each new sender key, once', async () => {
    const events: WorkerEvent[] = [];
    const service = new CryptoWorkerService((e) => events.push(e));
    const transform = service.createTransform({
      attachmentId: 'mic',
      kind: 'sender',
      context: 'mic',
      codec: 'opus',
    });
    const sink = { enqueue: () => undefined };
    const send = () => transform.transform({ data: randomBytes(30).buffer as ArrayBuffer }, sink);
    const setKey = (id: number, kid: bigint) =>
      service.handleMessage({ id, type: 'setSenderKey', context: 'mic', kid, baseKey: randomBytes(16) });
    await send(); // no key: dropped, nothing in use
    await setKey(1, 0x11n);
    await send();
    await send();
    await setKey(2, 0x12n);
    await send();
    const inUse = events.filter((e) => e.type === 'senderKeyInUse');
    expect(inUse).toEqual([
      { type: 'senderKeyInUse', attachmentId: 'mic', kid: 0x11n },
      { type: 'senderKeyInUse', attachmentId: 'mic', kid: 0x12n },
    ]);
  });

  it('asks remote senders for a key frame when a key arrives for a receiver that was not decrypting, and again while it still is not', async () => {
    let now = 0;
    const timers: Array<{ at: number; run: () => void; cleared: boolean }> = [];
    const clock = {
      now: () => now,
      setTimeout: (run: () => void, ms: number) => {
        const timer = { at: now + ms, run, cleared: false };
        timers.push(timer);
        return timer;
      },
      clearTimeout: (handle: unknown) => {
        (handle as { cleared: boolean }).cleared = true;
      },
    };
    const advance = (ms: number) => {
      now += ms;
      for (const t of timers.filter((t) => !t.cleared && t.at <= now)) {
        t.cleared = true;
        t.run();
      }
    };
    const service = new CryptoWorkerService(() => undefined, { clock });
    let asked = 0;
    const { readable, writable } = new TransformStream();
    service.attachScriptTransform({
      readable,
      writable,
      options: { attachmentId: 'cam-in', kind: 'receiver', context: 'camera', codec: 'vp8' },
      sendKeyFrameRequest: async () => {
        asked++;
      },
    });
    const addKey = (id: number, kid: bigint) =>
      service.handleMessage({ id, type: 'addReceiverKey', kid, baseKey: randomBytes(16) });
    await addKey(1, 1n);
    await addKey(2, 2n); // the same moment: one request is enough
    expect(asked).toBe(1);
    advance(400); // still not decrypting: ask again
    expect(asked).toBe(2);
    advance(800);
    expect(asked).toBe(3);
    advance(5000); // no more follow-ups after that
    expect(asked).toBe(3);
    await addKey(3, 3n); // a later key starts over
    expect(asked).toBe(4);
    service.close();
    advance(5000); // a detached receiver asks for nothing
    expect(asked).toBe(4);
  });

  it('pipes a stream end to end and drops everything without a key', async () => {
    const service = new CryptoWorkerService(() => undefined);
    const input = new TransformStream();
    const output = new TransformStream();
    service.attachScriptTransform({
      readable: input.readable,
      writable: output.writable,
      options: { attachmentId: 'mic', kind: 'sender', context: 'mic', codec: 'opus' },
    });
    const writer = input.writable.getWriter();
    const reader = output.readable.getReader();
    void writer.write({ data: randomBytes(40).buffer });
    await service.handleMessage({
      id: 1,
      type: 'setSenderKey',
      context: 'mic',
      kid: 1n,
      baseKey: randomBytes(16),
    });
    void writer.write({ data: randomBytes(40).buffer });
    const { value } = (await reader.read()) as { value: { data: ArrayBuffer } };
    expect(value.data.byteLength).toBe(40 + 1 + 16); // the first (keyless) frame was dropped
    service.close();
  });
});

describe('StatusReporter throttling', () => {
  function fakeClock() {
    let now = 0;
    const timers: Array<{ at: number; fn: () => void }> = [];
    const clock: StatusClock = {
      now: () => now,
      setTimeout: (fn, ms) => timers.push({ at: now + ms, fn }),
      clearTimeout: () => undefined,
    };
    const advance = (ms: number) => {
      now += ms;
      for (const t of timers.splice(0).sort((a, b) => a.at - b.at)) {
        if (t.at <= now) t.fn();
        else timers.push(t);
      }
    };
    return { clock, advance };
  }

  it('reports the first state at once, then at most one report per interval', () => {
    const { clock, advance } = fakeClock();
    const reports: StreamStatus[] = [];
    const reporter = new StatusReporter('r', (s) => reports.push(s), 1000, clock);
    reporter.record('ok');
    expect(reports).toHaveLength(1);
    for (let i = 0; i < 100; i++) reporter.record(i % 2 ? 'ok' : 'auth-failed');
    reporter.record('missing-key');
    expect(reports).toHaveLength(1);
    advance(1000);
    expect(reports).toHaveLength(2);
    expect(reports[1]).toMatchObject({ state: 'missing-key', framesOk: 51, framesDropped: 51 });
    reporter.record('missing-key');
    advance(5000);
    expect(reports).toHaveLength(2); // no change, no report
  });

  it('a replayed frame does not change the state', () => {
    const { clock } = fakeClock();
    const reports: StreamStatus[] = [];
    const reporter = new StatusReporter('r', (s) => reports.push(s), 0, clock);
    reporter.record('ok');
    reporter.record('replay');
    expect(reporter.state).toBe('ok');
    expect(reports).toHaveLength(1);
  });
});
