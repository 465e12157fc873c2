// A Prometheus histogram with fixed upper bounds and optional labels: cumulative `_bucket` counts
// (the last one `le="+Inf"`), `_sum` and `_count` per label set.
import { formatValue, type Labels, type MetricFamily, type Sample } from './prometheus.ts';

interface Series {
  labels: Labels;
  counts: number[];
  sum: number;
  count: number;
}

export class Histogram {
  readonly name: string;
  readonly help: string;
  readonly #bounds: readonly number[];
  readonly #series = new Map<string, Series>();

  constructor(name: string, help: string, bounds: readonly number[]) {
    if (bounds.some((b, i) => i > 0 && b <= (bounds[i - 1] as number)) || bounds.some(Number.isNaN)) {
      throw new TypeError('histogram bounds must increase');
    }
    this.name = name;
    this.help = help;
    this.#bounds = bounds;
  }

  observe(value: number, labels: Labels = {}): void {
    if (!Number.isFinite(value)) return;
    const key = JSON.stringify(Object.entries(labels).sort(([a], [b]) => a.localeCompare(b)));
    let series = this.#series.get(key);
    if (series === undefined) {
      series = { labels, counts: this.#bounds.map(() => 0), sum: 0, count: 0 };
      this.#series.set(key, series);
    }
    for (const [i, bound] of this.#bounds.entries()) {
      if (value <= bound) series.counts[i] = (series.counts[i] ?? 0) + 1;
    }
    series.sum += value;
    series.count += 1;
  }

  family(): MetricFamily {
    const samples: Sample[] = [];
    for (const { labels, counts, sum, count } of this.#series.values()) {
      for (const [i, bound] of this.#bounds.entries()) {
        samples.push({
          suffix: '_bucket',
          labels: { ...labels, le: formatValue(bound) },
          value: counts[i] ?? 0,
        });
      }
      samples.push({ suffix: '_bucket', labels: { ...labels, le: '+Inf' }, value: count });
      samples.push({ suffix: '_sum', labels, value: sum });
      samples.push({ suffix: '_count', labels, value: count });
    }
    return { name: this.name, help: this.help, type: 'histogram', samples };
  }
}
