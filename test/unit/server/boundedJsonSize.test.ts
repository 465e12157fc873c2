// Sizing a signaling request (server/src/signaling/SignalingServer.ts boundedJsonSize): close to
// JSON's length for ordinary requests, binary by its byte length, and cheap for anything huge.
import { describe, expect, it } from 'vitest';
import { boundedJsonSize } from '../../../server/src/signaling/SignalingServer.ts';

describe('boundedJsonSize', () => {
  it('is near the JSON length of an ordinary request', () => {
    const request = {
      method: 'produce',
      data: { transportId: 't1', kind: 'video', list: [1, 2, 3], ok: true },
    };
    const json = JSON.stringify(request).length;
    const size = boundedJsonSize(request, 1_000_000);
    expect(size).toBeGreaterThanOrEqual(json * 0.8);
    expect(size).toBeLessThanOrEqual(json * 2);
  });

  it('counts binary by its byte length, without serialising it', () => {
    const started = performance.now();
    expect(boundedJsonSize({ blob: Buffer.alloc(5_000_000) }, 65_536)).toBeGreaterThan(5_000_000);
    expect(boundedJsonSize([new ArrayBuffer(70_000)], 65_536)).toBeGreaterThan(65_536);
    expect(performance.now() - started).toBeLessThan(50);
  });

  it('stops walking once past the limit (a huge array costs little)', () => {
    const huge = Array.from({ length: 1_000_000 }, () => 'x');
    const started = performance.now();
    expect(boundedJsonSize(huge, 1000)).toBeGreaterThan(1000);
    expect(performance.now() - started).toBeLessThan(100);
  });
});
