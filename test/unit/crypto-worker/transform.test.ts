// The frame transforms with synthetic encoded frames (VP8 key/delta, Opus), driven through the
// worker service exactly as the worker would, but in Node: frames are {data, type} objects and the
// sink is an array.
import { describe, expect, it } from 'vitest';
import { clearPrefixLength } from '../../../crypto-worker/src/codecPrefix.ts';
import type { TransformOptions, WorkerEvent } from '../../../crypto-worker/src/protocol.ts';
import { CryptoWorkerService } from '../../../crypto-worker/src/service.ts';
import type { EncodedFrameLike } from '../../../crypto-worker/src/transform.ts';
import { decodeHeader } from './sframeTestApi.ts';
import { randomBytes } from './vectors.ts';

// VP8 frame tag: bit 0 of the first byte is 0 for a key frame (RFC 6386 §9.1).
function vp8Key(size = 200): Uint8Array {
  const bytes = randomBytes(size);
  bytes.set([0x50, 0x02, 0x00, 0x9d, 0x01, 0x2a, 0x80, 0x02, 0xe0, 0x01]);
  return bytes;
}
function vp8Delta(size = 120): Uint8Array {
  const bytes = randomBytes(size);
  bytes[0] = 0x31;
  return bytes;
}
function frame(bytes: Uint8Array, mimeType?: string, type?: string): EncodedFrameLike {
  const data = bytes.slice().buffer;
  return { data, type, getMetadata: () => (mimeType === undefined ? {} : { mimeType }) };
}

function harness() {
  const events: WorkerEvent[] = [];
  const service = new CryptoWorkerService((e) => events.push(e), { statusIntervalMs: 0 });
  let nextId = 1;
  const request = async (body: Record<string, unknown>) => {
    const id = nextId++;
    await service.handleMessage({ ...body, id });
    const response = events.find((e) => e.type === 'response' && e.id === id);
    if (response === undefined || response.type !== 'response') throw new Error('no response');
    return response;
  };
  const run = async (options: TransformOptions, frames: EncodedFrameLike[]) => {
    const transform = service.createTransform(options);
    const out: EncodedFrameLike[] = [];
    for (const f of frames) await transform.transform(f, { enqueue: (x) => out.push(x) });
    return out;
  };
  return { service, events, request, run };
}

const sender: TransformOptions = { attachmentId: 's1', kind: 'sender', context: 'camera' };
const receiver: TransformOptions = {
  attachmentId: 'r1',
  kind: 'receiver',
  context: 'camera',
  participantId: 'alice',
};

describe('sender transform', () => {
  it('fails closed: with no key every frame is dropped, nothing is enqueued', async () => {
    const { run, events } = harness();
    const out = await run(sender, [
      frame(vp8Key(), 'video/VP8', 'key'),
      frame(randomBytes(50), 'audio/opus'),
    ]);
    expect(out).toEqual([]);
    expect(events).toContainEqual(
      expect.objectContaining({ type: 'status', attachmentId: 's1', state: 'missing-key' }),
    );
  });

  it('VP8 key frame: 10 clear bytes, then the SFrame header; delta: 3 clear bytes', async () => {
    const { run, request } = harness();
    const baseKey = randomBytes(16);
    await request({ type: 'setSenderKey', context: 'camera', kid: 0x11n, baseKey });
    const key = vp8Key();
    const delta = vp8Delta();
    const [k, d] = await run(sender, [frame(key, 'video/VP8'), frame(delta, 'video/VP8')]);
    const kb = new Uint8Array(k?.data ?? new ArrayBuffer(0));
    const db = new Uint8Array(d?.data ?? new ArrayBuffer(0));
    expect(kb.subarray(0, 10)).toEqual(key.subarray(0, 10));
    expect(decodeHeader(kb.subarray(10))).toEqual({ kid: 0x11n, ctr: 0n, length: 2 });
    expect(kb.length).toBe(key.length + 2 + 16);
    expect(kb.subarray(12, 12 + 20)).not.toEqual(key.subarray(10, 30));
    expect(db.subarray(0, 3)).toEqual(delta.subarray(0, 3));
    expect(decodeHeader(db.subarray(3))).toEqual({ kid: 0x11n, ctr: 1n, length: 2 });
  });

  it('Opus: no clear prefix; codec from the attach options when metadata lacks mimeType', async () => {
    const { run, request } = harness();
    await request({ type: 'setSenderKey', context: 'mic', kid: 1n, baseKey: randomBytes(16) });
    const audio: TransformOptions = { attachmentId: 'a', kind: 'sender', context: 'mic', codec: 'opus' };
    const pt = randomBytes(80);
    const [f] = await run(audio, [frame(pt)]);
    const bytes = new Uint8Array(f?.data ?? new ArrayBuffer(0));
    expect(decodeHeader(bytes)).toEqual({ kid: 1n, ctr: 0n, length: 1 });
    expect(bytes.length).toBe(80 + 1 + 16);
  });

  it('drops H.264 that is not an Annex B frame, and unknown codecs: never sent in the clear', async () => {
    const { run, request } = harness();
    await request({ type: 'setSenderKey', context: 'camera', kid: 1n, baseKey: randomBytes(16) });
    const notAnnexB = randomBytes(100);
    notAnnexB[0] = 0x65; // an IDR NAL header with no start code before it
    expect(await run(sender, [frame(notAnnexB, 'video/H264')])).toEqual([]);
    expect(await run(sender, [frame(randomBytes(100))])).toEqual([]);
  });

  it('drops again after clearSenderKey', async () => {
    const { run, request } = harness();
    await request({ type: 'setSenderKey', context: 'camera', kid: 1n, baseKey: randomBytes(16) });
    await request({ type: 'clearSenderKey', context: 'camera' });
    expect(await run(sender, [frame(vp8Key(), 'video/VP8')])).toEqual([]);
  });
});

