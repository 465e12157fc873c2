// The server's rooms by id. Creating a room is serialized per id, so two peers racing into a new
// room end up in the same one; a closed room leaves the registry. At most `maxRooms` exist at once:
// each holds a mediasoup router, and open rooms let anyone name a new one.
import { ConclaveError } from '../errors.ts';
import { MEDIA_CODECS } from '../media/mediasoupConfig.ts';
import type { WorkerPool } from '../media/WorkerPool.ts';
import type { Logger } from '../logger.ts';
import type { TransportSettings } from './Peer.ts';
import { Room } from './Room.ts';

export interface RoomRegistryOptions {
  pool: WorkerPool;
  logger: Logger;
  maxPeersPerRoom: number;
  /** Peers one user id may have in one room at once. */
  maxPeersPerUser: number;
  maxRooms: number;
  transportSettings: TransportSettings;
}

export class RoomRegistry {
  readonly #options: RoomRegistryOptions;
  readonly #rooms = new Map<string, Room>();
  readonly #creating = new Map<string, Promise<Room>>();

  constructor(options: RoomRegistryOptions) {
    this.#options = options;
  }

  get rooms(): ReadonlyMap<string, Room> {
    return this.#rooms;
  }

  async getOrCreate(id: string): Promise<Room> {
    const existing = this.#rooms.get(id);
    if (existing !== undefined && !existing.closed) return existing;
    const pending = this.#creating.get(id);
    if (pending !== undefined) return pending;
    if (this.#rooms.size + this.#creating.size >= this.#options.maxRooms) {
      throw new ConclaveError('server-full', 'this server hosts as many meetings as it can; try later', 503);
    }
    const creation = this.#create(id).finally(() => this.#creating.delete(id));
    this.#creating.set(id, creation);
    return creation;
  }

  closeAll(): void {
    for (const room of [...this.#rooms.values()]) room.close('server-shutdown');
  }

  async #create(id: string): Promise<Room> {
    const router = await this.#options.pool.createRouter(MEDIA_CODECS);
    const room = await Room.create({
      id,
      router,
      logger: this.#options.logger,
      maxPeers: this.#options.maxPeersPerRoom,
      maxPeersPerUser: this.#options.maxPeersPerUser,
      transportSettings: this.#options.transportSettings,
    });
    this.#rooms.set(id, room);
    room.once('closed', () => {
      if (this.#rooms.get(id) === room) this.#rooms.delete(id);
    });
    return room;
  }
}
