// Room placement on a real Redis (server/src/cluster/RoomDirectory.ts): concurrent placers agree on
// one owner and one generation, a dead owner's room re-homes with a higher generation, a draining
// node keeps its rooms and gets no new ones, and malformed records give clear errors.
import { describe, expect, it } from 'vitest';
import { ClusterStoreError } from '../../server/src/cluster/redisConnection.ts';
import { NoLiveNodeError, RoomDirectory } from '../../server/src/cluster/RoomDirectory.ts';
import { PREFIX, TTL_MS, until, useCluster } from './cluster.harness.ts';

const cluster = useCluster();

describe('room placement', () => {
  it('gives one owner and one generation to 20 concurrent placers across 5 nodes', async () => {
    const nodes = await Promise.all(['n1', 'n2', 'n3', 'n4', 'n5'].map((n) => cluster.node(n)));
    const directories = nodes.map(({ client }) => new RoomDirectory(client, PREFIX));
    const placements = await Promise.all(
      Array.from({ length: 20 }, (_, i) => directories[i % 5]!.place('standup')),
    );
    expect(new Set(placements.map((p) => p.owner)).size).toBe(1);
    expect(new Set(placements.map((p) => p.generation))).toEqual(new Set([1]));
    expect(placements.filter((p) => p.placed)).toHaveLength(1);
    expect(await directories[0]!.lookup('standup')).toEqual({ owner: placements[0]!.owner, generation: 1 });
  });

  it('places on the least-loaded node, and spreads placements made between heartbeats', async () => {
    await cluster.node('busy', { peers: 40, rooms: 3 });
    await cluster.node('idle', { peers: 1, rooms: 1 });
    const directory = new RoomDirectory(await cluster.connect(), PREFIX);
    expect((await directory.place('a')).owner).toBe('idle');
    // Each placement counts against its node until the next heartbeat reports the real load.
    const owners = [];
    for (let i = 0; i < 60; i++) owners.push((await directory.place(`room-${i}`)).owner);
    expect(owners).toContain('busy');
  });

  it('re-homes a room whose owner stopped heartbeating, with the next generation', async () => {
    const a = await cluster.node('a');
    const directory = new RoomDirectory(await cluster.connect(), PREFIX);
    expect(await directory.place('r')).toEqual({ owner: 'a', generation: 1, placed: true });
    await cluster.node('b');
    await a.registry.stop(); // a hangs: its key expires after the TTL
    expect((await directory.place('r')).owner).toBe('a'); // still within the TTL
    await until(async () => (await cluster.admin().exists(`${PREFIX}node:a`)) === 0, TTL_MS * 5);
    expect(await directory.place('r')).toEqual({ owner: 'b', generation: 2, placed: true });
    expect(await directory.place('r')).toEqual({ owner: 'b', generation: 2, placed: false });
  });

  it('lets a draining node keep its rooms but gives it no new ones', async () => {
    const a = await cluster.node('a', { peers: 0, rooms: 0 });
    await cluster.node('b', { peers: 50, rooms: 5 });
    const directory = new RoomDirectory(await cluster.connect(), PREFIX);
    expect((await directory.place('kept')).owner).toBe('a');
    await a.registry.drain();
    expect(a.registry.draining).toBe(true);
    expect(await directory.place('kept')).toEqual({ owner: 'a', generation: 1, placed: false });
    expect((await directory.place('new')).owner).toBe('b');
    const listed = await a.registry.liveNodes();
    expect(listed.find((n) => n.name === 'a')?.draining).toBe(true);
  });

  it('refuses when no live, non-draining node exists, and writes nothing', async () => {
    const a = await cluster.node('a');
    await a.registry.drain();
    const directory = new RoomDirectory(await cluster.connect(), PREFIX);
    await expect(directory.place('r')).rejects.toBeInstanceOf(NoLiveNodeError);
    expect(await cluster.admin().exists(`${PREFIX}room:r`)).toBe(0);
  });

  it('gives clear errors for malformed directory entries, and a TypeError for a bad room name', async () => {
    await cluster.node('a');
    const directory = new RoomDirectory(await cluster.connect(), PREFIX);
    await cluster.admin().hset(`${PREFIX}room:bad-gen`, { owner: 'a', generation: 'lots' });
    await expect(directory.place('bad-gen')).rejects.toThrow(
      new ClusterStoreError('malformed', 'room directory entry bad-gen: generation is not a count'),
    );
    await expect(directory.lookup('bad-gen')).rejects.toThrow(/generation is not a positive count/);
    await cluster.admin().hset(`${PREFIX}room:bad-owner`, { owner: 'Not A Node!', generation: '3' });
    await expect(directory.lookup('bad-owner')).rejects.toThrow(/owner is missing or not a node name/);
    await cluster.admin().set(`${PREFIX}room:wrong-type`, 'x');
    await expect(directory.lookup('wrong-type')).rejects.toBeInstanceOf(ClusterStoreError);
    await expect(directory.place('has space')).rejects.toBeInstanceOf(TypeError);
    await cluster.admin().hset(`${PREFIX}node:a`, { peers: '-1' });
    const registry = (await cluster.node('b')).registry;
    await expect(registry.liveNodes()).rejects.toThrow('node record a: field peers is missing or malformed');
  });
});
