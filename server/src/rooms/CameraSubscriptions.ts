// Cameras on demand (issue #17): a client receives the cameras it shows. The room announces each
// camera to every other joined peer (`producerAvailable`, then `producerPaused` / `producerResumed`
// and at last `producerGone`), so everyone knows whose camera is on without receiving it; a peer
// gets a consumer of one only when it asks (`consume`), one at a time. Microphones and screens are
// still pushed to everyone (Room).
//
// What must hold: each peer hears of each camera once, whether it joined before the camera was
// created, after, or while it was being created, and hears that it is gone once; `consume` gives
// only a camera of this room, of another joined peer.
import type { types } from 'mediasoup';
import { ConclaveError, InvalidStateError } from '../errors.ts';
import type { ConsumerInfo, Notification } from '../signaling/protocol.ts';
import type { Peer } from './Peer.ts';

interface Camera {
  producer: types.Producer;
  owner: Peer;
  /** Peers told of it (producerAvailable), who must hear of its pauses and its end. */
  audience: Set<Peer>;
}

export class CameraSubscriptions {
  readonly #router: types.Router;
  /** The room's joined peers, at the moment of asking. */
  readonly #joinedPeers: () => Peer[];
  readonly #cameras = new Map<string, Camera>();

  constructor(router: types.Router, joinedPeers: () => Peer[]) {
    this.#router = router;
    this.#joinedPeers = joinedPeers;
  }

  /** A new camera: every other joined peer hears of it now, and of its pauses and its end later. */
  add(producer: types.Producer, owner: Peer): void {
    if (producer.closed) return;
    const camera: Camera = { producer, owner, audience: new Set() };
    this.#cameras.set(producer.id, camera);
    const tell = (type: 'producerPaused' | 'producerResumed' | 'producerGone') =>
      this.#tellAudience(camera, { type, data: { producerId: producer.id } });
    producer.observer.on('pause', () => tell('producerPaused'));
    producer.observer.on('resume', () => tell('producerResumed'));
    producer.observer.once('close', () => {
      this.#cameras.delete(producer.id);
      tell('producerGone');
      camera.audience.clear();
    });
    for (const peer of this.#joinedPeers()) this.#announce(camera, peer);
  }

  /** A newcomer hears of every camera already there (a camera created meanwhile comes by `add`). */
  announceAll(newcomer: Peer): void {
    for (const camera of this.#cameras.values()) this.#announce(camera, newcomer);
  }

  /**
   * `peer` asks to receive a camera: a paused consumer, which its client resumes once its decrypting
   * transform is attached.
   * @throws ConclaveError 'not-found' for an id that is no producer of this room, 'bad-request'
   *   for a microphone or screen (pushed to everyone) or the peer's own camera, and Peer.consume's
   *   refusals (not joined, no receive transport, consumed already, a cap, a codec it lacks).
   */
  async consume(peer: Peer, producerId: string): Promise<ConsumerInfo> {
    if (!peer.joined) throw new InvalidStateError('join before consuming');
    const camera = this.#cameras.get(producerId);
    if (camera === undefined) {
      const pushed = this.#joinedPeers().some((p) => p.producers.has(producerId));
      if (pushed) {
        throw new ConclaveError(
          'bad-request',
          'microphones and screens come to everyone; only cameras are consumed',
        );
      }
      throw new ConclaveError('not-found', 'no such camera', 404);
    }
    if (camera.owner === peer)
      throw new ConclaveError('bad-request', 'a participant does not consume its own camera');
    return peer.consume(this.#router, camera.producer, camera.owner.id);
  }

  /** A peer left: it hears of nothing more. */
  forget(peer: Peer): void {
    for (const camera of this.#cameras.values()) camera.audience.delete(peer);
  }

  #announce(camera: Camera, peer: Peer): void {
    if (peer === camera.owner || camera.audience.has(peer) || camera.producer.closed) return;
    camera.audience.add(peer);
    peer.notify({
      type: 'producerAvailable',
      data: {
        producerId: camera.producer.id,
        peerId: camera.owner.id,
        source: 'camera',
        kind: 'video',
        paused: camera.producer.paused,
      },
    });
  }

  #tellAudience(camera: Camera, notification: Notification): void {
    for (const peer of camera.audience) peer.notify(notification);
  }
}
