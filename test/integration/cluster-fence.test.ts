// The commit fence on a real Redis (server/src/cluster/CommitFence.ts): one accepted commit per epoch
// under races, an old owner fenced after re-homing, the GroupInfo read back by the new owner, clear
// errors for malformed records, and clean failures while Redis is down or hung.
import { describe, expect, it } from 'vitest';
import { CommitFence } from '../../server/src/cluster/CommitFence.ts';
import { ClusterStoreError, connectRedis } from '../../server/src/cluster/redisConnection.ts';
import { RoomDirectory } from '../../server/src/cluster/RoomDirectory.ts';
import { PREFIX, TTL_MS, until, useCluster } from './cluster.harness.ts';

const cluster = useCluster();
const info = (s: string) => new TextEncoder().encode(s);

describe('commit fence', () => {
  it('accepts exactly one of 3 racing commits per epoch, over 50 epochs', async () => {
    const { client } = await cluster.node('owner');
    const { generation } = await new RoomDirectory(client, PREFIX).place('r');
    // Three racing committers on the owner (separate connections: truly concurrent).
    const fences = await Promise.all(
      [0, 1, 2].map(
        async () => new CommitFence(await cluster.connect(), { keyPrefix: PREFIX, nodeName: 'owner' }),
      ),
    );
    for (let epoch = 0; epoch < 50; epoch++) {
      const results = await Promise.all(
        fences.map((f, i) => f.commit('r', generation, epoch, info(`epoch ${epoch + 1} by ${i}`))),
      );
      expect(results.filter((r) => r.outcome === 'accepted')).toEqual([
        { outcome: 'accepted', epoch: epoch + 1 },
      ]);
      expect(results.filter((r) => r.outcome === 'stale')).toEqual([
        { outcome: 'stale', recordedEpoch: epoch + 1 },
        { outcome: 'stale', recordedEpoch: epoch + 1 },
      ]);
    }
    const record = await fences[0]!.record('r');
    expect(record?.epoch).toBe(50);
    expect(new TextDecoder().decode(record?.groupInfo)).toMatch(/^epoch 50 by [012]$/);
    const totals = fences.reduce((t, f) => t + f.counts.accepted, 0);
    expect(totals).toBe(50);
    expect(fences.reduce((t, f) => t + f.counts.stale, 0)).toBe(100);
  });

  it('refuses a stale commit and leaves the record unchanged', async () => {
    const { client } = await cluster.node('owner');
    await new RoomDirectory(client, PREFIX).place('r');
    const fence = new CommitFence(client, { keyPrefix: PREFIX, nodeName: 'owner' });
    expect(await fence.commit('r', 1, 4, info('five'))).toEqual({ outcome: 'accepted', epoch: 5 });
    expect(await fence.commit('r', 1, 3, info('old'))).toEqual({ outcome: 'stale', recordedEpoch: 5 });
    expect(await fence.commit('r', 1, 9, info('future'))).toEqual({ outcome: 'stale', recordedEpoch: 5 });
    const record = await fence.record('r');
    expect(record).toEqual({ epoch: 5, generation: 1, owner: 'owner', groupInfo: info('five') });
  });

  it('fences a paused owner that comes back after its room was re-homed', async () => {
    const old = await cluster.node('old');
    const directory = new RoomDirectory(old.client, PREFIX);
    expect(await directory.place('r')).toMatchObject({ owner: 'old', generation: 1 });
    const oldFence = new CommitFence(old.client, { keyPrefix: PREFIX, nodeName: 'old' });
    expect(await oldFence.commit('r', 1, 0, info('e1 by old'))).toEqual({ outcome: 'accepted', epoch: 1 });

    const fresh = await cluster.node('fresh');
    await old.registry.stop(); // the old owner is paused: no heartbeats
    await until(async () => (await cluster.admin().exists(`${PREFIX}node:old`)) === 0, TTL_MS * 5);
    const moved = await new RoomDirectory(fresh.client, PREFIX).place('r');
    expect(moved).toEqual({ owner: 'fresh', generation: 2, placed: true });

    // The new owner continues the same group from the recorded GroupInfo.
    const freshFence = new CommitFence(fresh.client, { keyPrefix: PREFIX, nodeName: 'fresh' });
    const record = await freshFence.record('r');
    expect(record).toEqual({ epoch: 1, generation: 1, owner: 'old', groupInfo: info('e1 by old') });
    // The old owner wakes up and tries to commit from the epoch it knows: fenced, record untouched.
    expect(await oldFence.commit('r', 1, 1, info('e2 by old'))).toEqual({ outcome: 'fenced', generation: 2 });
    expect(oldFence.counts.fenced).toBe(1);
    expect(await freshFence.commit('r', 2, 1, info('e2 by fresh'))).toEqual({
      outcome: 'accepted',
      epoch: 2,
    });
    // Even claiming the new generation does not help a node that is not the owner.
    expect(await oldFence.commit('r', 2, 2, info('e3 by old'))).toEqual({ outcome: 'fenced', generation: 2 });
    expect((await freshFence.record('r'))?.groupInfo).toEqual(info('e2 by fresh'));
  });

  it('fences an old generation even on the same node, once the room came back to it', async () => {
    const a = await cluster.node('a');
    const b = await cluster.node('b', { peers: 9, rooms: 9 });
    const directory = new RoomDirectory(a.client, PREFIX);
    expect(await directory.place('r')).toMatchObject({ owner: 'a', generation: 1 });
    const gone = (name: string) => async () => (await cluster.admin().exists(`${PREFIX}node:${name}`)) === 0;
    await a.registry.stop(); // a pauses past its TTL: the room moves to b
    await until(gone('a'), TTL_MS * 5);
    expect(await directory.place('r')).toMatchObject({ owner: 'b', generation: 2 });
    await a.registry.beat(); // a is back; then b dies and the room returns to a
    await b.registry.stop();
    await until(gone('b'), TTL_MS * 5);
    await a.registry.beat();
    expect(await directory.place('r')).toEqual({ owner: 'a', generation: 3, placed: true });
    const fence = new CommitFence(a.client, { keyPrefix: PREFIX, nodeName: 'a' });
    // State a kept from before its pause (generation 1) must not commit.
    expect(await fence.commit('r', 1, 0, info('from gen 1'))).toEqual({ outcome: 'fenced', generation: 3 });
    expect(await fence.commit('r', 3, 0, info('from gen 3'))).toEqual({ outcome: 'accepted', epoch: 1 });
  });

  it('fences a commit for a room that was never placed', async () => {
    const { client } = await cluster.node('a');
    const fence = new CommitFence(client, { keyPrefix: PREFIX, nodeName: 'a' });
    expect(await fence.commit('nowhere', 1, 0, info('x'))).toEqual({
      outcome: 'fenced',
      generation: undefined,
    });
    expect(await fence.record('nowhere')).toBeUndefined();
  });

  it('refuses bad arguments with a TypeError and writes nothing', async () => {
    const { client } = await cluster.node('a');
    await new RoomDirectory(client, PREFIX).place('r');
    const fence = new CommitFence(client, { keyPrefix: PREFIX, nodeName: 'a' });
    await expect(fence.commit('r', 0, 0, info('x'))).rejects.toBeInstanceOf(TypeError);
    await expect(fence.commit('r', 1, -1, info('x'))).rejects.toBeInstanceOf(TypeError);
    await expect(fence.commit('r', 1, 0.5, info('x'))).rejects.toBeInstanceOf(TypeError);
    await expect(fence.commit('r', 1, 0, new Uint8Array())).rejects.toBeInstanceOf(TypeError);
    await expect(fence.commit('bad room', 1, 0, info('x'))).rejects.toBeInstanceOf(TypeError);
    expect(() => new CommitFence(client, { keyPrefix: PREFIX, nodeName: 'Bad_Name' })).toThrow(TypeError);
    expect(await cluster.admin().exists(`${PREFIX}commit:r`)).toBe(0);
  });

  it('gives clear errors for malformed commit records', async () => {
    const { client } = await cluster.node('a');
    await new RoomDirectory(client, PREFIX).place('r');
    const fence = new CommitFence(client, { keyPrefix: PREFIX, nodeName: 'a' });
    const key = `${PREFIX}commit:r`;
    await cluster.admin().hset(key, { epoch: 'seven', generation: '1', owner: 'a', groupInfo: 'gi' });
    await expect(fence.commit('r', 1, 7, info('x'))).rejects.toThrow(
      new ClusterStoreError('malformed', 'commit record r: epoch is not a count'),
    );
    await expect(fence.record('r')).rejects.toThrow('commit record r: field epoch is missing or malformed');
    await cluster.admin().hset(key, { epoch: '7', owner: '../etc' });
    await expect(fence.record('r')).rejects.toThrow('commit record r: field owner is missing or malformed');
    await cluster.admin().hset(key, { owner: 'a' });
    await cluster.admin().hdel(key, 'groupInfo');
    await expect(fence.record('r')).rejects.toThrow(
      'commit record r: field groupInfo is missing or malformed',
    );
    await cluster.admin().del(key);
    await cluster.admin().set(key, 'not a hash');
    await expect(fence.record('r')).rejects.toMatchObject({ name: 'ClusterStoreError' });
  });

  it('fails cleanly while Redis is hung or restarting, and works again afterwards', async () => {
    const { client, registry } = await cluster.node('a');
    await new RoomDirectory(client, PREFIX).place('r');
    const fence = new CommitFence(client, { keyPrefix: PREFIX, nodeName: 'a' });
    expect((await fence.commit('r', 1, 0, info('e1'))).outcome).toBe('accepted');

    cluster.redis.pause();
    try {
      await expect(fence.commit('r', 1, 1, info('e2'))).rejects.toMatchObject({
        name: 'ClusterStoreError',
        code: 'unavailable',
      });
      await expect(registry.beat()).rejects.toMatchObject({ code: 'unavailable' });
      await until(() => !registry.healthy(), TTL_MS * 5);
    } finally {
      cluster.redis.resume();
    }
    await until(() => registry.healthy(), 5_000);
    // A timed-out commit has an unknown outcome: this one reached the hung Redis and ran on resume.
    // The caller learns the truth from the record, and the fence still allows one commit per epoch.
    expect(await fence.record('r')).toMatchObject({ epoch: 2, groupInfo: info('e2') });
    expect(await fence.commit('r', 1, 1, info('e2 again'))).toEqual({ outcome: 'stale', recordedEpoch: 2 });

    await cluster.redis.restart(); // empty again: nothing is saved
    await expect(fence.commit('r', 1, 2, info('e3'))).rejects.toMatchObject({ code: 'unavailable' });
    await until(() => client.status === 'ready', 5_000);
    await until(async () => (await client.exists(`${PREFIX}node:a`).catch(() => 0)) === 1, 5_000);
    // The registry re-registered itself; the room must be placed again (the store was lost).
    expect(await fence.commit('r', 1, 2, info('e3'))).toEqual({ outcome: 'fenced', generation: undefined });
    expect(await new RoomDirectory(client, PREFIX).place('r')).toMatchObject({ owner: 'a', generation: 1 });
  });

  it('says why it cannot connect, without the URL', async () => {
    const error = await connectRedis('redis://user:hunter2-secret@127.0.0.1:1').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ClusterStoreError);
    expect((error as Error).message).toMatch(/^cannot reach Redis: /);
    expect((error as Error).message).not.toContain('hunter2');
  });
});
