// A monotonically increasing count per label set (e.g. refusals by error code).
import type { Labels, MetricFamily } from './prometheus.ts';

export class Counter {
  readonly name: string;
  readonly help: string;
  readonly #values = new Map<string, { labels: Labels; value: number }>();

  /** `name` ends in `_total`, as the text format (0.0.4) expects a counter's samples to be named. */
  constructor(name: string, help: string) {
    if (!name.endsWith('_total')) throw new TypeError(`a counter's name ends in _total: ${name}`);
    this.name = name;
    this.help = help;
  }

  inc(labels: Labels = {}, by = 1): void {
    const key = JSON.stringify(Object.entries(labels).sort(([a], [b]) => a.localeCompare(b)));
    const entry = this.#values.get(key);
    if (entry === undefined) this.#values.set(key, { labels, value: by });
    else entry.value += by;
  }

  value(labels: Labels = {}): number {
    const key = JSON.stringify(Object.entries(labels).sort(([a], [b]) => a.localeCompare(b)));
    return this.#values.get(key)?.value ?? 0;
  }

  family(): MetricFamily {
    return {
      name: this.name,
      help: this.help,
      type: 'counter',
      samples: [...this.#values.values()].map(({ labels, value }) => ({ labels, value })),
    };
  }
}
