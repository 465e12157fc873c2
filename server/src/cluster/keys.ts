// Redis key names and the validation of names that go into them, in one place.
import { NODE_NAME } from './clusterConfig.ts';

/** Room names as they reach the directory: printable, no spaces, bounded. */
const ROOM_NAME = /^[\x21-\x7e]{1,256}$/;

export function assertNodeName(name: string): void {
  if (!NODE_NAME.test(name))
    throw new TypeError('node name must be 1-63 lowercase letters, digits or inner hyphens');
}

export function assertRoomName(room: string): void {
  if (!ROOM_NAME.test(room))
    throw new TypeError('room name must be 1-256 printable ASCII characters without spaces');
}

export class ClusterKeys {
  constructor(readonly prefix: string) {}
  /** Hash per live node: url, draining ('0'|'1'), peers, rooms, beatAt (ms); expires after the TTL. */
  nodePrefix(): string {
    return `${this.prefix}node:`;
  }
  node(name: string): string {
    return `${this.nodePrefix()}${name}`;
  }
  /** Sorted set: node name → load (peers + rooms), refreshed on every heartbeat. */
  load(): string {
    return `${this.prefix}nodes:load`;
  }
  /** Hash per room: owner, generation. */
  room(room: string): string {
    return `${this.prefix}room:${room}`;
  }
  /** Hash per room: epoch, generation, owner, groupInfo (public bytes). */
  commit(room: string): string {
    return `${this.prefix}commit:${room}`;
  }
}

/** A non-negative decimal integer as Redis holds it, or undefined. */
export function parseCount(raw: string | undefined): number | undefined {
  if (raw === undefined || !/^(0|[1-9][0-9]{0,15})$/.test(raw)) return undefined;
  const n = Number(raw);
  return Number.isSafeInteger(n) ? n : undefined;
}
