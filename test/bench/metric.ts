// The one shape every benchmark reports: `npm run bench` prints each as a JSON line.
export interface Metric {
  metric: string;
  value: number;
  unit: string;
}

/** A benchmark module (`test/bench/*.bench.ts`) default-exports one of these. */
export interface Benchmark {
  name: string;
  /** How to reproduce the figures, printed with them. */
  reproduce: string;
  run(): Promise<Metric[]>;
}

export function median(values: number[]): number {
  if (values.length === 0) throw new RangeError('median of no values');
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
