// Cameras on demand (issue #17): this client receives the cameras it shows. The server announces
// every camera (producerAvailable … producerGone); a camera whose tile is on screen is consumed and
// resumed; one whose tile leaves the screen is paused at the SFU at once (no packets, no decoding),
// and its consumer closed once it has stayed off screen for HIDDEN_CLOSE_MS, which frees its
// decoder and its m-line; back on screen it is resumed, or consumed afresh.
//
// A peer is SHOWN until setShown(peerId, false) says otherwise: a grid that reports which tiles are
// on screen turns the others off; a UI that reports nothing receives every camera, as before.
// A hidden peer may be wanted SOON (setSoon: the grid's next page): consumed now and kept paused,
// so that showing it costs one resume, not a consume and a renegotiation on a busy page turn.
//
// What must hold: one consumer per camera at a time, whatever the order of shown / hidden, the
// camera's announcement and its end, and the connection's end (a rejoin consumes again what is
// shown); each peer's steps run one at a time, each chosen afresh from the state once the last is
// done (nextCameraStep), so a change while a request is in flight is never lost.

/** How long a tile stays off screen before its camera's consumer is closed (paused until then). */
export const HIDDEN_CLOSE_MS = 20_000;

/**
 * How many camera consumers this client keeps at once: the server's own cap (Peer.ts,
 * DEFAULT_MAX_CAMERA_CONSUMERS). A page, the next one and a paused page before it can exceed it;
 * a consume then first closes a camera that is hidden and not wanted soon.
 */
export const MAX_CAMERA_CONSUMERS = 64;

/** What OnDemandCameras asks of the current connection (MediaTransports, through MeetingSession). */
export interface CameraConnection {
  /**
   * A consumer of `peerId`'s camera `producerId`, its decrypting transform attached, paused at the
   * server, at simulcast `layer` when one is known.
   */
  consume(
    peerId: string,
    producerId: string,
    layer: number | undefined,
  ): Promise<{ consumerId: string; track: MediaStreamTrack }>;
  resume(consumerId: string): Promise<void>;
  pause(consumerId: string): Promise<void>;
  /** Closes the consumer here and at the server (a consumer the server closed already is fine). */
  close(consumerId: string): Promise<void>;
  setLayer(consumerId: string, layer: number): void;
}

export type CameraStep = 'consume' | 'resume' | 'pause' | 'close';

/** One camera consumer of ours: of which producer, and whether we let it flow. */
export interface CameraConsumer {
  consumerId: string;
  producerId: string;
  track: MediaStreamTrack;
  /** Resumed by us at the server (paused by us: false; a new consumer starts paused). */
  flowing: boolean;
  /** The simulcast layer last asked for. */
  layer: number | undefined;
}

/** What the next step for one peer's camera depends on. */
export interface CameraState {
  /** The camera the server announces for this peer, if any. */
  announced: string | undefined;
  consumer: CameraConsumer | undefined;
  shown: boolean;
  /** Hidden, but about to be shown: consumed ahead, paused, never closed for being hidden. */
  soon: boolean;
  /** Off screen for HIDDEN_CLOSE_MS. */
  expired: boolean;
  /** A camera whose consume or resume failed: not tried again until shown afresh. */
  failed: string | undefined;
}

/** The next step towards what the state asks for; undefined when there is nothing to do. */
export function nextCameraStep(state: CameraState): CameraStep | undefined {
  const { consumer } = state;
  // The camera ended (or another replaced it): its consumer goes, whether shown or not.
  if (consumer !== undefined && consumer.producerId !== state.announced) return 'close';
  const wanted = state.announced !== undefined && state.announced !== state.failed;
  if (state.shown) {
    if (consumer !== undefined) return consumer.flowing ? undefined : 'resume';
    return wanted ? 'consume' : undefined;
  }
  if (consumer === undefined) return state.soon && wanted ? 'consume' : undefined;
  if (consumer.flowing) return 'pause';
  return state.expired && !state.soon ? 'close' : undefined;
}

interface PeerCamera extends CameraState {
  busy: boolean;
  timer: ReturnType<typeof setTimeout> | undefined;
}

export interface OnDemandCamerasOptions {
  /** The track to show as `peerId`'s camera, or undefined when none flows (hidden, gone, closed). */
  onTrack: (peerId: string, track: MediaStreamTrack | undefined) => void;
  hiddenCloseMs?: number;
  maxConsumers?: number;
}

export class OnDemandCameras {
  readonly #options: OnDemandCamerasOptions;
  /** Peers reported off screen; outlives connections (a rejoin keeps the grid, keyed by peer id). */
  readonly #hidden = new Set<string>();
  /** Hidden peers wanted soon (setSoon); outlives connections as #hidden does. */
  readonly #soon = new Set<string>();
  /** The simulcast layer each peer's tile asked for last; outlives connections too. */
  readonly #layers = new Map<string, number>();
  /** The current connection's cameras, by peer id. */
  readonly #cameras = new Map<string, PeerCamera>();
  #connection: CameraConnection | undefined;

