// Where each room lives: a Redis hash {owner, generation} per room, placed by one Lua script so that
// placement is atomic across the cluster.
// What must hold: no two nodes are ever told they own the same room at one generation; a live owner
// keeps its room (draining included: a draining node keeps its meetings); a dead owner's room moves
// to the least-loaded live, non-draining node and its generation goes up by one, which fences the old
// owner's commits (CommitFence).
import type { Redis } from 'ioredis';
import { ClusterKeys, assertNodeName, assertRoomName, parseCount } from './keys.ts';
import { ClusterStoreError, guarded } from './redisConnection.ts';
import { NODE_NAME } from './clusterConfig.ts';

export interface Placement {
  owner: string;
  generation: number;
  /** True when this call moved the room (first placement or re-homing). */
  placed: boolean;
}

// KEYS[1] room hash, KEYS[2] load sorted set; ARGV[1] node key prefix.
// Node keys are built inside the script, so this needs a single Redis (not Redis Cluster).
const PLACE = `
local owner = redis.call('HGET', KEYS[1], 'owner')
local gen = redis.call('HGET', KEYS[1], 'generation')
if gen and not string.match(gen, '^%d+$') then
  return redis.error_reply('MALFORMED room generation')
end
if owner and redis.call('EXISTS', ARGV[1] .. owner) == 1 then
  return {owner, gen or '', '0'}
end
local candidates = redis.call('ZRANGE', KEYS[2], 0, -1)
for _, name in ipairs(candidates) do
  local key = ARGV[1] .. name
  if redis.call('EXISTS', key) == 0 then
    redis.call('ZREM', KEYS[2], name)
  elseif redis.call('HGET', key, 'draining') == '0' then
    local g = redis.call('HINCRBY', KEYS[1], 'generation', 1)
    redis.call('HSET', KEYS[1], 'owner', name)
    redis.call('ZINCRBY', KEYS[2], 1, name)
    return {name, tostring(g), '1'}
  end
end
return {'', gen or '', '0'}
`;

export class NoLiveNodeError extends Error {
  readonly code = 'no-live-node';
  constructor(room: string) {
    super(`no live, non-draining node can take room ${room}`);
    this.name = 'NoLiveNodeError';
  }
}

function malformed(room: string, what: string): never {
  throw new ClusterStoreError('malformed', `room directory entry ${room}: ${what}`);
}

export class RoomDirectory {
  readonly #redis: Redis;
  readonly #keys: ClusterKeys;

  constructor(redis: Redis, keyPrefix: string) {
    this.#redis = redis;
    this.#keys = new ClusterKeys(keyPrefix);
  }

  /**
   * The room's owner, placing it first if it has none or its owner is dead.
   * @throws TypeError for a bad room name; NoLiveNodeError; ClusterStoreError('malformed'|'unavailable')
   */
  async place(room: string): Promise<Placement> {
    assertRoomName(room);
    const reply = await guarded('place room', async () => {
      try {
        return await this.#redis.eval(
          PLACE,
          2,
          this.#keys.room(room),
          this.#keys.load(),
          this.#keys.nodePrefix(),
        );
      } catch (error) {
        if (error instanceof Error && error.message.includes('MALFORMED'))
          malformed(room, 'generation is not a count');
        throw error;
      }
    });
    if (!Array.isArray(reply) || reply.length !== 3 || !reply.every((v) => typeof v === 'string')) {
      return malformed(room, 'placement script gave an unexpected reply');
    }
    const [owner, rawGeneration, placed] = reply as [string, string, string];
    if (owner === '') throw new NoLiveNodeError(room);
    if (!NODE_NAME.test(owner)) malformed(room, 'owner is not a node name');
    const generation = parseCount(rawGeneration);
    if (generation === undefined || generation < 1)
      return malformed(room, 'generation is not a positive count');
    return { owner, generation, placed: placed === '1' };
  }

  /** The room's recorded owner (live or not), or undefined. @throws ClusterStoreError */
  async lookup(room: string): Promise<{ owner: string; generation: number } | undefined> {
    assertRoomName(room);
    const fields = await guarded('look up room', () => this.#redis.hgetall(this.#keys.room(room)));
    if (Object.keys(fields).length === 0) return undefined;
    const owner = fields['owner'];
    if (owner === undefined || !NODE_NAME.test(owner))
      return malformed(room, 'owner is missing or not a node name');
    const generation = parseCount(fields['generation']);
    if (generation === undefined || generation < 1)
      return malformed(room, 'generation is not a positive count');
    return { owner, generation };
  }

  /** Whether `node` owns `room` at `generation` right now. */
  async owns(room: string, node: string, generation: number): Promise<boolean> {
    assertNodeName(node);
    const entry = await this.lookup(room);
    return entry !== undefined && entry.owner === node && entry.generation === generation;
  }
}
