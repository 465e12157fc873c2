// docs/grafana/conclave.json, the dashboard operators import: valid JSON in Grafana's dashboard
// model, with a Prometheus datasource variable every panel uses, and every metric its queries name
// served by /metrics (the names come from the registry /metrics serves, not from a list kept here).
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { StreamTotals } from '../../../../server/src/observability/mediaReading.ts';
import { createMetricsRegistry, exposition } from '../../../../server/src/observability/metricsRegistry.ts';
import { ServerMetrics } from '../../../../server/src/observability/ServerMetrics.ts';
import { parsePrometheusText } from '../../../support/prometheusText.ts';

const DASHBOARD = path.resolve(import.meta.dirname, '../../../../docs/grafana/conclave.json');

interface Target {
  expr?: string;
  datasource?: { type?: string; uid?: string };
}
interface Panel {
  id: number;
  type: string;
  title: string;
  datasource?: { type?: string; uid?: string };
  targets?: Target[];
  gridPos?: { h: number; w: number; x: number; y: number };
}
interface Variable {
  type: string;
  name: string;
  query: unknown;
  datasource?: { uid?: string };
}
interface Dashboard {
  title: string;
  uid: string;
  schemaVersion: number;
  templating: { list: Variable[] };
  panels: Panel[];
}

const dashboard = JSON.parse(fs.readFileSync(DASHBOARD, 'utf8')) as Dashboard;
const queryPanels = dashboard.panels.filter((p) => p.type !== 'row');

/** PromQL words that look like metric names but are not: operators, modifiers and numbers. */
const PROMQL_WORDS = new Set([
  'and',
  'or',
  'unless',
  'bool',
  'offset',
  'group_left',
  'group_right',
  'inf',
  'nan',
]);

/** The metric names a PromQL expression selects (or a label_values() variable query reads). */
function metricNames(expr: string): string[] {
  const bare = expr
    .replace(/\blabel_values\(([^,)]*),[^)]*\)/g, '$1') // Grafana's label_values(metric, label)
    .replace(/"(?:[^"\\]|\\.)*"/g, '""') // strings
    .replace(/\{[^}]*\}/g, '') // label matchers
    .replace(/\[[^\]]*\]/g, '') // ranges
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ''); // label lists
  const names: string[] = [];
  // Not right after a digit or a dot: durations (5m) and numbers (1e3) are no names.
  for (const match of bare.matchAll(/(?<![\w.])[a-zA-Z_:][a-zA-Z0-9_:]*/g)) {
    const word = match[0];
    const rest = bare.slice((match.index ?? 0) + word.length);
    if (/^\s*\(/.test(rest)) continue; // a function or aggregation
    if (PROMQL_WORDS.has(word.toLowerCase())) continue;
    names.push(word);
  }
  return names;
}

/** Every sample name /metrics serves: a family's own name, and a histogram's _bucket, _sum, _count. */
async function servedNames(): Promise<Set<string>> {
  const registry = createMetricsRegistry(new ServerMetrics(), {
    media: async () => ({
      rooms: 0,
      peers: 0,
      transports: 0,
      producers: { audio: 0, video: 0 },
      consumers: { audio: 0, video: 0 },
      streams: { inbound: new StreamTotals(), outbound: new StreamTotals() },
    }),
    workers: async () => ({ live: 0, usage: [] }),
    keys: () => ({
      rooms: 0,
      sockets: 0,
      commits: 0,
      commitRejections: {},
      policyRefusals: {},
      requestRejections: {},
      handshakeRefusals: {},
    }),
  });
  const names = new Set<string>();
  for (const [name, family] of parsePrometheusText(await exposition(registry))) {
    names.add(name);
    if (family.type === 'histogram')
      for (const suffix of ['_bucket', '_sum', '_count']) names.add(name + suffix);
  }
  return names;
}

function dashboardQueries(): string[] {
  const exprs = queryPanels.flatMap((p) => (p.targets ?? []).map((t) => t.expr ?? ''));
  for (const variable of dashboard.templating.list) {
    if (variable.type !== 'query') continue;
    const query = variable.query as string | { query: string };
    exprs.push(typeof query === 'string' ? query : query.query);
  }
  return exprs;
}

describe('the Grafana dashboard (docs/grafana/conclave.json)', () => {
  it('finds the metric names in PromQL (the check below depends on it)', () => {
    expect(
      metricNames(
        'histogram_quantile(0.95, sum by (le, stage) (rate(a_bucket{x="y", z=~"$v"}[$__rate_interval])))',
      ),
    ).toEqual(['a_bucket']);
    expect(metricNames('sum(rate(b_total[5m])) / on (pid) group_left c_gauge offset 5m')).toEqual([
      'b_total',
      'c_gauge',
    ]);
    expect(metricNames('label_values(conclave_rooms, instance)')).toEqual(['conclave_rooms']);
    expect(metricNames('x > bool 0 and y or NaN')).toEqual(['x', 'y']);
  });

  it('is a dashboard with a Prometheus datasource variable that every panel and query uses', () => {
    expect(dashboard.title).toBe('Conclave');
    expect(dashboard.uid).toMatch(/^[a-z0-9-]{1,40}$/);
    expect(dashboard.schemaVersion).toBeGreaterThanOrEqual(36);
    const datasource = dashboard.templating.list.find((v) => v.type === 'datasource');
    expect(datasource).toMatchObject({ name: 'datasource', query: 'prometheus' });
    const uses = '${datasource}';
    for (const variable of dashboard.templating.list.filter((v) => v.type === 'query')) {
      expect(variable.datasource?.uid, variable.name).toBe(uses);
    }
    expect(queryPanels.length).toBeGreaterThan(10);
    for (const panel of queryPanels) {
      expect(panel.datasource, panel.title).toEqual({ type: 'prometheus', uid: uses });
      expect(panel.targets?.length, panel.title).toBeGreaterThan(0);
      for (const target of panel.targets ?? []) {
        expect(target.expr, panel.title).toMatch(/\S/);
        expect(target.datasource?.uid, panel.title).toBe(uses);
      }
      expect(panel.gridPos, panel.title).toBeDefined();
    }
    const ids = dashboard.panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('queries only metrics /metrics serves, and covers meetings, media, keys and the process', async () => {
    const served = await servedNames();
    const used = new Set(dashboardQueries().flatMap(metricNames));
    expect([...used].filter((name) => !served.has(name))).toEqual([]);
    for (const name of [
      'conclave_rooms',
      'conclave_peers',
      'conclave_transports',
      'conclave_rtp_bitrate_bits_per_second',
      'conclave_keys_epochs_total',
      'conclave_keys_sockets',
      'conclave_worker_cpu_seconds_total',
      'nodejs_eventloop_lag_p99_seconds',
      'process_cpu_seconds_total',
      'process_resident_memory_bytes',
      'nodejs_gc_duration_seconds_sum',
    ]) {
      expect(used, name).toContain(name);
    }
  });
});
