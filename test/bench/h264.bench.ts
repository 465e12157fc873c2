// What Conclave's H.264 layout (crypto-worker/README.md, "H.264") costs per frame on top of SFrame:
// splitting the Annex B frame, the slice-header parse, the metadata, emulation prevention and its
// removal, measured with a do-nothing AEAD (so only the layout's JavaScript is timed), for frames of
// the sizes an encoder makes (SPS ‖ PPS ‖ one IDR slice of random bytes, escaped as an encoder
// would). Also the bytes the layout adds per frame. Figures are measurements on this machine, not
// pass/fail checks.
import { performance } from 'node:perf_hooks';
import { insertEmulationPrevention } from '../../crypto-worker/src/h264/emulationPrevention.ts';
import { openH264Frame, sealH264Frame } from '../../crypto-worker/src/h264/h264Frame.ts';
import { noteMachineLoad } from './machine.ts';
import { median, type Benchmark, type Metric } from './metric.ts';

const SIZES = [1200, 10_000, 60_000];
const TAG = 16;
const HEADER = Uint8Array.of(0x92, 0x30, 0x01); // an SFrame header with a 1-byte KID and CTR
const SPS = [0x67, 0x42, 0xc0, 0x1f, 0xda, 0x01, 0x40, 0x16, 0xec, 0x04, 0x40];
const PPS = [0x68, 0xce, 0x0f, 0xc8];

function frameOf(size: number): Uint8Array {
  const slice = new Uint8Array(size);
  crypto.getRandomValues(slice);
  slice.set([0x88, 0x84], 0); // first_mb 0, slice_type 7, pps 0
  const escaped = insertEmulationPrevention(slice);
  return Uint8Array.from([0, 0, 0, 1, ...SPS, 0, 0, 0, 1, ...PPS, 0, 0, 0, 1, 0x65, ...escaped, 0x80]);
}

/**
 * A stand-in AEAD, so the layout alone is timed: `header ‖ ciphertext ‖ tag` of the right length,
 * copied from random bytes (what real ciphertext looks like to emulation prevention).
 */
const PAD = crypto.getRandomValues(new Uint8Array(SIZES[SIZES.length - 1]! + 1024));
const fakeSeal = async (_metadata: Uint8Array, plaintext: Uint8Array) => ({
  header: HEADER,
  sealed: PAD.slice(0, plaintext.length + TAG),
});
const fakeOpen = async (_metadata: Uint8Array, sframe: Uint8Array) =>
  sframe.subarray(HEADER.length, sframe.length - TAG);

async function timeMicros(run: () => Promise<unknown>, rounds: number): Promise<number> {
  const samples: number[] = [];
  for (let r = 0; r < 7; r++) {
    const start = performance.now();
    for (let i = 0; i < rounds; i++) await run();
    samples.push(((performance.now() - start) * 1000) / rounds);
  }
  return median(samples);
}

const benchmark: Benchmark = {
  name: 'H.264 NAL unit layout per-frame cost (Node, without the AEAD)',
  reproduce: 'npm run bench -- h264 (alone on the machine: it times µs-long calls)',
  async run() {
    noteMachineLoad('before');
    const metrics: Metric[] = [];
    for (const size of SIZES) {
      const frame = frameOf(size);
      const { frame: wire } = await sealH264Frame(frame, fakeSeal);
      const rounds = Math.max(20, Math.floor(2_000_000 / size));
      const seal = await timeMicros(() => sealH264Frame(frame, fakeSeal), rounds);
      const open = await timeMicros(() => openH264Frame(wire, TAG, fakeOpen), rounds);
      metrics.push(
        { metric: `h264.layout.${size}B.seal_us`, value: seal, unit: 'µs/frame' },
        { metric: `h264.layout.${size}B.open_us`, value: open, unit: 'µs/frame' },
        {
          metric: `h264.layout.${size}B.added_bytes`,
          value: wire.length - frame.length - HEADER.length - TAG,
          unit: 'bytes beyond SFrame header and tag',
        },
      );
    }
    noteMachineLoad('after');
    return metrics;
  },
};

export default benchmark;
