// Random values for fuzzing a server's inputs from a seeded generator (test/support/prng.ts): any
// JSON-like value, huge strings, deep nesting, binary, prototype-pollution keys, and mutations of
// valid messages (one field replaced, removed or added) so fuzzing reaches past the first check.
// Test-only.

const KEYS = [
  'method',
  'data',
  'id',
  'transportId',
  'producerId',
  'consumerId',
  'kind',
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'groupInfo',
  'commit',
  'message',
  'to',
  'rtpCapabilities',
  '',
];
const STRINGS = [
  '',
  'join',
  'send',
  'recv',
  'audio',
  'video',
  'mic',
  '\u0000',
  '\ud800',
  '💥',
  '%s%n',
  '../../etc/passwd',
  '<script>alert(1)</script>',
  'NaN',
  '-1',
  '1e309',
  '{"__proto__":{}}',
];

export class FuzzValues {
  readonly #next: () => number;

  constructor(next: () => number) {
    this.#next = next;
  }

  /** An integer in [0, n). */
  int(n: number): number {
    return this.#next() % n;
  }

  chance(p: number): boolean {
    return this.#next() / 0x1_0000_0000 < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)] as T;
  }

  string(): string {
    switch (this.int(4)) {
      case 0:
        return this.pick(STRINGS);
      case 1:
        return String.fromCharCode(...Array.from({ length: this.int(40) }, () => this.int(0x3000)));
      case 2:
        return 'x'.repeat(this.int(300));
      default:
        return this.pick(KEYS);
    }
  }

  /** Up to about 1 MB: below socket.io's 2 MB message cap, far above every field's own cap. */
  hugeString(): string {
    return 'A'.repeat(1000 + this.int(1_000_000));
  }

  bytes(max = 512): Uint8Array {
    return Uint8Array.from({ length: this.int(max) }, () => this.int(256));
  }

  number(): number {
    return this.pick([
      0,
      -1,
      1,
      0.5,
      2 ** 31,
      2 ** 53 + 1,
      -(2 ** 63),
      1e308,
      Number.MIN_VALUE,
      this.int(1000),
    ]);
  }

  /** Nested arrays or objects `depth` levels deep. */
  deep(depth: number): unknown {
    let value: unknown = this.string();
    for (let i = 0; i < depth; i++) value = this.chance(0.5) ? [value] : { [this.pick(KEYS)]: value };
    return value;
  }

  any(depth = 0): unknown {
    const leaf = depth > 3;
    switch (this.int(leaf ? 6 : 10)) {
      case 0:
        return null;
      case 1:
        return this.chance(0.5);
      case 2:
        return this.number();
      case 3:
      case 4:
        return this.string();
      case 5:
        return this.chance(0.5) ? undefined : this.bytes(64);
      case 6:
      case 7:
        return Array.from({ length: this.int(5) }, () => this.any(depth + 1));
      default: {
        const value: Record<string, unknown> = {};
        for (let i = this.int(5); i > 0; i--) value[this.pick(KEYS)] = this.any(depth + 1);
        return value;
      }
    }
  }

  /** `template` with one field replaced by a random value, removed, or one added. */
  mutate(template: unknown): unknown {
    if (template === null || typeof template !== 'object' || template instanceof Uint8Array) {
      return this.chance(0.5) ? this.any() : template;
    }
    const copy: Record<string, unknown> | unknown[] = Array.isArray(template)
      ? [...(template as unknown[])]
      : { ...(template as Record<string, unknown>) };
    const keys = Object.keys(copy);
    const key = keys.length === 0 ? undefined : this.pick(keys);
    const action = key === undefined ? 2 : this.int(4);
    if (action === 0 && key !== undefined) (copy as Record<string, unknown>)[key] = this.any();
    else if (action === 1 && key !== undefined)
      return Object.fromEntries(Object.entries(copy).filter(([k]) => k !== key));
    else if (action === 2) (copy as Record<string, unknown>)[this.pick(KEYS)] = this.any();
    else if (key !== undefined)
      (copy as Record<string, unknown>)[key] = this.mutate((copy as Record<string, unknown>)[key]);
    return copy;
  }

  /** `bytes` with a few bits flipped, or cut short, or grown. */
  corrupt(bytes: Uint8Array): Uint8Array {
    const copy = Uint8Array.from(bytes);
    switch (this.int(3)) {
      case 0:
        for (let i = 1 + this.int(4); i > 0 && copy.length > 0; i--) {
          const at = this.int(copy.length);
          copy[at] = (copy[at] ?? 0) ^ (1 << this.int(8));
        }
        return copy;
      case 1:
        return copy.subarray(0, this.int(copy.length + 1));
      default:
        return Uint8Array.from([...copy, ...this.bytes(64)]);
    }
  }
}
