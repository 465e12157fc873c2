// One MLS commit order per room across the cluster (RFC 9420 needs one commit per epoch). Before the
// owner's key service relays a commit it asks the fence, which in one Lua script checks that the
// caller still owns the room at its generation and that the recorded epoch is the one the commit
// builds on, then records the new epoch and the new epoch's public GroupInfo. A new owner reads the
// record back to continue the same group after a failover.
// What must hold: per room and epoch at most one commit is accepted, whatever the races; an owner
// whose generation is behind the directory's is refused as `fenced`; a commit from a past epoch as
// `stale`; nothing secret is ever written (GroupInfo is public by RFC 9420 §12.4.3).
import type { Redis } from 'ioredis';
import { NODE_NAME } from './clusterConfig.ts';
import { ClusterKeys, assertNodeName, assertRoomName, parseCount } from './keys.ts';
import { ClusterStoreError, guarded } from './redisConnection.ts';

/** Largest GroupInfo accepted: a 1000-member group's GroupInfo with a ratchet tree fits well. */
export const MAX_GROUP_INFO_BYTES = 4 * 1024 * 1024;

export type FenceResult =
  | { outcome: 'accepted'; epoch: number }
  /** The group has moved past `expectedEpoch`: someone else's commit won. */
  | { outcome: 'stale'; recordedEpoch: number }
  /** The caller is not the room's owner at its generation (re-homed, or never placed). */
  | { outcome: 'fenced'; generation: number | undefined };

export interface CommitRecord {
  epoch: number;
  generation: number;
  owner: string;
  groupInfo: Uint8Array;
}

// KEYS[1] room hash, KEYS[2] commit hash; ARGV: node, generation, expected epoch, new epoch, GroupInfo.
const FENCE = `
local owner = redis.call('HGET', KEYS[1], 'owner')
local gen = redis.call('HGET', KEYS[1], 'generation')
if owner ~= ARGV[1] or gen ~= ARGV[2] then
  return {'fenced', gen or ''}
end
local epoch = redis.call('HGET', KEYS[2], 'epoch')
if epoch then
  if not string.match(epoch, '^%d+$') then
    return redis.error_reply('MALFORMED recorded epoch')
  end
  if epoch ~= ARGV[3] then
    return {'stale', epoch}
  end
end
redis.call('HSET', KEYS[2], 'epoch', ARGV[4], 'generation', ARGV[2], 'owner', ARGV[1], 'groupInfo', ARGV[5])
return {'accepted', ARGV[4]}
`;

// Undoes a commit this owner recorded but never relayed (its fence call timed out, then ran): only
// if the caller still owns the room at its generation and the record is exactly that commit.
// KEYS as FENCE; ARGV: node, generation, recorded epoch, recorded GroupInfo, restored epoch and
// GroupInfo.
const WITHDRAW = `
local owner = redis.call('HGET', KEYS[1], 'owner')
local gen = redis.call('HGET', KEYS[1], 'generation')
if owner ~= ARGV[1] or gen ~= ARGV[2] then
  return {'fenced', gen or ''}
end
local rec = redis.call('HMGET', KEYS[2], 'epoch', 'groupInfo')
if rec[1] ~= ARGV[3] or rec[2] ~= ARGV[4] then
  return {'changed', rec[1] or ''}
end
redis.call('HSET', KEYS[2], 'epoch', ARGV[5], 'generation', ARGV[2], 'owner', ARGV[1], 'groupInfo', ARGV[6])
return {'withdrawn', ARGV[5]}
`;

export type WithdrawResult =
  | { outcome: 'withdrawn' }
  /** The caller is not the room's owner at its generation. */
  | { outcome: 'fenced' }
  /** The record is not the commit to withdraw (anymore). */
  | { outcome: 'changed' };

export interface FenceCounts {
  accepted: number;
  stale: number;
  fenced: number;
}

export class CommitFence {
  readonly #redis: Redis;
  readonly #keys: ClusterKeys;
  readonly #node: string;
  readonly counts: FenceCounts = { accepted: 0, stale: 0, fenced: 0 };

  constructor(redis: Redis, options: { keyPrefix: string; nodeName: string }) {
    assertNodeName(options.nodeName);
    this.#redis = redis;
    this.#keys = new ClusterKeys(options.keyPrefix);
    this.#node = options.nodeName;
  }

