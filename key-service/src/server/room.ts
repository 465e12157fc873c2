// One room's Delivery Service state: the public view of the group's current epoch (from the latest
// GroupInfo), who is connected, and removals in progress. Nothing here is secret.
import type { Socket } from 'socket.io';
import { KeyServiceError } from '../errors.ts';
import type { Events, KeyServiceLimits } from '../protocol.ts';
import { bytesEqual } from '@conclave/common/bytes';
import { newRoomFenceState, type RoomFenceState } from './cluster-gate.ts';
import type { GroupView } from './mls-checks.ts';
import { actingHosts } from '../roles.ts';
import type { Logger } from './logger.ts';
import { JoinTurns } from './join-turns.ts';
import { Lobby } from './lobby.ts';

export interface SocketData {
  room: string;
  sub: string;
  name: string;
  /** The session came from a host invite: it may create the room's group (nothing else). */
  host: boolean;
  /** Connected to wait in the lobby, without a meeting connection: until one exists, this socket may
   *  only sync, knock and renew. */
  lobbyOnly: boolean;
  /** The session token's expiry (seconds since the epoch), when the authenticator gives one. */
  exp?: number | undefined;
}
export type EmitEvents = { [E in keyof Events]: (payload: Events[E]) => void };
export type KeySocket = Socket<Record<string, never>, EmitEvents, Record<string, never>, SocketData>;

interface PendingRemoval {
  /** Signature keys of the gone user's leaves when signaling reported it gone. */
  keys: Uint8Array[];
  /** User ids already asked to commit the removal, in order. */
  asked: string[];
  timer: ReturnType<typeof setTimeout> | undefined;
}

export class KeyRoom {
  readonly id: string;
  view: GroupView | undefined;
  /** Sockets of the meeting: presence, and (for members) commits and application messages. */
  readonly sockets = new Map<string, KeySocket>();
  /** Sockets waiting in the lobby: not present, told only about their own knock. */
  readonly waiting = new Map<string, KeySocket>();
  readonly lobby = new Lobby();
  /** Joiners taking turns at the external commit (join-turns.ts). */
  readonly turns: JoinTurns;
  /** User ids a host removed: they do not come back into this meeting (until it closes). */
  readonly removed = new Set<string>();
  /** Cluster mode: what this node knows of the room's commit fence (cluster-gate.ts). */
  readonly fence: RoomFenceState = newRoomFenceState();
  readonly #limits: KeyServiceLimits;
  readonly #logger: Logger;
  readonly #removals = new Map<string, PendingRemoval>();
  #lock: Promise<unknown> = Promise.resolve();
  #closed = false;

  constructor(id: string, limits: KeyServiceLimits, logger: Logger) {
    this.id = id;
    this.#limits = limits;
    this.#logger = logger;
    this.turns = new JoinTurns(limits.joinTurnMs);
  }

  get channel(): string {
    return `room:${this.id}`;
  }

