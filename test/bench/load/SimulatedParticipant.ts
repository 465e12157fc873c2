// One meeting participant without a media engine: it does what the web client does on the signaling
// and key paths (web/src/lib/meeting/MeetingSession.svelte.ts): a session token from the HTTP API,
// the signaling socket (router capabilities, a send and a receive WebRTC transport, join), the
// room's MLS group by external commit through the real key service with a real ts-mls client (its
// pure-JS crypto provider rather than WebCrypto, to spare the generator's CPU), a
// microphone and a camera producer once keyed, every consumer the server offers resumed, and every
// camera it announces consumed (as the web client does while every tile is on screen). No
// ICE or DTLS ever runs, so no media flows: the load is the servers' control and key paths.
// Leaving is what the web client's Leave does: the key client and the signaling socket close.
import { io, type Socket } from 'socket.io-client';
import type { EpochKeys, KeyClient } from '@conclave/key-service/client';
import type { Ack, Notification, RequestMethod, ResponseMap } from '@conclave/server/protocol';
import { opusParameters, vp8SimulcastParameters } from '../../integration/support/testServer.ts';
import { ApiClient, deviceAddress } from './apiClient.ts';
import { simulatedKeyClient } from './simulatedKeyClient.ts';

const REQUEST_TIMEOUT_MS = 10_000;

/** A failure with a kind the run counts errors by (e.g. 'api:rate-limited', 'signaling:join:internal'). */
export class LoadError extends Error {
  constructor(
    readonly kind: string,
    message: string,
  ) {
    super(message);
    this.name = 'LoadError';
  }
}

export interface JoinTimes {
  /** Start → in the SFU room and holding the group's epoch (both paths run in parallel, as in the app). */
  totalMs: number;
  /** The POST /api/sessions round trip. */
  sessionMs: number;
  /** Signaling connect → join answered (after the session). */
  signalingMs: number;
  /** Key client start → in the group (after the session): sync, external commit, its acceptance. */
  mlsMs: number;
}

export interface ParticipantContext {
  baseUrl: string;
  room: string;
  invite: string;
  /** Device number: picks the participant's own loopback address. */
  device: number;
  /** Problems after the join (a dropped socket, an MLS warning), counted by kind. */
  report: (kind: string, message: string) => void;
}

export class SimulatedParticipant {
  readonly room: string;
  readonly #ctx: ParticipantContext;
  readonly #localAddress: string;
  readonly #consumers = new Set<string>();
  /** Cameras announced and not gone, with our consumer of each once we have it. */
  readonly #cameras = new Map<string, string | undefined>();
  readonly #epochWaiters = new Set<() => void>();
  #userId: string | undefined;
  #signaling: Socket | undefined;
  #keys: KeyClient | undefined;
  #sendTransport: string | undefined;
  #left = false;

  constructor(ctx: ParticipantContext) {
    this.room = ctx.room;
    this.#ctx = ctx;
    this.#localAddress = deviceAddress(ctx.device);
  }