  /**
   * Fences a commit from `expectedEpoch` to `expectedEpoch + 1` made by this node as owner at
   * `generation`, recording `groupInfo` (the new epoch's public GroupInfo) if accepted.
   * @throws TypeError for bad arguments (nothing is written); ClusterStoreError on a malformed record,
   *   or 'unavailable' on a Redis failure. An 'unavailable' commit has an unknown outcome (a command
   *   that timed out may still run): read `record()` before relaying or retrying.
   */
  async commit(
    room: string,
    generation: number,
    expectedEpoch: number,
    groupInfo: Uint8Array,
  ): Promise<FenceResult> {
    assertRoomName(room);
    if (!Number.isSafeInteger(generation) || generation < 1)
      throw new TypeError('generation must be a positive integer');
    if (
      !Number.isSafeInteger(expectedEpoch) ||
      expectedEpoch < 0 ||
      expectedEpoch + 1 > Number.MAX_SAFE_INTEGER
    ) {
      throw new TypeError('expectedEpoch must be a non-negative safe integer');
    }
    if (
      !(groupInfo instanceof Uint8Array) ||
      groupInfo.length === 0 ||
      groupInfo.length > MAX_GROUP_INFO_BYTES
    ) {
      throw new TypeError(`groupInfo must be 1 to ${MAX_GROUP_INFO_BYTES} bytes`);
    }
    const reply = await guarded('fence commit', async () => {
      try {
        return await this.#redis.eval(
          FENCE,
          2,
          this.#keys.room(room),
          this.#keys.commit(room),
          this.#node,
          String(generation),
          String(expectedEpoch),
          String(expectedEpoch + 1),
          asBuffer(groupInfo),
        );
      } catch (error) {
        if (error instanceof Error && error.message.includes('MALFORMED')) {
          throw new ClusterStoreError('malformed', `commit record ${room}: epoch is not a count`);
        }
        throw error;
      }
    });
    const result = parseFenceReply(room, reply);
    this.counts[result.outcome] += 1;
    return result;
  }

  /**
   * Withdraws this node's recorded commit from `epoch - 1` to `epoch` (whose GroupInfo is
   * `groupInfo`), restoring the record to `epoch - 1` with `restoredGroupInfo`. Safe only for a
   * commit that was never relayed: its fence call failed (timed out) yet Redis ran it later.
   * @throws TypeError for bad arguments; ClusterStoreError('unavailable') on a Redis failure
   */
  async withdraw(
    room: string,
    generation: number,
    epoch: number,
    groupInfo: Uint8Array,
    restoredGroupInfo: Uint8Array,
  ): Promise<WithdrawResult> {
    assertRoomName(room);
    if (!Number.isSafeInteger(generation) || generation < 1)
      throw new TypeError('generation must be a positive integer');
    if (!Number.isSafeInteger(epoch) || epoch < 1) throw new TypeError('epoch must be a positive integer');
    for (const bytes of [groupInfo, restoredGroupInfo]) {
      if (!(bytes instanceof Uint8Array) || bytes.length === 0 || bytes.length > MAX_GROUP_INFO_BYTES)
        throw new TypeError(`groupInfo must be 1 to ${MAX_GROUP_INFO_BYTES} bytes`);
    }
    const reply = await guarded('withdraw commit', () =>
      this.#redis.eval(
        WITHDRAW,
        2,
        this.#keys.room(room),
        this.#keys.commit(room),
        this.#node,
        String(generation),
        String(epoch),
        asBuffer(groupInfo),
        String(epoch - 1),
        asBuffer(restoredGroupInfo),
      ),
    );
    const outcome = Array.isArray(reply) ? reply[0] : undefined;
    if (outcome === 'withdrawn' || outcome === 'fenced' || outcome === 'changed') return { outcome };
    throw new ClusterStoreError('malformed', `commit withdraw ${room}: unexpected reply from Redis`);
  }

  /** The room's last accepted commit, or undefined if none. @throws ClusterStoreError */
  async record(room: string): Promise<CommitRecord | undefined> {
    assertRoomName(room);
    const fields = await guarded('read commit record', () =>
      this.#redis.hgetallBuffer(this.#keys.commit(room)),
    );
    if (Object.keys(fields).length === 0) return undefined;
    const bad = (field: string): never => {
      throw new ClusterStoreError(
        'malformed',
        `commit record ${room}: field ${field} is missing or malformed`,
      );
    };
    const epoch = parseCount(fields['epoch']?.toString('latin1')) ?? bad('epoch');
    const generation = parseCount(fields['generation']?.toString('latin1')) ?? bad('generation');
    if (generation < 1) bad('generation');
    const owner = fields['owner']?.toString('latin1') ?? bad('owner');
    if (!NODE_NAME.test(owner)) bad('owner');
    const groupInfo = fields['groupInfo'] ?? bad('groupInfo');
    if (groupInfo.length === 0 || groupInfo.length > MAX_GROUP_INFO_BYTES) bad('groupInfo');
    return { epoch, generation, owner, groupInfo: new Uint8Array(groupInfo) };
  }
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function parseFenceReply(room: string, reply: unknown): FenceResult {
  const malformed = (): never => {
    throw new ClusterStoreError('malformed', `commit fence ${room}: unexpected reply from Redis`);
  };
  if (
    !Array.isArray(reply) ||
    reply.length !== 2 ||
    typeof reply[0] !== 'string' ||
    typeof reply[1] !== 'string'
  ) {
    return malformed();
  }
  const [outcome, value] = reply as [string, string];
  switch (outcome) {
    case 'accepted':
      return { outcome, epoch: parseCount(value) ?? malformed() };
    case 'stale':
      return { outcome, recordedEpoch: parseCount(value) ?? malformed() };
    case 'fenced':
      return { outcome, generation: value === '' ? undefined : (parseCount(value) ?? malformed()) };
    default:
      return malformed();
  }
}
