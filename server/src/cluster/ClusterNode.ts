// This server as a member of a Conclave cluster: its Redis connection, its registry entry (heartbeat,
// load, drain), and the room directory and commit fence for the layers built on top. Without
// cluster settings there is no ClusterNode and no Redis connection at all.
// What must hold: start() either returns a registered node or throws, leaving no connection open;
// close() is idempotent, removes the node's entry (its rooms re-home at once) and closes Redis.
import type { Redis } from 'ioredis';
import type { ClusterConfig } from './clusterConfig.ts';
import { CommitFence } from './CommitFence.ts';
import { NodeRegistry, type NodeLoad } from './NodeRegistry.ts';
import { connectRedis } from './redisConnection.ts';
import { RoomDirectory } from './RoomDirectory.ts';

/** What /metrics shows about this node's part in the cluster. */
export interface ClusterReading {
  load: NodeLoad;
  draining: boolean;
  /** Seconds since the last successful heartbeat (Infinity before the first). */
  heartbeatAgeSeconds: number;
  heartbeatFailures: number;
  commitsAccepted: number;
  commitsRefused: { stale: number; fenced: number };
}

export class ClusterNode {
  readonly registry: NodeRegistry;
  readonly directory: RoomDirectory;
  readonly fence: CommitFence;
  readonly #redis: Redis;
  readonly #load: () => NodeLoad;
  #closed = false;

  private constructor(redis: Redis, config: ClusterConfig, load: () => NodeLoad) {
    this.#redis = redis;
    this.#load = load;
    this.registry = new NodeRegistry(redis, { ...config, load });
    this.directory = new RoomDirectory(redis, config.keyPrefix);
    this.fence = new CommitFence(redis, config);
  }

  /**
   * Connects and registers, or returns undefined (no connection made) when `config` is undefined.
   * @throws ClusterStoreError('unavailable') if Redis cannot be reached or the registration fails
   */
  static async start(
    config: ClusterConfig | undefined,
    load: () => NodeLoad,
  ): Promise<ClusterNode | undefined> {
    if (config === undefined) return undefined;
    const redis = await connectRedis(config.redisUrl);
    const node = new ClusterNode(redis, config, load);
    try {
      await node.registry.start();
    } catch (error) {
      redis.disconnect();
      throw error;
    }
    return node;
  }

  get nodeName(): string {
    return this.registry.nodeName;
  }

  /** Whether this node may take joins and commits: open, and its registry entry certainly alive. */
  healthy(): boolean {
    return !this.#closed && this.registry.healthy();
  }

  /** Marks the node draining (keeps its rooms, takes no new ones). @throws ClusterStoreError */
  drain(): Promise<void> {
    return this.registry.drain();
  }

  reading(): ClusterReading {
    const counts = this.fence.counts;
    return {
      load: this.#load(),
      draining: this.registry.draining,
      heartbeatAgeSeconds: this.registry.heartbeatAgeMs() / 1000,
      heartbeatFailures: this.registry.failures,
      commitsAccepted: counts.accepted,
      commitsRefused: { stale: counts.stale, fenced: counts.fenced },
    };
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    // Best effort: if Redis is gone the entry expires after its TTL anyway.
    await this.registry.stop({ deregister: true }).catch(() => {});
    this.#redis.disconnect();
  }
}
