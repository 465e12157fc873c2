// The library under test plus small test helpers.
export * from '../../../crypto-worker/src/sframe/index.ts';

export function concatForTest(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}
