// The MLS readings of a KID (audit/src/mlsReadings.ts): which stream, leaf index and S could have
// made it under RFC 9605 §5.2, with the layout and contexts of crypto-worker's mlsKid module. KIDs
// made by that module's mlsKid() read back as the parts they were made from.
import { MEDIA_SOURCES, STREAM_CONTEXTS, mlsKid } from '@conclave/crypto-worker/sframe';
import { describe, expect, it } from 'vitest';
import { mlsReadings } from '../../../audit/src/index.ts';

const cameraKid = mlsKid({ context: STREAM_CONTEXTS.camera, index: 2n, epoch: 21n, indexBits: 2 });

describe('mlsReadings', () => {
  it('reads KIDs as MLS parts that suit the stream kind', () => {
    expect(mlsReadings(5n, 'audio')).toEqual([{ stream: 'mic', index: 0n, indexBits: { min: 1, max: 32 } }]);
    expect(mlsReadings((300n << 4n) + 1n, 'audio')).toEqual([
      { stream: 'mic', index: 300n, indexBits: { min: 9, max: 32 } },
    ]);
    expect(mlsReadings(1n << 40n, 'audio')).toEqual([]);
    expect(mlsReadings(5n, 'video')).toEqual([]); // below every camera KID
    // KID 83 = 0b1_01_0011: camera of leaf 1 with S = 2, or screen (context 2) of leaf 1 with S = 1.
    expect(mlsReadings(83n, 'video')).toEqual([
      { stream: 'screen', index: 1n, indexBits: { min: 1, max: 1 } },
      { stream: 'camera', index: 1n, indexBits: { min: 2, max: 2 } },
    ]);
    expect(mlsReadings(83n, 'video', 'screen')).toEqual([
      { stream: 'screen', index: 1n, indexBits: { min: 1, max: 1 } },
    ]);
    expect(mlsReadings(cameraKid, 'video')).toEqual([
      { stream: 'camera', index: 2n, indexBits: { min: 2, max: 2 } },
    ]);
  });

  it('reads back every source, leaf and S a KID was made from', () => {
    for (const source of MEDIA_SOURCES) {
      for (const indexBits of [1, 2, 5, 16, 32]) {
        const index = (1n << BigInt(indexBits)) - 1n;
        const kid = mlsKid({ context: STREAM_CONTEXTS[source], index, epoch: 7n, indexBits });
        const readings = mlsReadings(kid, source === 'mic' ? 'audio' : 'video', source);
        expect(readings).toContainEqual(expect.objectContaining({ stream: source, index }));
        const reading = readings.find((r) => r.stream === source && r.index === index)!;
        expect(reading.indexBits.min).toBeLessThanOrEqual(indexBits);
        expect(reading.indexBits.max).toBeGreaterThanOrEqual(indexBits);
      }
    }
  });
});
