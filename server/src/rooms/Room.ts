// A meeting on the SFU: one mediasoup router, its peers, and the active-speaker observer.
// The Room owns its peers' lifetime and wires producers to consumers between them: microphones
// and screens are pushed to everyone (`newConsumer`); cameras are announced and consumed on
// demand (CameraSubscriptions, issue #17).
import { EventEmitter } from 'node:events';
import type { types } from 'mediasoup';
import { assertUnreachable } from '@conclave/common/errors';
import { ConclaveError, InvalidStateError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import { routerRtpCapabilitiesSchema } from '../signaling/mediasoupSchemas.ts';
import type { ResponseMap, RoomRequest } from '../signaling/protocol.ts';
import { CameraSubscriptions } from './CameraSubscriptions.ts';
import type { Peer, TransportSettings } from './Peer.ts';

export type RoomCloseReason = 'empty' | 'media-server-restarted' | 'server-shutdown' | 'ended';

interface RoomEvents {
  closed: [reason: RoomCloseReason];
}

export interface RoomOptions {
  id: string;
  router: types.Router;
  logger: Logger;
  maxPeers: number;
  /** Peers with one user id at once (two tabs are fine; a script opening hundreds is not). */
  maxPeersPerUser?: number;
  transportSettings: TransportSettings;
}

export class Room extends EventEmitter<RoomEvents> {
  readonly id: string;
  readonly router: types.Router;
  readonly #logger: Logger;
  readonly #maxPeers: number;
  readonly #maxPeersPerUser: number;
  readonly #transportSettings: TransportSettings;
  readonly #activeSpeaker: types.ActiveSpeakerObserver;
  readonly #peers = new Map<string, Peer>();
  readonly #cameras: CameraSubscriptions;
  #closed = false;
  #closeReason: RoomCloseReason | undefined;

  private constructor(options: RoomOptions, activeSpeaker: types.ActiveSpeakerObserver) {
    super();
    this.id = options.id;
    this.router = options.router;
    this.#logger = options.logger.child({ room: options.id });
    this.#maxPeers = options.maxPeers;
    this.#maxPeersPerUser = options.maxPeersPerUser ?? options.maxPeers;
    this.#transportSettings = options.transportSettings;
    this.#activeSpeaker = activeSpeaker;
    this.#cameras = new CameraSubscriptions(this.router, () => this.#joinedPeers());
    // A router closes with its worker: the room cannot go on and its clients must rejoin.
    this.router.observer.once('close', () => this.close('media-server-restarted'));
    activeSpeaker.on('dominantspeaker', ({ producer }) => {
      this.#broadcast({ type: 'activeSpeaker', data: { peerId: producer.appData['peerId'] as string } });
    });
  }

  static async create(options: RoomOptions): Promise<Room> {
    const activeSpeaker = await options.router.createActiveSpeakerObserver({ interval: 300 });
    return new Room(options, activeSpeaker);
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Why the room closed; known before its peers are closed, so their disconnects can tell. */
  get closeReason(): RoomCloseReason | undefined {
    return this.#closeReason;
  }

  get peers(): ReadonlyMap<string, Peer> {
    return this.#peers;
  }

  addPeer(peer: Peer): void {
    if (this.#closed) throw new InvalidStateError('the room has closed');
    // Its socket went while the room was being created: it must not hold the room open forever.
    if (peer.closed) {
      this.#closeSoonIfEmpty();
      throw new InvalidStateError('the participant left before entering');
    }
    if (this.#peers.size >= this.#maxPeers) {
      throw new ConclaveError('room-full', `this meeting is full (${this.#maxPeers} participants)`, 403);
    }
    const sameUser = [...this.#peers.values()].filter((p) => p.userId === peer.userId).length;
    if (sameUser >= this.#maxPeersPerUser) {
      throw new ConclaveError(
        'too-many-connections',
        `this user is in the meeting ${this.#maxPeersPerUser} times already`,
        429,
      );
    }
    this.#peers.set(peer.id, peer);
    peer.once('closed', () => this.#removePeer(peer));
    this.#logger.info({ peer: peer.id, peers: this.#peers.size }, 'peer connected');
  }

  /** Runs one validated request for a peer of this room. */
  async handle(peer: Peer, request: RoomRequest): Promise<ResponseMap[RoomRequest['method']]> {
    if (this.#closed || peer.closed) throw new InvalidStateError('the room has closed');
    switch (request.method) {
      case 'getRouterRtpCapabilities':
        // mediasoup types the payload type as optional; a router's codecs always have one, as the wire says.
        return { rtpCapabilities: routerRtpCapabilitiesSchema.parse(this.router.rtpCapabilities) };
      case 'createTransport':
        return peer.createTransport(this.router, request.data.direction, this.#transportSettings);
      case 'connectTransport':
        await peer.connectTransport(
          request.data.transportId,
          request.data.dtlsParameters as types.DtlsParameters,
        );
        return {};
      case 'createPlainTransport':
        return peer.createPlainTransport(this.router, request.data.direction, this.#transportSettings);
      case 'connectPlainTransport':
        await peer.connectPlainTransport(request.data.transportId, request.data);
        return {};
      case 'restartIce':
        return { iceParameters: await peer.restartIce(request.data.transportId) };
      case 'join':
        return this.#join(peer, request.data.rtpCapabilities as types.RtpCapabilities);
      case 'produce':
        return this.#produce(peer, request.data);
      case 'closeProducer':
        peer.producer(request.data.producerId).close();
        return {};
      case 'pauseProducer':
        await peer.producer(request.data.producerId).pause();
        return {};
      case 'resumeProducer':
        await peer.producer(request.data.producerId).resume();
        return {};
      case 'resumeConsumer':
        await peer.consumer(request.data.consumerId).resume();
        return {};
      case 'consume':
        return this.#cameras.consume(peer, request.data.producerId);
      case 'pauseConsumer':
        await peer.pauseConsumer(request.data.consumerId);
        return {};
      case 'closeConsumer':
        peer.closeConsumer(request.data.consumerId);
        return {};
      case 'setConsumerPreferredLayers': {
        const { consumerId, spatialLayer, temporalLayer } = request.data;
        const consumer = peer.consumer(consumerId);
        if (consumer.type === 'simulcast' || consumer.type === 'svc') {
          await consumer.setPreferredLayers(
            temporalLayer === undefined ? { spatialLayer } : { spatialLayer, temporalLayer },
          );
        }
        return {};
      }
      case 'leave':
        peer.close();
        return {};
      case 'reportMediaFailure':
        peer.markRejoining();
        this.#logger.info({ peer: peer.id, direction: request.data.direction }, 'peer media failed');
        for (const other of this.#joinedPeers()) {
          if (other !== peer) other.notify({ type: 'peerMediaFailed', data: { peerId: peer.id } });
        }
        return {};
      default:
        return assertUnreachable(request);
    }
  }

  /**
   * "Mute Bob", by a host (the caller checked that against the MLS group): his microphone stops at the
   * SFU, and he is told who did it; he can unmute himself.
   */
  async muteBy(host: Peer, peerId: string): Promise<void> {
    const target = this.#peers.get(peerId);
    if (target === undefined || !target.joined)
      throw new ConclaveError('not-found', 'no such participant', 404);
    for (const producer of target.producers.values()) {
      if (producer.appData['source'] === 'mic' && !producer.closed) await producer.pause();
    }
    target.notify({ type: 'mutedByHost', data: { by: host.userId } });
  }

  /** "End meeting for all", by a host: everyone is told who ended it, then the room closes. */
  endBy(host: Peer): void {
    this.#broadcast({ type: 'meetingEnded', data: { by: host.userId } });
    this.close('ended');
  }

  /** Closes every peer and the router. Idempotent. */
  close(reason: RoomCloseReason): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#closeReason = reason;
    if (reason !== 'empty' && reason !== 'ended') this.#broadcast({ type: 'roomClosed', data: { reason } });
    for (const peer of [...this.#peers.values()]) peer.close();
    this.#peers.clear();
    if (!this.router.closed) this.router.close();
    this.#logger.info({ reason }, 'room closed');
    this.emit('closed', reason);
  }

  async #join(peer: Peer, rtpCapabilities: types.RtpCapabilities): Promise<ResponseMap['join']> {
    peer.markJoined(rtpCapabilities);
    const others = this.#joinedPeers().filter((p) => p !== peer);
    for (const other of others) other.notify({ type: 'peerJoined', data: peer.info });
    // Notifications before the answer, as the consumers below: the client holds them until the
    // answer has named everyone. Cameras are offered; they flow once the newcomer asks (consume).
    this.#cameras.announceAll(peer);
    // Microphones and screens flow to the newcomer; consumers start paused until it acknowledges each.
    for (const other of others) {
      for (const producer of other.producers.values()) {
        if (producer.appData['source'] !== 'camera') await this.#push(peer, producer, other);
      }
    }
    return { self: peer.info, peers: others.map((p) => p.info) };
  }

  async #produce(
    peer: Peer,
    data: Extract<RoomRequest, { method: 'produce' }>['data'],
  ): Promise<ResponseMap['produce']> {
    const producer = await peer.produce(
      data.transportId,
      data.kind,
      data.rtpParameters as types.RtpParameters,
      data.source,
    );
    if (data.source === 'camera') {
      this.#cameras.add(producer, peer);
      return { producerId: producer.id };
    }
    if (data.source === 'mic') await this.#activeSpeaker.addProducer({ producerId: producer.id });
    for (const other of this.#joinedPeers()) {
      if (other !== peer) await this.#push(other, producer, peer);
    }
    return { producerId: producer.id };
  }

  /**
   * A microphone or screen goes to `to` as a paused consumer (`newConsumer`). A join and a new
   * producer may both offer it: one consumer. One consumer failing (its peer left meanwhile, say)
   * must not fail the request of another peer.
   */
  async #push(to: Peer, producer: types.Producer, from: Peer): Promise<void> {
    if (to.consumes(producer.id)) return;
    try {
      to.notify({ type: 'newConsumer', data: await to.consume(this.router, producer, from.id) });
    } catch (error) {
      // Refusals (no receive transport, a codec it lacks, gone meanwhile) are the peer's business.
      const level = error instanceof ConclaveError ? 'debug' : 'warn';
      this.#logger[level]({ peer: to.id, err: (error as Error).message }, 'could not create a consumer');
    }
  }

  #joinedPeers(): Peer[] {
    return [...this.#peers.values()].filter((p) => p.joined && !p.closed);
  }

  #broadcast(notification: Parameters<Peer['notify']>[0]): void {
    for (const peer of this.#peers.values()) peer.notify(notification);
  }

  #removePeer(peer: Peer): void {
    if (!this.#peers.delete(peer.id)) return;
    this.#cameras.forget(peer);
    this.#logger.info({ peer: peer.id, peers: this.#peers.size }, 'peer left');
    if (peer.joined) {
      for (const other of this.#joinedPeers()) other.notify({ type: 'peerLeft', data: { peerId: peer.id } });
    }
    this.#closeSoonIfEmpty();
  }

  /** An empty room closes on the next tick, unless someone joined in the meantime. */
  #closeSoonIfEmpty(): void {
    if (this.#peers.size > 0) return;
    setImmediate(() => {
      if (this.#peers.size === 0) this.close('empty');
    });
  }
}
