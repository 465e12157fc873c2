// An auditor's copy of what the SFU forwards in one room: a mediasoup PlainTransport on loopback
// that consumes every producer of the room's router (those there at the start and those made
// during the capture) and sends their RTP, unencrypted at the transport level, to one UDP port on
// 127.0.0.1 where `npm run audit -- capture` writes it to a pcap. The payloads are whatever the
// participants sent: SFrame ciphertext, which the server cannot read either.
//
// Participants receive the same as without it: the capture adds consumers on its own transport,
// never touches theirs, and sends nothing back (no RTCP receiver reports, no NACK). Like any new
// consumer of a video producer, it may make mediasoup ask the sender for one key frame.
//
// Pipe consumers forward every simulcast layer, each on its own SSRC, with the router's payload
// types; RTX is off, so retransmissions do not appear twice, and so is bandwidth estimation (below).
import { EventEmitter } from 'node:events';
import type { types } from 'mediasoup';
import type { CaptureEnd, CapturedStream } from '@conclave/audit/capture-protocol';
import type { Logger } from '../logger.ts';
import type { Room } from '../rooms/Room.ts';

/** How often the room's peers are looked at for producers on transports made before the capture. */
const RESCAN_MS = 100;

/**
 * Header extensions for bandwidth estimation and MID off: with them mediasoup would run congestion
 * control on the capture's transport, send probe packets (SSRC 1234, payload type 127) into the
 * capture and wait for feedback the CLI never sends.
 */
const BWE_AND_MID_EXTENSIONS = new Set([
  'urn:ietf:params:rtp-hdrext:sdes:mid',
  'http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time',
  'http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01',
]);

function withoutBandwidthEstimation(capabilities: types.RtpCapabilities): types.RtpCapabilities {
  return {
    codecs: capabilities.codecs ?? [],
    headerExtensions: (capabilities.headerExtensions ?? []).filter(
      (ext) => !BWE_AND_MID_EXTENSIONS.has(ext.uri),
    ),
  };
}

function producersOf(room: Room): types.Producer[] {
  return [...room.peers.values()].flatMap((peer) => [...peer.producers.values()]);
}

interface RoomCaptureEvents {
  /** A stream the capture began to receive (its consumer exists). */
  stream: [stream: CapturedStream];
}

export class RoomCapture extends EventEmitter<RoomCaptureEvents> {
  readonly room: Room;
  readonly #transport: types.PlainTransport;
  readonly #logger: Logger;
  readonly #streams: CapturedStream[] = [];
  readonly #consuming = new Set<string>();
  readonly #watched = new Set<types.Transport>();
  readonly #onTransport = (transport: types.Transport) => this.#watch(transport);
  readonly #onProducer = (producer: types.Producer) => void this.#consume(producer);
  readonly #rescan: ReturnType<typeof setInterval>;
  readonly #timer: ReturnType<typeof setTimeout>;
  readonly ended: Promise<CaptureEnd>;
  #end: (reason: CaptureEnd) => void = () => {};
  #closed = false;

  private constructor(room: Room, transport: types.PlainTransport, seconds: number, logger: Logger) {
    super();
    this.room = room;
    this.#transport = transport;
    this.#logger = logger;
    this.ended = new Promise((resolve) => (this.#end = resolve));
    room.router.observer.on('newtransport', this.#onTransport);
    // The router closes with its room (everyone left, or the worker died): the capture ends there.
    transport.observer.once('close', () => this.stop('room-closed'));
    this.#rescan = setInterval(() => this.#scanPeers(), RESCAN_MS);
    this.#timer = setTimeout(() => this.stop('time-up'), seconds * 1000);
  }

  /**
   * Starts capturing `room` to UDP 127.0.0.1:`port` for `seconds`; resolves once every producer the
   * room has now is being consumed, so nothing they send from then on is missed.
   */
  static async start(
    room: Room,
    options: { port: number; seconds: number; logger: Logger },
  ): Promise<RoomCapture> {
    const transport = await room.router.createPlainTransport({
      listenIp: '127.0.0.1',
      rtcpMux: true,
      comedia: false,
      appData: { conclaveAudit: true },
    });
    try {
      await transport.connect({ ip: '127.0.0.1', port: options.port });
    } catch (error) {
      transport.close();
      throw error;
    }
    const capture = new RoomCapture(room, transport, options.seconds, options.logger);
    await Promise.all(producersOf(room).map((producer) => capture.#consume(producer)));
    return capture;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** The streams consumed so far, in the order their consumers were made. */
  get streams(): readonly CapturedStream[] {
    return this.#streams;
  }

  /** Closes the transport and with it every consumer. Idempotent. */
  stop(reason: CaptureEnd = 'stopped'): void {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#rescan);
    clearTimeout(this.#timer);
    this.room.router.observer.off('newtransport', this.#onTransport);
    for (const transport of this.#watched) transport.observer.off('newproducer', this.#onProducer);
    this.#watched.clear();
    if (!this.#transport.closed) this.#transport.close();
    this.#logger.info({ room: this.room.id, reason, streams: this.#streams.length }, 'audit capture ended');
    this.#end(reason);
  }

  #scanPeers(): void {
    for (const producer of producersOf(this.room)) void this.#consume(producer);
  }

  #watch(transport: types.Transport): void {
    if (this.#closed || transport === this.#transport || this.#watched.has(transport)) return;
    this.#watched.add(transport);
    transport.observer.on('newproducer', this.#onProducer);
    transport.observer.once('close', () => this.#watched.delete(transport));
  }

  async #consume(producer: types.Producer): Promise<void> {
    if (this.#closed || producer.closed || this.#consuming.has(producer.id)) return;
    this.#consuming.add(producer.id);
    let consumer: types.Consumer;
    try {
      consumer = await this.#transport.consume({
        producerId: producer.id,
        rtpCapabilities: withoutBandwidthEstimation(this.room.router.rtpCapabilities),
        pipe: true,
        enableRtx: false,
        paused: false,
      });
    } catch (error) {
      // The producer, or the capture's transport, closed meanwhile: nothing to capture.
      if (!this.#closed && !producer.closed) {
        this.#logger.warn(
          { room: this.room.id, err: (error as Error).message },
          'audit capture: no consumer',
        );
      }
      return;
    }
    if (this.#closed) {
      consumer.close();
      return;
    }
    for (const stream of this.#describe(producer, consumer)) {
      this.#streams.push(stream);
      this.emit('stream', stream);
    }
  }

  #describe(producer: types.Producer, consumer: types.Consumer): CapturedStream[] {
    const { codecs, encodings = [] } = consumer.rtpParameters;
    const codec = codecs[0];
    if (codec === undefined) return [];
    const { source, peerId } = producer.appData as { source?: unknown; peerId?: unknown };
    const peer = typeof peerId === 'string' ? this.room.peers.get(peerId) : undefined;
    return encodings.flatMap((encoding, layer) =>
      encoding.ssrc === undefined
        ? []
        : [
            {
              ssrc: encoding.ssrc,
              payloadType: codec.payloadType,
              codec: codec.mimeType,
              kind: consumer.kind,
              ...(typeof source === 'string' ? { source } : {}),
              ...(peer === undefined ? {} : { participant: peer.displayName }),
              ...(typeof peerId === 'string' ? { peerId } : {}),
              producerId: producer.id,
              layer,
            },
          ],
    );
  }
}
