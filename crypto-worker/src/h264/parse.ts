// The key-free H.264 parsers (Annex B byte streams, emulation prevention, the start of a slice
// header): what reading an H.264 frame's layout off the wire takes. The audit imports this entry,
// `@conclave/crypto-worker/h264/parse`; h264Frame.ts, which seals and opens frames, is not in it.
//
// What must hold: nothing re-exported here imports a key-handling module (keyFree.test.ts checks).
export { nalUnitType, splitAnnexB, type AnnexBFrame, type AnnexBNalUnit } from './annexB.ts';
export {
  insertEmulationPrevention,
  removeEmulationPrevention,
  trailingZeroRun,
} from './emulationPrevention.ts';
export { parseSliceHeaderStart, type SliceHeaderStart } from './sliceHeader.ts';
