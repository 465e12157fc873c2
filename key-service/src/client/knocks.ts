// The lobby as the key client sees it: as a member, who is knocking (each with the fingerprint of the
// key their KeyPackage carries); as a knocker, the KeyPackage whose Welcome will let this member in.
// A member a host admitted before, who dropped and was removed as gone, knocks again with the same
// key: a host's browser lets that key back in by itself for a while (REJOIN_WITHOUT_ADMISSION_MS).
//
// Must hold: a knock is listed only when its KeyPackage decodes; a key a host removed is never
// re-admitted by itself (EpochAdoption remembers only keys removed as gone).
import { encodeMlsMessage, type CiphersuiteImpl } from 'ts-mls';
import { bytesEqual } from '@conclave/common/bytes';
import type { Knock } from '../protocol.ts';
import { fingerprint } from './codes.ts';
import { decodeMessage, type GeneratedKeyPackage } from './group.ts';
import type { EpochKeys, KeyClientEvents, KnockInfo } from './types.ts';

/** How long after a member was removed as gone their key walks back in through the lobby. */
const REJOIN_WITHOUT_ADMISSION_MS = 120_000;
/** Between acting hosts (by rank) re-admitting a returning member, so that one of them does it. */
const READMIT_STAGGER_MS = 2_000;

/** Our own knock, while we wait in the lobby. */
export interface OwnKnock {
  socketId: string | undefined;
  groupId: Uint8Array;
  impl: CiphersuiteImpl;
  kp: GeneratedKeyPackage;
}

export interface KnocksHost {
  emit(event: 'knocks', payload: KeyClientEvents['knocks']): void;
  /** The keys of the epoch this member holds (who acts as host). */
  current(): EpochKeys | undefined;
  /** When the member with this key was removed as gone, if lately. */
  goneSince(key: Uint8Array): number | undefined;
  /** Admits a knock (a host's commit); called for a returning member only. */
  admit(knockId: string): void;
}

export class Knocks {
  readonly #host: KnocksHost;
  readonly #knocks = new Map<string, KnockInfo & { keyPackage: Uint8Array }>();
  #own: OwnKnock | undefined;

  constructor(host: KnocksHost) {
    this.#host = host;
  }

  /** People waiting in the lobby, without their KeyPackages. */
  list(): KnockInfo[] {
    return [...this.#knocks.values()].map(({ id, userId, name, fingerprint }) => ({
      id,
      userId,
      name,
      fingerprint,
    }));
  }

  get(id: string): (KnockInfo & { keyPackage: Uint8Array }) | undefined {
    return this.#knocks.get(id);
  }

  /** The lobby as the key service listed it (on sync). */
  replace(knocks: readonly Knock[]): void {
    this.#knocks.clear();
    for (const k of knocks) this.add(k, false);
    this.#host.emit('knocks', { knocks: this.list() });
  }

  /** Someone knocked. */
  add(knock: Knock, announce = true): void {
    const message = decodeMessage(knock.keyPackage);
    if (message?.wireformat !== 'mls_key_package') return;
    const key = message.keyPackage.leafNode.signaturePublicKey;
    this.#knocks.set(knock.id, { ...knock, fingerprint: fingerprint(key) });
    if (announce) this.#host.emit('knocks', { knocks: this.list() });
    this.#readmitIfReturning(knock.id, key);
  }

  /** A knock was answered or withdrawn. */
  remove(id: string): void {
    if (this.#knocks.delete(id)) this.#host.emit('knocks', { knocks: this.list() });
  }

  /**
   * A member whose connection dropped (and whom the others removed as gone) knocks again with the
   * same key: a host admitted that key before, so the host's browser admits it again by itself, for
   * REJOIN_WITHOUT_ADMISSION_MS. The first acting host does it at once, the others if it is still
   * waiting a moment later. A key a host removed is never in this list.
   */
  #readmitIfReturning(knockId: string, key: Uint8Array): void {
    const since = this.#host.goneSince(key);
    const current = this.#host.current();
    if (since === undefined || current === undefined || Date.now() - since > REJOIN_WITHOUT_ADMISSION_MS)
      return;
    const rank = current.hosts.indexOf(current.ownLeafIndex);
    if (rank === -1) return;
    setTimeout(() => {
      if (this.#knocks.has(knockId)) this.#host.admit(knockId);
    }, rank * READMIT_STAGGER_MS);
  }

  /** Our own knock, while we wait. */
  get knocking(): OwnKnock | undefined {
    return this.#own;
  }

  /** Whether we knock on `groupId` on this very connection already. */
  knockingOn(socketId: string | undefined, groupId: Uint8Array): boolean {
    const own = this.#own;
    return own !== undefined && own.socketId === socketId && bytesEqual(own.groupId, groupId);
  }

  /** Remembers our knock and returns the KeyPackage to send with it. */
  startKnocking(
    socketId: string | undefined,
    groupId: Uint8Array,
    impl: CiphersuiteImpl,
    kp: GeneratedKeyPackage,
  ): Uint8Array {
    this.#own = { socketId: socketId ?? '', groupId, impl, kp };
    return encodeMlsMessage({
      version: 'mls10',
      wireformat: 'mls_key_package',
      keyPackage: kp.publicPackage,
    });
  }

  /** Admitted, or turned away: no knock of ours any more. */
  stopKnocking(): void {
    this.#own = undefined;
  }
}