  constructor(options: OnDemandCamerasOptions) {
    this.#options = options;
  }

  /** A new connection: cameras announced from now on are consumed through it. */
  attach(connection: CameraConnection): void {
    this.detach();
    this.#connection = connection;
  }

  /** The connection went, and its consumers with it; what is shown is consumed again on the next. */
  detach(): void {
    for (const camera of this.#cameras.values()) clearTimeout(camera.timer);
    this.#cameras.clear();
    this.#connection = undefined;
  }

  /** The server announced `peerId`'s camera. */
  announce(peerId: string, producerId: string): void {
    const camera = this.#camera(peerId);
    camera.announced = producerId;
    this.#reconcile(peerId);
  }

  /** A camera ended; returns whose it was (undefined when it was none we know of). */
  gone(producerId: string): string | undefined {
    const peerId = this.peerOf(producerId);
    if (peerId === undefined) return undefined;
    this.#camera(peerId).announced = undefined;
    this.#reconcile(peerId);
    return peerId;
  }

  /** Whose camera `producerId` is, as announced on this connection. */
  peerOf(producerId: string): string | undefined {
    for (const [peerId, camera] of this.#cameras) if (camera.announced === producerId) return peerId;
    return undefined;
  }

  /** The server closed a consumer; whether it was one of our cameras'. */
  consumerClosed(consumerId: string): boolean {
    for (const [peerId, camera] of this.#cameras) {
      if (camera.consumer?.consumerId !== consumerId) continue;
      camera.consumer = undefined;
      this.#options.onTrack(peerId, undefined);
      this.#reconcile(peerId);
      return true;
    }
    return false;
  }

  /** `peerId`'s tile came on screen (true) or left it (false). Idempotent. */
  setShown(peerId: string, shown: boolean): void {
    if (shown === !this.#hidden.has(peerId)) return;
    if (shown) this.#hidden.delete(peerId);
    else this.#hidden.add(peerId);
    const camera = this.#cameras.get(peerId);
    if (camera === undefined) return;
    camera.shown = shown;
    clearTimeout(camera.timer);
    camera.timer = undefined;
    camera.expired = false;
    if (shown) {
      camera.failed = undefined; // shown afresh: worth another try
    } else {
      camera.timer = setTimeout(() => this.#expire(peerId, camera), this.#closeMs);
    }
    this.#reconcile(peerId);
  }

  /**
   * `peerId`'s tile is about to come on screen (true: the next page of the grid) or no longer is.
   * While hidden and soon, their camera is consumed and left paused. Idempotent.
   */
  setSoon(peerId: string, soon: boolean): void {
    if (soon === this.#soon.has(peerId)) return;
    if (soon) this.#soon.add(peerId);
    else this.#soon.delete(peerId);
    const camera = this.#camera(peerId);
    camera.soon = soon;
    camera.failed = soon ? undefined : camera.failed; // wanted afresh: worth another try
    // No longer soon and still hidden: it goes the way of any hidden camera, after HIDDEN_CLOSE_MS.
    if (!soon && !camera.shown) {
      clearTimeout(camera.timer);
      camera.expired = false;
      camera.timer = setTimeout(() => this.#expire(peerId, camera), this.#closeMs);
    }
    this.#reconcile(peerId);
  }

  /** The simulcast layer `peerId`'s tile wants; applied now, and to any later consumer of theirs. */
  setLayer(peerId: string, layer: number): void {
    this.#layers.set(peerId, layer);
    const consumer = this.#cameras.get(peerId)?.consumer;
    if (consumer === undefined || consumer.layer === layer) return;
    consumer.layer = layer;
    this.#connection?.setLayer(consumer.consumerId, layer);
  }

  /** `peerId` left the meeting: nothing of theirs is kept. */
  forget(peerId: string): void {
    const camera = this.#cameras.get(peerId);
    if (camera !== undefined) {
      clearTimeout(camera.timer);
      camera.timer = undefined;
      camera.announced = undefined;
      this.#reconcile(peerId);
    }
    this.#hidden.delete(peerId);
    this.#soon.delete(peerId);
    this.#layers.delete(peerId);
  }

  get #closeMs(): number {
    return this.#options.hiddenCloseMs ?? HIDDEN_CLOSE_MS;
  }

  #camera(peerId: string): PeerCamera {
    let camera = this.#cameras.get(peerId);
    if (camera === undefined) {
      camera = {
        announced: undefined,
        consumer: undefined,
        shown: !this.#hidden.has(peerId),
        soon: this.#soon.has(peerId),
        expired: false,
        failed: undefined,
        busy: false,
        timer: undefined,
      };
      this.#cameras.set(peerId, camera);
    }
    return camera;
  }

  #expire(peerId: string, camera: PeerCamera): void {
    if (this.#cameras.get(peerId) !== camera || camera.shown) return;
    camera.timer = undefined;
    camera.expired = true;
    this.#reconcile(peerId);
  }

  /** Runs the peer's steps one at a time until nothing is left to do; a second call joins the first. */
  #reconcile(peerId: string): void {
    const camera = this.#cameras.get(peerId);
    const connection = this.#connection;
    if (camera === undefined || connection === undefined || camera.busy) return;
    if (nextCameraStep(camera) === undefined) {
      this.#dropIfIdle(peerId, camera);
      return;
    }
    camera.busy = true;
    void this.#run(peerId, camera, connection).finally(() => {
      camera.busy = false;
      // A change after the last step was chosen, before this run ended, is not lost.
      if (this.#cameras.get(peerId) === camera) this.#reconcile(peerId);
    });
  }

  /** Nothing left to remember of this peer's camera on this connection. */
  #dropIfIdle(peerId: string, camera: PeerCamera): void {
    const idle = camera.consumer === undefined && camera.announced === undefined;
    if (idle && camera.timer === undefined) this.#cameras.delete(peerId);
  }

  async #run(peerId: string, camera: PeerCamera, connection: CameraConnection): Promise<void> {
    let yielded = false;
    for (let step = nextCameraStep(camera); step !== undefined; step = nextCameraStep(camera)) {
      if (step === 'pause' && !yielded) {
        // A page turn hides one page and shows the next at once: the next page's consumes and
        // resumes reach the server first, ahead of the old page's pauses; then the step is chosen afresh.
        yielded = true;
        await new Promise((resolve) => setTimeout(resolve, 0));
        if (this.#connection !== connection || this.#cameras.get(peerId) !== camera) return;
        continue;
      }
      yielded = false;
      try {
        await this.#step(step, peerId, camera, connection);
      } catch (error) {
        // A connection that went takes its requests with it: nothing failed that matters.
        if (this.#connection !== connection) return;
        console.warn(`camera of ${peerId}: ${step} failed: ${(error as Error).message}`);
        await this.#fail(peerId, camera, connection);
      }
      // The connection went meanwhile: its consumers went with it; the next one starts afresh.
      if (this.#connection !== connection || this.#cameras.get(peerId) !== camera) return;
    }
  }

  async #step(step: CameraStep, peerId: string, camera: PeerCamera, connection: CameraConnection) {
    const { announced, consumer } = camera;
    if (step === 'consume') {
      if (announced === undefined) return;
      await this.#makeRoom(connection);
      const layer = this.#layers.get(peerId);
      const { consumerId, track } = await connection.consume(peerId, announced, layer);
      camera.consumer = { consumerId, producerId: announced, track, flowing: false, layer };
      return;
    }
    if (consumer === undefined) return; // every other step acts on the consumer nextCameraStep saw
    switch (step) {
      case 'resume': {
        await connection.resume(consumer.consumerId);
        consumer.flowing = true;
        // The tile may have asked for another layer while this consumer was being made.
        const layer = this.#layers.get(peerId);
        if (layer !== undefined && layer !== consumer.layer) this.setLayer(peerId, layer);
        if (camera.consumer === consumer) this.#options.onTrack(peerId, consumer.track);
        return;
      }
      case 'pause':
        // Off screen at once: nothing counts it as shown (tile, encryption badge) while it pauses.
        this.#options.onTrack(peerId, undefined);
        consumer.flowing = false;
        await connection.pause(consumer.consumerId);
        return;
      case 'close':
        camera.consumer = undefined;
        this.#options.onTrack(peerId, undefined);
        await connection.close(consumer.consumerId);
        return;
    }
  }

  /** At the cap: closes one paused camera that is neither shown nor wanted soon, if there is one. */
  async #makeRoom(connection: CameraConnection): Promise<void> {
    const cameras = [...this.#cameras.entries()];
    const held = cameras.filter(([, camera]) => camera.consumer !== undefined).length;
    if (held < (this.#options.maxConsumers ?? MAX_CAMERA_CONSUMERS)) return;
    const spare = cameras.find(([, c]) => c.consumer !== undefined && !c.busy && !c.shown && !c.soon);
    const consumer = spare?.[1].consumer;
    // None to spare: the server refuses, and the camera waits to be shown afresh.
    if (spare === undefined || consumer === undefined) return;
    const [peerId, camera] = spare;
    camera.consumer = undefined;
    clearTimeout(camera.timer);
    camera.timer = undefined;
    this.#options.onTrack(peerId, undefined);
    await connection.close(consumer.consumerId);
  }

  /** A step failed: the consumer (if any) goes, and this camera waits to be shown afresh. */
  async #fail(peerId: string, camera: PeerCamera, connection: CameraConnection): Promise<void> {
    camera.failed = camera.announced;
    const consumer = camera.consumer;
    if (consumer === undefined) return;
    camera.consumer = undefined;
    this.#options.onTrack(peerId, undefined);
    await connection.close(consumer.consumerId).catch(() => {});
  }
}
