// Cluster mode only: this node's load as the registry sees it, its heartbeat age, and the MLS commits
// the cluster's commit fence refused. Registered only when CONCLAVE_REDIS_URL is set, so a lone
// server's /metrics is exactly as before.
import { Counter, Gauge, type Registry } from 'prom-client';
import type { ClusterReading } from '../cluster/ClusterNode.ts';
import type { DoorCounts } from '../cluster/RoomDoor.ts';

export function registerClusterMetrics(
  registry: Registry,
  read: () => ClusterReading | undefined,
  door: () => DoorCounts,
): void {
  const gauge = (name: string, help: string, value: (r: ClusterReading) => number) =>
    new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        const reading = read();
        if (reading !== undefined) this.set(value(reading));
      },
    });
  gauge(
    'conclave_cluster_node_peers',
    'Peers on this node, as reported to the cluster registry.',
    (r) => r.load.peers,
  );
  gauge(
    'conclave_cluster_node_rooms',
    'Rooms on this node, as reported to the cluster registry.',
    (r) => r.load.rooms,
  );
  gauge('conclave_cluster_draining', '1 while this node drains (keeps its rooms, takes no new ones).', (r) =>
    r.draining ? 1 : 0,
  );
  gauge(
    'conclave_cluster_heartbeat_age_seconds',
    'Seconds since this node last refreshed its registry entry; past the TTL the cluster counts it dead.',
    (r) => r.heartbeatAgeSeconds,
  );
  const counter = (
    name: string,
    help: string,
    labelNames: string[],
    fill: (c: Counter, r: ClusterReading) => void,
  ) =>
    new Counter({
      name,
      help,
      labelNames,
      registers: [registry],
      collect() {
        const reading = read();
        if (reading === undefined) return;
        this.reset();
        fill(this, reading);
      },
    });
  counter('conclave_cluster_heartbeat_failures_total', 'Registry heartbeats that failed.', [], (c, r) =>
    c.inc(r.heartbeatFailures),
  );
  counter(
    'conclave_cluster_commits_accepted_total',
    'MLS commits the cluster commit fence accepted.',
    [],
    (c, r) => c.inc(r.commitsAccepted),
  );
  counter(
    'conclave_cluster_commits_refused_total',
    'MLS commits the cluster commit fence refused: stale (another commit won the epoch) or fenced (not the owner at this generation).',
    ['reason'],
    (c, r) => {
      c.inc({ reason: 'stale' }, r.commitsRefused.stale);
      c.inc({ reason: 'fenced' }, r.commitsRefused.fenced);
    },
  );
  counter(
    'conclave_cluster_joins_refused_total',
    'Sessions refused at the signaling or key-service handshake: wrong-node (another node owns the room), stale-generation (this node holds an out-of-date meeting for it) or unavailable (no cluster store).',
    ['reason'],
    (c) => {
      const counts = door();
      c.inc({ reason: 'wrong-node' }, counts.wrongNode);
      c.inc({ reason: 'stale-generation' }, counts.staleGeneration);
      c.inc({ reason: 'unavailable' }, counts.unavailable);
    },
  );
}