describe('receiver transform', () => {
  async function encrypted(frames: Uint8Array[], kid = 0x21n, mime = 'video/VP8') {
    const h = harness();
    const baseKey = randomBytes(16);
    await h.request({ type: 'setSenderKey', context: 'camera', kid, baseKey });
    const out = await h.run(
      sender,
      frames.map((f) => frame(f, mime)),
    );
    return { baseKey, wire: out.map((f) => new Uint8Array(f.data)) };
  }

  it('round-trips VP8 key and delta frames and reports ok', async () => {
    const plain = [vp8Key(), vp8Delta(), vp8Delta(3)];
    const { baseKey, wire } = await encrypted(plain);
    const { run, request, events } = harness();
    await request({
      type: 'addReceiverKey',
      kid: 0x21n,
      baseKey,
      owner: { participantId: 'alice', context: 'camera' },
    });
    const out = await run(
      receiver,
      wire.map((w) => frame(w, 'video/VP8')),
    );
    expect(out.map((f) => new Uint8Array(f.data))).toEqual(plain);
    expect(events).toContainEqual(
      expect.objectContaining({ type: 'status', attachmentId: 'r1', state: 'ok' }),
    );
  });

  it('drops frames without a key (missing-key), with a tampered prefix (failing), or replayed', async () => {
    const { baseKey, wire } = await encrypted([vp8Key(), vp8Delta()]);
    const { run, request, events } = harness();
    expect(
      await run(
        receiver,
        wire.map((w) => frame(w, 'video/VP8')),
      ),
    ).toEqual([]);
    expect(events.at(-1)).toMatchObject({ type: 'status', state: 'missing-key' });
    await request({ type: 'addReceiverKey', kid: 0x21n, baseKey });
    const tampered = wire[1]?.slice() ?? new Uint8Array(0);
    tampered[1] = (tampered[1] ?? 0) ^ 0x80; // inside the clear (authenticated) prefix
    expect(await run(receiver, [frame(tampered, 'video/VP8')])).toEqual([]);
    expect(events.at(-1)).toMatchObject({ type: 'status', state: 'failing', reason: 'auth-failed' });
    const ok = await run(receiver, [frame(wire[0] ?? new Uint8Array(0), 'video/VP8')]);
    expect(ok).toHaveLength(1);
    expect(await run(receiver, [frame(wire[0] ?? new Uint8Array(0), 'video/VP8')])).toEqual([]);
  });

  it('drops a frame that authenticates under another participant’s KID (wrong-sender)', async () => {
    const { baseKey, wire } = await encrypted([vp8Key()]);
    const { run, request, events } = harness();
    await request({
      type: 'addReceiverKey',
      kid: 0x21n,
      baseKey,
      owner: { participantId: 'mallory', context: 'camera' },
    });
    expect(
      await run(
        receiver,
        wire.map((w) => frame(w, 'video/VP8')),
      ),
    ).toEqual([]);
    expect(events.at(-1)).toMatchObject({ type: 'status', state: 'failing', reason: 'wrong-sender' });
  });

  it('Opus round trip', async () => {
    const plain = [randomBytes(60), randomBytes(61)];
    const h = harness();
    const baseKey = randomBytes(16);
    await h.request({ type: 'setSenderKey', context: 'mic', kid: 2n, baseKey });
    const audioSender: TransformOptions = { attachmentId: 'as', kind: 'sender', context: 'mic' };
    const wire = await h.run(
      audioSender,
      plain.map((p) => frame(p, 'audio/opus')),
    );
    const r = harness();
    await r.request({ type: 'addReceiverKey', kid: 2n, baseKey });
    const audioReceiver: TransformOptions = { attachmentId: 'ar', kind: 'receiver', context: 'mic' };
    const out = await r.run(
      audioReceiver,
      wire.map((w) => frame(new Uint8Array(w.data), 'audio/opus')),
    );
    expect(out.map((f) => new Uint8Array(f.data))).toEqual(plain);
  });
});

describe('codec prefix', () => {
  it('VP8 key 10, delta 3, VP9/AV1/Opus 0; a VP8 frame shorter than its prefix is malformed', () => {
    expect(clearPrefixLength('vp8', vp8Key())).toBe(10);
    expect(clearPrefixLength('vp8', vp8Delta())).toBe(3);
    expect(clearPrefixLength('vp9', vp8Key())).toBe(0);
    expect(clearPrefixLength('av1', vp8Key())).toBe(0);
    expect(clearPrefixLength('opus', vp8Key())).toBe(0);
    expect(() => clearPrefixLength('h264', vp8Key())).toThrow(/NAL unit layout/);
    expect(() => clearPrefixLength('vp8', Uint8Array.of(0x50, 1, 2))).toThrow(/malformed/);
  });
});
