// Shared setup for the cluster tests: one real redis-server per file, emptied before each test, and
// node registries with short heartbeats so expiry happens in a test's time.
import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest';
import { NodeRegistry, type NodeLoad } from '../../server/src/cluster/NodeRegistry.ts';
import { connectRedis } from '../../server/src/cluster/redisConnection.ts';
import { startRedis, type RedisServer } from '../support/redisServer.ts';

export const PREFIX = 'test:';
export const HEARTBEAT_MS = 50;
export const TTL_MS = 300;

export interface ClusterContext {
  redis: RedisServer;
  /** A new connection, closed after the test. */
  connect(): Promise<Redis>;
  /** A registered, heartbeating node on its own connection, stopped after the test. */
  node(name: string, load?: NodeLoad): Promise<{ registry: NodeRegistry; client: Redis }>;
  /** A connection for poking at keys directly. */
  admin(): Redis;
}

export function useCluster(): ClusterContext {
  let server: RedisServer | undefined;
  let admin: Redis | undefined;
  const clients: Redis[] = [];
  const registries: NodeRegistry[] = [];

  beforeAll(async () => {
    server = await startRedis();
    admin = await connectRedis(server.url);
  });
  beforeEach(async () => {
    await admin!.flushall();
  });
  afterEach(async () => {
    await Promise.all(registries.splice(0).map((r) => r.stop()));
    for (const c of clients.splice(0)) c.disconnect();
  });
  afterAll(async () => {
    admin?.disconnect();
    await server?.stop();
  });

  const ctx: ClusterContext = {
    get redis() {
      return server!;
    },
    async connect() {
      const client = await connectRedis(server!.url);
      clients.push(client);
      return client;
    },
    async node(name, load = { peers: 0, rooms: 0 }) {
      const client = await ctx.connect();
      const registry = new NodeRegistry(client, {
        nodeName: name,
        nodeUrl: `http://${name}.test:3000`,
        heartbeatMs: HEARTBEAT_MS,
        ttlMs: TTL_MS,
        keyPrefix: PREFIX,
        load: () => load,
      });
      registries.push(registry);
      await registry.start();
      return { registry, client };
    },
    admin: () => admin!,
  };
  return ctx;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits until `check` holds, polling. */
export async function until(check: () => Promise<boolean> | boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(20);
  }
}
