// Joiners taking turns at the external commit (key-service/src/server/join-turns.ts): one holder at
// a time, in the order asked, passed on when its commit lands, when it leaves, or when its time is up.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { JoinTurns } from '../../../key-service/src/server/join-turns.ts';
import type { KeySocket } from '../../../key-service/src/server/room.ts';

const TURN_MS = 2000;
const socket = (id: string) => ({ id }) as unknown as KeySocket;

/** Which of `sockets` have been told their turn began, after the microtasks settle. */
async function granted(turns: JoinTurns, sockets: KeySocket[]): Promise<string[]> {
  const seen: string[] = [];
  for (const s of sockets)
    void turns.wait(s).then(
      () => seen.push(s.id),
      () => undefined,
    );
  await vi.advanceTimersByTimeAsync(0);
  return seen;
}

describe('JoinTurns', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('grants one socket at a time, in the order they asked', async () => {
    const turns = new JoinTurns(TURN_MS);
    const [a, b, c] = [socket('a'), socket('b'), socket('c')];
    const order: string[] = [];
    for (const s of [a, b, c]) void turns.wait(s).then(() => order.push(s.id));
    await vi.advanceTimersByTimeAsync(0);
    expect(order).toEqual(['a']);
    expect(turns.heldByOther(b)).toBe(true);
    expect(turns.heldByOther(a)).toBe(false);
    turns.end(a);
    await vi.advanceTimersByTimeAsync(0);
    expect(order).toEqual(['a', 'b']);
    turns.end(c); // not the holder: nothing happens
    await vi.advanceTimersByTimeAsync(0);
    expect(order).toEqual(['a', 'b']);
    turns.end(b);
    await vi.advanceTimersByTimeAsync(0);
    expect(order).toEqual(['a', 'b', 'c']);
    turns.end(c);
    expect(turns.heldByOther(a)).toBe(false);
  });

  it('passes a turn on when its time is up: a joiner that never commits stalls nobody', async () => {
    const turns = new JoinTurns(TURN_MS);
    const [dead, next] = [socket('dead'), socket('next')];
    expect(await granted(turns, [dead, next])).toEqual(['dead']);
    let nextGranted = false;
    void turns.wait(next).then(() => (nextGranted = true));
    await vi.advanceTimersByTimeAsync(TURN_MS - 1);
    expect(nextGranted).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(nextGranted).toBe(true);
    expect(turns.heldByOther(dead)).toBe(true);
  });

  it('queues a socket once, however often it asks', async () => {
    const turns = new JoinTurns(TURN_MS);
    const [holder, flooder, other] = [socket('holder'), socket('flooder'), socket('other')];
    await granted(turns, [holder]);
    const asks = Array.from({ length: 50 }, () => turns.wait(flooder));
    void turns.wait(other);
    expect(new Set(asks).size).toBe(1);
    turns.end(holder);
    await vi.advanceTimersByTimeAsync(0);
    expect(turns.heldByOther(other)).toBe(true); // the flooder holds it
    turns.end(flooder);
    await vi.advanceTimersByTimeAsync(0);
    expect(turns.heldByOther(flooder)).toBe(true); // and then the other: the flooder took one turn
    expect(turns.heldByOther(other)).toBe(false);
  });

  it('drops a socket that leaves, and passes on its turn if it held it', async () => {
    const turns = new JoinTurns(TURN_MS);
    const [a, b, c] = [socket('a'), socket('b'), socket('c')];
    await granted(turns, [a]);
    const bWait = turns.wait(b);
    const cWait = turns.wait(c);
    turns.drop(b);
    await expect(bWait).rejects.toMatchObject({ code: 'invalid-state' });
    turns.drop(a);
    await cWait;
    expect(turns.heldByOther(a)).toBe(true);
  });

  it('refuses everyone still waiting when the room closes', async () => {
    const turns = new JoinTurns(TURN_MS);
    const [a, b] = [socket('a'), socket('b')];
    await granted(turns, [a]);
    const bWait = turns.wait(b);
    turns.close();
    await expect(bWait).rejects.toMatchObject({ code: 'invalid-state' });
    expect(turns.heldByOther(b)).toBe(false);
  });
});