  /** Runs `fn` after every earlier task of this room: check-then-set of the epoch is atomic. */
  serialized<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#lock.then(fn, fn);
    this.#lock = run.catch(() => undefined);
    return run;
  }

  online(): string[] {
    return [...new Set([...this.sockets.values()].map((s) => s.data.sub))];
  }

  isOnline(userId: string): boolean {
    for (const s of this.sockets.values()) if (s.data.sub === userId) return true;
    return false;
  }

  isMember(userId: string): boolean {
    return this.view?.leaves.some((l) => l.userId === userId) ?? false;
  }

  /** Whether `userId` holds a leaf that acts as host in the current epoch (roles.ts). */
  isHost(userId: string): boolean {
    const view = this.view;
    if (view?.roles === undefined) return false;
    return actingHosts(view.roles, view.leaves).some((l) => l.userId === userId);
  }

  /** Moves a waiting socket into the meeting (its holder was just admitted). */
  admit(socket: KeySocket): void {
    if (!this.waiting.delete(socket.id)) return;
    this.sockets.set(socket.id, socket);
    void socket.join(this.channel);
  }

  /** To every socket whose user holds no leaf: those waiting in the lobby or for the meeting. */
  emitToOutsiders<E extends keyof Events>(event: E, payload: Events[E]): void {
    for (const s of [...this.waiting.values(), ...this.sockets.values()]) {
      if (!this.isMember(s.data.sub)) (s.emit as (e: E, p: Events[E]) => boolean)(event, payload);
    }
  }

  emitToUser<E extends keyof Events>(userId: string, event: E, payload: Events[E]): void {
    for (const s of this.sockets.values()) {
      if (s.data.sub === userId) (s.emit as (e: E, p: Events[E]) => boolean)(event, payload);
    }
  }

  /**
   * Sends to every socket (but `except`) whose user holds a leaf of `view`: commits and application
   * messages are for the group's members; a socket of the room that is not one (yet, or any more)
   * gets neither, so the server relays nobody's ciphertext beyond the group it was meant for.
   */
  emitToMembers<E extends keyof Events>(
    view: GroupView,
    event: E,
    payload: Events[E],
    except?: KeySocket,
  ): void {
    const members = new Set(view.leaves.map((l) => l.userId));
    for (const s of this.sockets.values()) {
      if (s !== except && members.has(s.data.sub))
        (s.emit as (e: E, p: Events[E]) => boolean)(event, payload);
    }
  }

  requireView(): GroupView {
    if (this.view === undefined)
      throw new KeyServiceError('invalid-state', 'the room has no group yet; sync first');
    return this.view;
  }

  // ---- removal of a gone peer (RFC 9420 leaves it to the application; here: lowest leaf first) ----

  /** Signaling says `userId` is gone: ask the remaining member with the lowest leaf index to commit
   *  its removal; if the group is not past it within `removalTimeoutMs`, ask the next one. */
  startRemoval(userId: string): void {
    const view = this.view;
    if (view === undefined || this.#closed) return;
    const keys = view.leaves.filter((l) => l.userId === userId).map((l) => l.signatureKey);
    if (keys.length === 0) return;
    const existing = this.#removals.get(userId);
    if (existing !== undefined) clearTimeout(existing.timer);
    this.#removals.set(userId, { keys, asked: [], timer: undefined });
    this.#askNext(userId);
  }

  /** Signaling reported `userId` gone and they have not come back: their leaves may be removed. */
  isReportedGone(userId: string): boolean {
    return this.#removals.has(userId);
  }

  /** The user came back (a new socket): it re-synchronises its own leaf; stop removing it. */
  cancelRemoval(userId: string): void {
    const pending = this.#removals.get(userId);
    if (pending === undefined) return;
    clearTimeout(pending.timer);
    this.#removals.delete(userId);
  }

  /** After every accepted commit: drop finished removals, re-ask for the others in the new epoch. */
  onNewEpoch(): void {
    for (const [userId, pending] of this.#removals) {
      clearTimeout(pending.timer);
      // The member asked last may simply have been overtaken by this commit: ask it again first.
      pending.asked.pop();
      this.#askNext(userId);
    }
  }

  #askNext(userId: string): void {
    const pending = this.#removals.get(userId);
    const view = this.view;
    if (pending === undefined || view === undefined || this.#closed) return;
    const leaves = view.leaves
      .filter((l) => pending.keys.some((k) => bytesEqual(k, l.signatureKey)))
      .map((l) => l.leafIndex);
    if (leaves.length === 0) {
      this.#removals.delete(userId);
      return;
    }
    const candidates = view.leaves
      .filter((l) => l.userId !== userId && !this.#removals.has(l.userId) && this.isOnline(l.userId))
      .sort((a, b) => a.leafIndex - b.leafIndex)
      .map((l) => l.userId);
    let next = candidates.find((c) => !pending.asked.includes(c));
    if (next === undefined && candidates.length > 0) {
      pending.asked = [];
      next = candidates[0];
    }
    if (next !== undefined) {
      pending.asked.push(next);
      this.#logger.debug(
        { room: this.id, epoch: Number(view.epoch), leaves },
        'asking a member to commit a removal',
      );
      this.emitToUser(next, 'remove-request', { epoch: Number(view.epoch), userId, leaves });
    }
    pending.timer = setTimeout(() => {
      void this.serialized(async () => this.#askNext(userId));
    }, this.#limits.removalTimeoutMs);
    pending.timer.unref?.();
  }

  close(): void {
    this.#closed = true;
    this.turns.close();
    for (const pending of this.#removals.values()) clearTimeout(pending.timer);
    this.#removals.clear();
  }
}
