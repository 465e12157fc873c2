// Listener isolation in the key client's emitter (key-service/src/client/emitter.ts): a listener
// that throws is reported, and neither the listeners after it nor the client's own work (here: the
// adoption of an epoch, with a real ts-mls group and its exported SFrame key) is cut short.
import { describe, expect, it } from 'vitest';
import { DEFAULT_MLS_SUITE } from '@conclave/key-service/client';
import { Emitter } from '../../../key-service/src/client/emitter.ts';
import { EpochAdoption } from '../../../key-service/src/client/epoch-adoption.ts';
import {
  createMeetingGroup,
  keyPackageFor,
  newIdentity,
  suiteImpl,
} from '../../../key-service/src/client/group.ts';
import { MembershipGuard } from '../../../key-service/src/client/membership-guard.ts';
import { MemoryTrustStore } from '../../../key-service/src/client/stores.ts';
import type { KeyClientEvents } from '../../../key-service/src/client/types.ts';

/** An emitter whose emit is callable from the test, recording what its listeners threw. */
class Recorder extends Emitter<KeyClientEvents> {
  readonly failures: Array<{ event: keyof KeyClientEvents; error: unknown }> = [];

  send<K extends keyof KeyClientEvents>(event: K, payload: KeyClientEvents[K]): void {
    this.emit(event, payload);
  }

  protected override listenerFailed(event: keyof KeyClientEvents, error: unknown): void {
    this.failures.push({ event, error });
  }
}

describe('Emitter', () => {
  it('runs every listener, in order, when an earlier one throws, and reports the error', () => {
    const emitter = new Recorder();
    const heard: string[] = [];
    const boom = new Error('listener bug');
    emitter.on('warning', (w) => heard.push(`first ${w.message}`));
    emitter.on('warning', () => {
      throw boom;
    });
    emitter.on('warning', (w) => heard.push(`third ${w.message}`));
    expect(() => emitter.send('warning', { message: 'x' })).not.toThrow();
    expect(heard).toEqual(['first x', 'third x']);
    expect(emitter.failures).toEqual([{ event: 'warning', error: boom }]);
  });

  it('survives a reporter that throws too', () => {
    class Fragile extends Recorder {
      protected override listenerFailed(): void {
        throw new Error('reporter bug');
      }
    }
    const emitter = new Fragile();
    let after = false;
    emitter.on('warning', () => {
      throw new Error('listener bug');
    });
    emitter.on('warning', () => (after = true));
    expect(() => emitter.send('warning', { message: 'x' })).not.toThrow();
    expect(after).toBe(true);
  });

  it('stops calling a listener once it is removed', () => {
    const emitter = new Recorder();
    let calls = 0;
    const off = emitter.on('warning', () => calls++);
    emitter.send('warning', { message: 'a' });
    off();
    emitter.send('warning', { message: 'b' });
    expect(calls).toBe(1);
  });
});

describe('EpochAdoption with a throwing epoch listener', () => {
  it('still adopts the epoch: keys exported, the next listener called, the client entered', async () => {
    const userId = 'alice-emitter';
    const impl = await suiteImpl(DEFAULT_MLS_SUITE, undefined);
    const identity = await newIdentity(impl);
    const kp = await keyPackageFor(userId, identity, impl);
    const { state } = await createMeetingGroup(
      kp,
      { hosts: [identity.signaturePublicKey], lobby: false, locked: false },
      impl,
    );

    const emitter = new Recorder();
    const epochs: bigint[] = [];
    emitter.on('epoch', () => {
      throw new Error('a broken media layer');
    });
    emitter.on('epoch', (keys) => epochs.push(keys.epoch));
    let entered = false;
    const adoption = new EpochAdoption({
      userId,
      nk: 16,
      trustStore: new MemoryTrustStore(),
      guard: new MembershipGuard(userId),
      logger: undefined,
      ownKey: () => identity.signaturePublicKey,
      emit: (event, payload) => emitter.send(event, payload),
      commit: async () => false,
      resync: async () => undefined,
      entered: () => (entered = true),
    });

    await adoption.adopt(state, impl);

    expect(entered).toBe(true);
    expect(epochs).toEqual([0n]);
    expect(adoption.current?.epoch).toBe(0n);
    expect(adoption.current?.baseKey.byteLength).toBe(16);
    expect(adoption.current?.members.map((m) => m.userId)).toEqual([userId]);
    expect(emitter.failures.map((f) => f.event)).toEqual(['epoch']);
  });
});