  get userId(): string {
    if (this.#userId === undefined) throw new Error('not joined');
    return this.#userId;
  }

  get keys(): EpochKeys | undefined {
    return this.#keys?.current;
  }

  /** Consumers the server created for this participant and has not closed. */
  get consumers(): number {
    return this.#consumers.size;
  }

  get left(): boolean {
    return this.#left;
  }

  /** Joins; throws a LoadError naming the step that failed. */
  async join(): Promise<JoinTimes> {
    const t0 = performance.now();
    const api = new ApiClient(this.#ctx.baseUrl, this.#localAddress);
    const session = await api
      .createSession(this.#ctx.invite, `Load ${this.#ctx.device}`)
      .catch((e: unknown) => {
        throw new LoadError(`api:${(e as { code?: string }).code ?? 'error'}`, (e as Error).message);
      });
    this.#userId = session.userId;
    const t1 = performance.now();
    const [signalingDone, mlsDone] = await Promise.all([
      this.#joinSignaling(session.session).then(() => performance.now()),
      this.#joinGroup(session.session, session.userId).then(() => performance.now()),
    ]);
    // Sending starts once keyed, as the web client's #produceWhenKeyed does; not part of the join.
    void this.#produce().catch((e: unknown) => this.#report(e, 'signaling:produce'));
    return {
      totalMs: Math.max(signalingDone, mlsDone) - t0,
      sessionMs: t1 - t0,
      signalingMs: signalingDone - t1,
      mlsMs: mlsDone - t1,
    };
  }

  /** Leaves as the web client does: the key client and the signaling socket close, nothing else is sent. */
  leave(): void {
    if (this.#left) return;
    this.#left = true;
    this.#keys?.close();
    this.#signaling?.disconnect();
    for (const wake of this.#epochWaiters) wake();
  }

  /**
   * Resolves true once this participant's current epoch satisfies `predicate`, false when it leaves
   * first or `timeoutMs` passes.
   */
  waitForEpoch(predicate: (keys: EpochKeys) => boolean, timeoutMs: number): Promise<boolean> {
    return new Promise((resolve) => {
      const keys = this.#keys;
      if (this.#left || keys === undefined) return resolve(false);
      const check = () => {
        const current = keys.current;
        if (this.#left || (current !== undefined && predicate(current))) finish(!this.#left);
      };
      const finish = (result: boolean) => {
        clearTimeout(timer);
        unsubscribe();
        this.#epochWaiters.delete(wake);
        resolve(result);
      };
      const wake = () => finish(false);
      const timer = setTimeout(() => finish(false), timeoutMs);
      const unsubscribe = keys.on('epoch', check);
      this.#epochWaiters.add(wake);
      check();
    });
  }

  async #joinSignaling(token: string): Promise<void> {
    const socket = io(`${this.#ctx.baseUrl}/signaling`, {
      transports: ['websocket'],
      auth: { token },
      reconnection: false,
      forceNew: true,
      localAddress: this.#localAddress,
    } as Parameters<typeof io>[1]);
    this.#signaling = socket;
    socket.on('notification', (n: Notification) => this.#onNotification(n));
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('connect_error', (e: Error & { data?: { code?: string } }) =>
        reject(new LoadError(`signaling:connect:${e.data?.code ?? 'error'}`, e.message)),
      );
    });
    socket.on('disconnect', (reason) => {
      if (!this.#left) this.#ctx.report('signaling:disconnected', reason);
    });
    socket.on('fatal', (e: { code: string; message: string }) =>
      this.#ctx.report(`signaling:fatal:${e.code}`, e.message),
    );
    const { rtpCapabilities } = await this.#request('getRouterRtpCapabilities', {});
    this.#sendTransport = (await this.#request('createTransport', { direction: 'send' })).id;
    await this.#request('createTransport', { direction: 'recv' });
    await this.#request('join', { rtpCapabilities });
  }

  async #joinGroup(token: string, userId: string): Promise<void> {
    const keys = simulatedKeyClient({
      baseUrl: this.#ctx.baseUrl,
      token,
      userId,
      localAddress: this.#localAddress,
      report: this.#ctx.report,
      isGone: () => this.#left,
    });
    this.#keys = keys;
    keys.on('removed', () => {
      if (!this.#left) this.#ctx.report('mls:removed', 'removed from the group while present');
    });
    try {
      await keys.start();
    } catch (error) {
      throw new LoadError(`mls:${(error as { code?: string }).code ?? 'error'}`, (error as Error).message);
    }
  }

  async #produce(): Promise<void> {
    const transportId = this.#sendTransport;
    if (transportId === undefined || this.#left) return;
    await this.#request('produce', {
      transportId,
      kind: 'audio',
      rtpParameters: opusParameters(),
      source: 'mic',
    });
    if (this.#left) return;
    await this.#request('produce', {
      transportId,
      kind: 'video',
      rtpParameters: vp8SimulcastParameters(),
      source: 'camera',
    });
  }

  #onNotification(notification: Notification): void {
    if (notification.type === 'newConsumer') {
      const { consumerId } = notification.data;
      this.#consumers.add(consumerId);
      void this.#request('resumeConsumer', { consumerId }).catch((e: unknown) =>
        // The producer's owner may have left meanwhile: that consumer is gone, not an error.
        this.#consumers.has(consumerId) ? this.#report(e, 'signaling:resumeConsumer') : undefined,
      );
    } else if (notification.type === 'consumerClosed') {
      this.#consumers.delete(notification.data.consumerId);
    } else if (notification.type === 'producerAvailable') {
      this.#cameras.set(notification.data.producerId, undefined);
      void this.#consumeCamera(notification.data.producerId);
    } else if (notification.type === 'producerGone') {
      const consumerId = this.#cameras.get(notification.data.producerId);
      if (consumerId !== undefined) this.#consumers.delete(consumerId);
      this.#cameras.delete(notification.data.producerId);
    } else if (notification.type === 'roomClosed') {
      this.#ctx.report(`signaling:room-closed:${notification.data.reason}`, 'the server closed the room');
    }
  }

  /** The web client's path for a camera on screen: consume, then resume. */
  async #consumeCamera(producerId: string): Promise<void> {
    try {
      const { consumerId } = await this.#request('consume', { producerId });
      // Gone while we asked: the server closed that consumer already.
      if (!this.#cameras.has(producerId)) return;
      this.#cameras.set(producerId, consumerId);
      this.#consumers.add(consumerId);
      await this.#request('resumeConsumer', { consumerId });
    } catch (error) {
      if (this.#cameras.has(producerId) && !this.#left) this.#report(error, 'signaling:consume');
    }
  }

  async #request<M extends RequestMethod>(method: M, data: unknown): Promise<ResponseMap[M]> {
    const socket = this.#signaling;
    if (socket === undefined) throw new LoadError(`signaling:${method}:not-connected`, 'no socket');
    let ack: Ack<M>;
    try {
      ack = (await socket.timeout(REQUEST_TIMEOUT_MS).emitWithAck('request', { method, data })) as Ack<M>;
    } catch {
      throw new LoadError(
        `signaling:${method}:timeout`,
        `no answer to ${method} within ${REQUEST_TIMEOUT_MS} ms`,
      );
    }
    if (!ack.ok) throw new LoadError(`signaling:${method}:${ack.error.code}`, ack.error.message);
    return ack.result;
  }

  #report(error: unknown, fallbackKind: string): void {
    if (this.#left) return; // requests cut short by our own leave are not failures
    const kind = error instanceof LoadError ? error.kind : fallbackKind;
    this.#ctx.report(kind, (error as Error).message);
  }
}
