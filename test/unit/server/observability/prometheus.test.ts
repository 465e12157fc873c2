// The Prometheus text format writer and the instruments behind it (server/src/observability).
import { describe, expect, it } from 'vitest';
import { Counter } from '../../../../server/src/observability/Counter.ts';
import { Histogram } from '../../../../server/src/observability/Histogram.ts';
import { formatPrometheus, gauge } from '../../../../server/src/observability/prometheus.ts';

describe('formatPrometheus', () => {
  it('writes HELP and TYPE once per family, then one line per sample', () => {
    const text = formatPrometheus([
      gauge('conclave_rooms', 'Rooms open.', [{ value: 2 }]),
      gauge('conclave_producers', 'Producers by kind.', [
        { labels: { kind: 'audio' }, value: 1 },
        { labels: { kind: 'video' }, value: 0.5 },
      ]),
    ]);
    expect(text).toBe(
      [
        '# HELP conclave_rooms Rooms open.',
        '# TYPE conclave_rooms gauge',
        'conclave_rooms 2',
        '# HELP conclave_producers Producers by kind.',
        '# TYPE conclave_producers gauge',
        'conclave_producers{kind="audio"} 1',
        'conclave_producers{kind="video"} 0.5',
        '',
      ].join('\n'),
    );
  });

  it('escapes backslashes, quotes and newlines in label values, and backslashes and newlines in help', () => {
    const text = formatPrometheus([
      gauge('x', 'a \\ help\nline', [{ labels: { v: 'back\\slash "quoted"\nnext' }, value: 1 }]),
    ]);
    expect(text).toContain('# HELP x a \\\\ help\\nline\n');
    expect(text).toContain('x{v="back\\\\slash \\"quoted\\"\\nnext"} 1\n');
    // Exactly three lines: nothing in a value can start a line of its own.
    expect(text.trimEnd().split('\n')).toHaveLength(3);
  });

  it('writes special values as the format spells them', () => {
    const text = formatPrometheus([
      gauge('g', 'g', [
        { labels: { k: 'nan' }, value: NaN },
        { labels: { k: 'inf' }, value: Infinity },
        { labels: { k: 'neg' }, value: -Infinity },
      ]),
    ]);
    expect(text).toContain('g{k="nan"} NaN');
    expect(text).toContain('g{k="inf"} +Inf');
    expect(text).toContain('g{k="neg"} -Inf');
  });

  it('refuses invalid metric and label names and a family given twice', () => {
    expect(() => formatPrometheus([gauge('bad-name', 'h', [])])).toThrow(/metric name/);
    expect(() => formatPrometheus([gauge('ok', 'h', [{ labels: { 'bad-label': 'v' }, value: 1 }])])).toThrow(
      /label name/,
    );
    expect(() => formatPrometheus([gauge('ok', 'h', [{ labels: { __reserved: 'v' }, value: 1 }])])).toThrow(
      /label name/,
    );
    expect(() => formatPrometheus([gauge('ok', 'h', []), gauge('ok', 'h', [])])).toThrow(/twice/);
  });
});

describe('Histogram', () => {
  it('writes cumulative _bucket samples ending in +Inf, then _sum and _count, per label set', () => {
    const histogram = new Histogram('setup_seconds', 'Setup.', [0.1, 1, 10]);
    for (const value of [0.05, 0.1, 0.5, 3, 20]) histogram.observe(value, { stage: 'joined' });
    histogram.observe(2, { stage: 'media' });
    const text = formatPrometheus([histogram.family()]);
    expect(text).toContain('# TYPE setup_seconds histogram\n');
    const joined = [
      'setup_seconds_bucket{stage="joined",le="0.1"} 2',
      'setup_seconds_bucket{stage="joined",le="1"} 3',
      'setup_seconds_bucket{stage="joined",le="10"} 4',
      'setup_seconds_bucket{stage="joined",le="+Inf"} 5',
      'setup_seconds_sum{stage="joined"} 23.65',
      'setup_seconds_count{stage="joined"} 5',
    ].join('\n');
    expect(text).toContain(joined);
    expect(text).toContain('setup_seconds_bucket{stage="media",le="1"} 0\n');
    expect(text).toContain('setup_seconds_bucket{stage="media",le="10"} 1\n');
    expect(text).toContain('setup_seconds_count{stage="media"} 1\n');
  });

  it('ignores values that are not finite and refuses bounds that do not increase', () => {
    const histogram = new Histogram('h', 'h', [1]);
    histogram.observe(NaN);
    histogram.observe(Infinity);
    expect(histogram.family().samples).toEqual([]);
    expect(() => new Histogram('h', 'h', [1, 1])).toThrow(/increase/);
    expect(() => new Histogram('h', 'h', [2, 1])).toThrow(/increase/);
  });
});

describe('Counter', () => {
  it('counts per label set, whatever the order of the labels', () => {
    const counter = new Counter('refusals_total', 'Refusals.');
    counter.inc({ code: 'bad-request', ns: 'signaling' });
    counter.inc({ ns: 'signaling', code: 'bad-request' }, 2);
    counter.inc({ code: 'rate-limited', ns: 'signaling' });
    expect(counter.value({ code: 'bad-request', ns: 'signaling' })).toBe(3);
    const text = formatPrometheus([counter.family()]);
    expect(text).toContain('# TYPE refusals_total counter\n');
    expect(text).toContain('refusals_total{code="bad-request",ns="signaling"} 3\n');
    expect(text).toContain('refusals_total{code="rate-limited",ns="signaling"} 1\n');
  });

  it('insists on the _total suffix the text format expects of counters', () => {
    expect(() => new Counter('refusals', 'r')).toThrow(/_total/);
  });
});
