// Application messages of more than one kind: chat and raised hands ride MLS application messages,
// each arrives as its own kind, from the MLS-authenticated sender.
import { afterEach, describe, expect, it } from 'vitest';
import type { ChatMessage, HandMessage } from '@conclave/key-service/client';
import { inSync, startHarness, until, type Harness } from './key-service.harness.ts';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

describe('application messages', () => {
  it('chat lines and hands arrive in order, each as its kind, from the authenticated sender', async () => {
    const t = (h = await startHarness());
    const alice = t.client('alice-0001');
    const bob = t.client('bob-00001');
    await alice.start();
    await bob.start();
    await inSync([alice, bob], 1n);

    const seen: Array<ChatMessage | HandMessage> = [];
    alice.on('chat', (m) => seen.push(m));
    alice.on('hand', (m) => seen.push(m));
    await bob.sendHand(true);
    await bob.sendChat('{"type":"hand","raised":false}');
    await bob.sendHand(false);
    await until(() => seen.length === 3, 5000, 'three messages');

    expect(seen.map((m) => ('text' in m ? `chat:${m.text}` : `hand:${m.raised}`))).toEqual([
      'hand:true',
      // A chat line that looks like an envelope stays a chat line.
      'chat:{"type":"hand","raised":false}',
      'hand:false',
    ]);
    for (const m of seen) expect(m.from).toEqual({ leafIndex: 1, userId: 'bob-00001' });
  });
});
