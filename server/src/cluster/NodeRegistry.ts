// This node's entry in the cluster's registry: a Redis hash refreshed every heartbeat with a TTL, and
// its load in a sorted set that placement reads. A node whose key expired is dead.
// What must hold: a failed heartbeat never throws out of the timer; `healthy()` turns false once no
// heartbeat has succeeded for a TTL, so the caller stops taking joins and commits (a partitioned node
// must not fork a group); draining is sticky and is written before `drain()` resolves.
import type { Redis } from 'ioredis';
import { ClusterKeys, assertNodeName, parseCount } from './keys.ts';
import { ClusterStoreError, guarded } from './redisConnection.ts';

export interface NodeLoad {
  peers: number;
  rooms: number;
}

export interface NodeRecord extends NodeLoad {
  name: string;
  url: string;
  draining: boolean;
  /** When the node last wrote its entry (its own clock, ms since the epoch). */
  beatAt: number;
}

export interface NodeRegistryOptions {
  nodeName: string;
  nodeUrl: string;
  heartbeatMs: number;
  ttlMs: number;
  keyPrefix: string;
  /** This node's current load, read on every heartbeat. */
  load: () => NodeLoad;
  now?: () => number;
}

/** Parses a node hash read from Redis. @throws ClusterStoreError('malformed') naming the field */
export function parseNodeRecord(name: string, fields: Record<string, string>): NodeRecord {
  const bad = (field: string): never => {
    throw new ClusterStoreError('malformed', `node record ${name}: field ${field} is missing or malformed`);
  };
  const url = fields['url'] ?? bad('url');
  if (!URL.canParse(url)) bad('url');
  const draining = fields['draining'];
  if (draining !== '0' && draining !== '1') bad('draining');
  const peers = parseCount(fields['peers']) ?? bad('peers');
  const rooms = parseCount(fields['rooms']) ?? bad('rooms');
  const beatAt = parseCount(fields['beatAt']) ?? bad('beatAt');
  return { name, url, draining: draining === '1', peers, rooms, beatAt };
}

export class NodeRegistry {
  readonly #redis: Redis;
  readonly #options: NodeRegistryOptions;
  readonly #keys: ClusterKeys;
  readonly #now: () => number;
  #timer: NodeJS.Timeout | undefined;
  #draining = false;
  #lastBeatOk: number | undefined;
  #failures = 0;
  #beating: Promise<void> | undefined;

  constructor(redis: Redis, options: NodeRegistryOptions) {
    assertNodeName(options.nodeName);
    if (!(options.ttlMs >= 2 * options.heartbeatMs))
      throw new TypeError('ttlMs must be at least twice heartbeatMs');
    this.#redis = redis;
    this.#options = options;
    this.#keys = new ClusterKeys(options.keyPrefix);
    this.#now = options.now ?? Date.now;
  }

  get nodeName(): string {
    return this.#options.nodeName;
  }

  get draining(): boolean {
    return this.#draining;
  }

  /** Heartbeats that failed since the start. */
  get failures(): number {
    return this.#failures;
  }

  /**
   * Registers now, then every heartbeatMs.
   * @throws ClusterStoreError if the first registration fails (the node does not start half-joined)
   */
  async start(): Promise<void> {
    if (this.#timer !== undefined) return;
    await this.beat();
    this.#timer = setInterval(() => {
      this.beat().catch(() => {});
    }, this.#options.heartbeatMs);
    this.#timer.unref();
  }

  /** Writes the entry once. @throws ClusterStoreError('unavailable') when Redis fails */
  async beat(): Promise<void> {
    // One write in flight at a time: a slow Redis must not pile up heartbeats.
    if (this.#beating !== undefined) return this.#beating;
    this.#beating = this.#write().finally(() => {
      this.#beating = undefined;
    });
    return this.#beating;
  }

  async #write(): Promise<void> {
    const { nodeName, nodeUrl, ttlMs } = this.#options;
    const load = this.#options.load();
    const started = this.#now();
    try {
      await guarded('heartbeat', () =>
        this.#redis
          .multi()
          .hset(this.#keys.node(nodeName), {
            url: nodeUrl,
            draining: this.#draining ? '1' : '0',
            peers: String(load.peers),
            rooms: String(load.rooms),
            beatAt: String(started),
          })
          .pexpire(this.#keys.node(nodeName), ttlMs)
          .zadd(this.#keys.load(), load.peers + load.rooms, nodeName)
          .exec()
          .then((results) => {
            const failed = results?.find(([error]) => error !== null);
            if (results === null || failed !== undefined)
              throw failed?.[0] ?? new Error('transaction aborted');
          }),
      );
      this.#lastBeatOk = started;
    } catch (error) {
      this.#failures += 1;
      throw error;
    }
  }

  /** Milliseconds since the last successful heartbeat began; Infinity before the first. */
  heartbeatAgeMs(): number {
    return this.#lastBeatOk === undefined ? Infinity : this.#now() - this.#lastBeatOk;
  }

  /** Whether this node's registry entry is certainly still alive (its last write is within the TTL). */
  healthy(): boolean {
    return this.heartbeatAgeMs() < this.#options.ttlMs;
  }

  /**
   * Marks this node draining: it keeps its rooms and is picked for no new ones. Sticky.
   * @throws ClusterStoreError if Redis cannot be told (the flag is still set locally and retried)
   */
  async drain(): Promise<void> {
    this.#draining = true;
    await this.#beating?.catch(() => {});
    await this.beat();
  }

  /** The live nodes, least loaded first. @throws ClusterStoreError('malformed'|'unavailable') */
  async liveNodes(): Promise<NodeRecord[]> {
    return guarded('list nodes', async () => {
      const names = await this.#redis.zrange(this.#keys.load(), '0', '-1');
      const nodes: NodeRecord[] = [];
      for (const name of names) {
        const fields = await this.#redis.hgetall(this.#keys.node(name));
        if (Object.keys(fields).length === 0) continue; // expired: dead
        nodes.push(parseNodeRecord(name, fields));
      }
      return nodes;
    });
  }

  /**
   * Stops the heartbeat and, with `deregister`, removes the entry (a clean exit: its rooms re-home at
   * once instead of after the TTL). Idempotent.
   */
  async stop({ deregister = false }: { deregister?: boolean } = {}): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#beating?.catch(() => {});
    if (deregister) {
      await guarded('deregister', () =>
        this.#redis
          .multi()
          .del(this.#keys.node(this.#options.nodeName))
          .zrem(this.#keys.load(), this.#options.nodeName)
          .exec(),
      );
    }
  }
}
