// Labels that tell apart people who share a name. Display names are chosen by their holders, so two
// people (or an impostor) may both be "Alice"; every list that shows names passes its rows through
// here. A name that nobody else has is shown as it is; names that collide get a short suffix from the
// signature-key fingerprint, just long enough to differ within the collision ("Alice (3f2a)").
// Names collide when they look alike: compared after NFKC, case folding and whitespace collapsing,
// so "Alice" and "alice " (or a fullwidth "Ａlice") are told apart too.

export interface NamedRow {
  name: string;
  /** The signature key's fingerprint (hex groups, "3f2a 9c01 ..."); null when it holds no key. */
  fingerprint: string | null;
}

const SHORTEST_SUFFIX = 4;

/** One label per row, in the rows' order. */
export function distinctNameLabels(rows: readonly NamedRow[]): string[] {
  const groups = new Map<string, number[]>();
  rows.forEach((row, index) => {
    const key = lookalikeKey(row.name);
    groups.set(key, [...(groups.get(key) ?? []), index]);
  });
  const labels = rows.map((row) => row.name);
  for (const members of groups.values()) {
    if (members.length < 2) continue;
    const fingerprints = members.map((i) => compact(rows[i]?.fingerprint ?? null));
    const length = suffixLength(fingerprints);
    members.forEach((rowIndex, i) => {
      const fingerprint = fingerprints[i];
      const suffix = fingerprint === undefined ? 'no key' : fingerprint.slice(0, length);
      labels[rowIndex] = `${rows[rowIndex]?.name ?? ''} (${suffix})`;
    });
  }
  return labels;
}

/** `rows` with each name replaced by its distinct label (distinctNameLabels), in the same order. */
export function withDistinctNames<Row extends NamedRow>(rows: readonly Row[]): Row[] {
  const labels = distinctNameLabels(rows);
  return rows.map((row, i) => ({ ...row, name: labels[i] ?? row.name }));
}

function lookalikeKey(name: string): string {
  return name.normalize('NFKC').toLowerCase().replace(/\s+/gu, ' ').trim();
}

function compact(fingerprint: string | null): string | undefined {
  if (fingerprint === null) return undefined;
  return fingerprint.replace(/\s+/g, '').toLowerCase();
}

/** The shortest prefix length (from SHORTEST_SUFFIX) at which the distinct fingerprints all differ. */
function suffixLength(fingerprints: readonly (string | undefined)[]): number {
  const distinct = [...new Set(fingerprints.filter((f): f is string => f !== undefined))];
  const longest = Math.max(SHORTEST_SUFFIX, ...distinct.map((f) => f.length));
  for (let length = SHORTEST_SUFFIX; length < longest; length++) {
    if (new Set(distinct.map((f) => f.slice(0, length))).size === distinct.length) return length;
  }
  return longest;
}
