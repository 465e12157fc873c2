// The server in cluster mode (CONCLAVE_REDIS_URL) on a real redis-server: it registers with its
// load, heartbeats, drains, deregisters on close, and shows cluster metrics; without the variable it
// has no cluster part and its /metrics has no cluster metrics; an unreachable Redis stops the start
// with a sentence that does not hold the URL.
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { ClusterNode } from '../../server/src/cluster/ClusterNode.ts';
import { ClusterStoreError } from '../../server/src/cluster/redisConnection.ts';
import { startTestServer } from './support/testServer.ts';
import { until, useCluster } from './cluster.harness.ts';

const cluster = useCluster();
const CLUSTER_ENV = {
  CONCLAVE_NODE_NAME: 'node-a',
  CONCLAVE_CLUSTER_HEARTBEAT_MS: '50',
  CONCLAVE_CLUSTER_TTL_MS: '300',
  CONCLAVE_CLUSTER_PREFIX: 'test:',
};

async function metricsText(url: string): Promise<string> {
  return (await fetch(`${url}/metrics`)).text();
}

describe('cluster mode in the server', () => {
  it('registers with its URL and load, heartbeats, drains and deregisters on close', async () => {
    const t = await startTestServer({ CONCLAVE_REDIS_URL: cluster.redis.url, ...CLUSTER_ENV });
    try {
      const admin = cluster.admin();
      expect(t.server.cluster?.nodeName).toBe('node-a');
      expect(await admin.hgetall('test:node:node-a')).toMatchObject({
        url: t.url,
        draining: '0',
        peers: '0',
        rooms: '0',
      });
      const ttl = await admin.pttl('test:node:node-a');
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(300);

      await t.participant('room-1');
      await until(async () => (await admin.hget('test:node:node-a', 'peers')) === '1');
      expect(await admin.hget('test:node:node-a', 'rooms')).toBe('1');
      expect(await admin.zscore('test:nodes:load', 'node-a')).toBe('2');

      const text = await metricsText(t.url);
      expect(text).toMatch(/^conclave_cluster_node_peers 1$/m);
      expect(text).toMatch(/^conclave_cluster_node_rooms 1$/m);
      expect(text).toMatch(/^conclave_cluster_draining 0$/m);
      expect(text).toMatch(/^conclave_cluster_commits_refused_total\{reason="fenced"\} 0$/m);
      const age = Number(/^conclave_cluster_heartbeat_age_seconds (\S+)$/m.exec(text)?.[1]);
      expect(age).toBeGreaterThanOrEqual(0);
      expect(age).toBeLessThan(0.3);

      await t.server.drain();
      expect(await admin.hget('test:node:node-a', 'draining')).toBe('1');
      expect(await metricsText(t.url)).toMatch(/^conclave_cluster_draining 1$/m);
    } finally {
      await t.close();
    }
    expect(await cluster.admin().exists('test:node:node-a')).toBe(0);
    expect(await cluster.admin().zscore('test:nodes:load', 'node-a')).toBeNull();
  });

  it('drained by SIGTERM, keeps its meeting until the last participant leaves', async () => {
    const t = await startTestServer({ CONCLAVE_REDIS_URL: cluster.redis.url, ...CLUSTER_ENV });
    try {
      const alice = await t.participant('room-1');
      let drained = false;
      const draining = t.server.drainUntilEmpty(20).then(() => (drained = true));
      await until(async () => (await cluster.admin().hget('test:node:node-a', 'draining')) === '1');
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(drained, 'a meeting is still on').toBe(false);
      alice.signaling.close();
      await draining;
      expect(t.server.rooms.rooms.size).toBe(0);
    } finally {
      await t.close();
    }
  });

  it('without CONCLAVE_REDIS_URL has no cluster part and no cluster metrics, and drains at once', async () => {
    const t = await startTestServer();
    try {
      const alice = await t.participant('room-1');
      expect(t.server.cluster).toBeUndefined();
      expect(await metricsText(t.url)).not.toContain('conclave_cluster_');
      // Alone there is no other node to move to: a SIGTERM closes at once, meeting or not.
      await t.server.drainUntilEmpty(20);
      alice.signaling.close();
    } finally {
      await t.close();
    }
    expect(await ClusterNode.start(undefined, () => ({ peers: 0, rooms: 0 }))).toBeUndefined();
  });

  it('stops the start with a clear error when Redis cannot be reached', async () => {
    // A port nobody listens on.
    const port = await new Promise<number>((resolve) => {
      const s = net.createServer().listen(0, '127.0.0.1', () => {
        const { port } = s.address() as net.AddressInfo;
        s.close(() => resolve(port));
      });
    });
    const error = await startTestServer({
      CONCLAVE_REDIS_URL: `redis://:pa55word-not-shown@127.0.0.1:${port}`,
      ...CLUSTER_ENV,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ClusterStoreError);
    expect((error as Error).message).toMatch(/^cannot reach Redis/);
    expect((error as Error).message).not.toContain('pa55word');
  });
});
