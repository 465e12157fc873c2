// The lobby of one room, as the key service keeps it: who is waiting with which KeyPackage. Public
// material only (a KeyPackage is public), and the server's part is bookkeeping: it can refuse to pass
// a knock on, but admitting someone takes a host's signed Add, which every member checks itself.
import { randomBytes } from 'node:crypto';
import { KeyServiceError } from '../errors.ts';
import type { Knock } from '../protocol.ts';
import { bytesEqual } from '@conclave/common/bytes';
import type { KeySocket } from './room.ts';

export const MAX_KNOCKS_PER_ROOM = 64;

export interface StoredKnock extends Knock {
  socket: KeySocket;
  /** The KeyPackage leaf's signature key: an admitting Add must carry exactly this one. */
  signatureKey: Uint8Array;
}

export class Lobby {
  readonly #knocks = new Map<string, StoredKnock>();

  /** Adds (or, for a socket that knocks again, replaces) the knock of `socket`. */
  knock(socket: KeySocket, keyPackage: Uint8Array, signatureKey: Uint8Array): StoredKnock {
    const previous = this.ofSocket(socket);
    if (previous !== undefined) this.#knocks.delete(previous.id);
    else if (this.#knocks.size >= MAX_KNOCKS_PER_ROOM) {
      throw new KeyServiceError('server-full', 'too many people are waiting in this lobby');
    }
    const knock: StoredKnock = {
      id: randomBytes(12).toString('base64url'),
      userId: socket.data.sub,
      name: socket.data.name,
      keyPackage,
      socket,
      signatureKey,
    };
    this.#knocks.set(knock.id, knock);
    return knock;
  }

  get(id: string): StoredKnock | undefined {
    return this.#knocks.get(id);
  }

  ofSocket(socket: KeySocket): StoredKnock | undefined {
    for (const k of this.#knocks.values()) if (k.socket === socket) return k;
    return undefined;
  }

  /** The knock whose KeyPackage carries `signatureKey` (what an Add admits). */
  bySignatureKey(signatureKey: Uint8Array): StoredKnock | undefined {
    for (const k of this.#knocks.values()) if (bytesEqual(k.signatureKey, signatureKey)) return k;
    return undefined;
  }

  delete(id: string): boolean {
    return this.#knocks.delete(id);
  }

  all(): StoredKnock[] {
    return [...this.#knocks.values()];
  }

  /** What members are told: no socket. */
  static public(knock: StoredKnock): Knock {
    return { id: knock.id, userId: knock.userId, name: knock.name, keyPackage: knock.keyPackage };
  }
}
