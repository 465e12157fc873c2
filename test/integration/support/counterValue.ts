// The count a prom-client counter holds for one label set (0 if never counted), as tests read the
// server's own instruments (ServerMetrics) without scraping /metrics. Test-only.
import type { Counter } from 'prom-client';

export async function counterValue<L extends string>(
  counter: Counter<L>,
  labels: Partial<Record<L, string>>,
): Promise<number> {
  const { values } = await counter.get();
  const match = values.find((v) =>
    Object.entries(labels).every(([name, value]) => v.labels[name as L] === value),
  );
  return match?.value ?? 0;
}
