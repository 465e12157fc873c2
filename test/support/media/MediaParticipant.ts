// One simulated participant with real media: it joins as the web client does (a session from the
// HTTP API, the signaling socket, the room's MLS group through the real key service with KeyClient),
// but its media goes over two SRTP PlainTransports (server/src/media/plainTransport.ts) instead of
// WebRTC. It sends what a browser sends: Opus-sized audio at 50 packets/s and a VP8 camera in three
// simulcast layers, every frame SFrame-sealed exactly as the crypto worker seals it (the clear VP8 /
// Opus prefix as metadata, crypto-worker's SenderContext, the KIDs of web/src/lib/e2ee/epochKids.ts,
// the epoch's MLS base key), so the audit verifier can check a capture of its room. It receives what
// a client showing one page receives: every mic and screen the server offers, and the cameras of the
// first page (up to PAGE_SIZE others, in join order) through `consume`; it counts packets and loss
// per SSRC from sequence numbers. A send-only participant (`receives: false`, for a room around one
// browser) receives nothing. Its camera answers the SFU's key frame requests (keyFrameRequests.ts).
//
// Must hold: nothing is sent before the participant holds its group's epoch keys (fail closed), and a
// sealed frame's CTR is never reused (one SenderContext per source, as in the crypto worker).
import dgram from 'node:dgram';
import { randomBytes, randomInt } from 'node:crypto';
import { io, type Socket } from 'socket.io-client';
import type { EpochKeys, KeyClient } from '@conclave/key-service/client';
import { clearPrefixLength } from '@conclave/crypto-worker/codecPrefix';
import { AES_128_GCM_SHA256_128, SenderContext } from '@conclave/crypto-worker/sframe';
import { senderKids } from '../../../web/src/lib/e2ee/epochKids.ts';
import { ApiClient } from '../../bench/load/apiClient.ts';
import { simulatedKeyClient } from '../../bench/load/simulatedKeyClient.ts';
import { OPUS_PAYLOAD_TYPE, VP8_PAYLOAD_TYPE } from '../plainRtpProducer.ts';
import { OpusRtpStream, Vp8RtpStream } from '../rtpPackets.ts';
import { KEY_FRAME_INTERVAL, type CameraFrames } from './ivfCamera.ts';
import { hasKeyFrameRequest, isRtcp, nextKeyFrame } from './keyFrameRequests.ts';
import { RtpReceiveCounter, type SsrcCount } from './rtpReceiveCounter.ts';
import { SrtpContext } from './srtp.ts';

/** Tiles on the first page of the grid (issue #17: up to 25 at 1920 px). */
export const PAGE_SIZE = 25;
const REQUEST_TIMEOUT_MS = 15_000;
const LOOPBACK = '127.0.0.1';
/** Largest RTP payload, as libwebrtc packetizes (room for SRTP's tag within a 1200-byte MTU). */
const MAX_PAYLOAD = 1100;
/** 90 kHz RTP clock units per 20 ms tick. */
const VIDEO_TICKS = 1800;
const SENDER_REPORT_TICKS = 50;
/** 1900-01-01 (NTP's epoch) to 1970-01-01, in ms. */
const NTP_UNIX_OFFSET_MS = 2_208_988_800_000;

export interface MediaParticipantOptions {
  baseUrl: string;
  invite: string;
  name: string;
  /** Loopback source address of its HTTP and socket traffic (its own device, for per-IP limits). */
  localAddress?: string;
  /** The camera's frames, or undefined for an audio-only participant. */
  camera: CameraFrames | undefined;
  /** Opus packets to loop (real Opus from the codec fixture). */
  audio: readonly Uint8Array[];
  /** The microphone is muted as the app mutes it: produced, then paused at the SFU; nothing sent. */
  muted?: boolean;
  /** Problems after the join, by kind ('signaling:disconnected', 'mls:warning', …). */
  report: (kind: string, message: string) => void;
  /** Receive as a client showing one page does (the default), or nothing at all (send only). */
  receives?: boolean;
}

/** A stream this participant receives: whose, which source, and its counts. */
export interface ReceivedStream {
  peerId: string;
  source: string;
  kind: 'audio' | 'video';
  ssrc: number;
  count: SsrcCount;
}

interface ConsumerInfoLike {
  consumerId: string;
  producerId: string;
  peerId: string;
  kind: 'audio' | 'video';
  source: string;
  rtpParameters: { encodings?: Array<{ ssrc?: number }> };
}

interface Layer {
  stream: Vp8RtpStream;
  frames: Uint8Array[];
}

/** Sends and receives one participant's SRTP; the pacing is the owner's (MediaRoom ticks it). */
export class MediaParticipant {
  readonly name: string;
  readonly colour: string | undefined;
  readonly #options: MediaParticipantOptions;
  readonly #socket: dgram.Socket;
  readonly #counter = new RtpReceiveCounter();
  readonly #consumers = new Map<string, ConsumerInfoLike>();
  /** Cameras announced (producerAvailable), in announcement order = join order. */
  readonly #availableCameras: Array<{ producerId: string; peerId: string }> = [];
  readonly #mic = new SenderContext(AES_128_GCM_SHA256_128);
  readonly #camera = new SenderContext(AES_128_GCM_SHA256_128);
  readonly #audio: OpusRtpStream;
  readonly #layers: Layer[];
  #signaling: Socket | undefined;
  #keys: KeyClient | undefined;
  #srtpOut: SrtpContext | undefined;
  /** The SFU's SRTCP on our send transport: its key frame requests for our camera. */
  #srtcpIn: SrtpContext | undefined;
  /** The next video frame should be a key frame (the SFU asked). */
  #keyFrameRequested = false;
  #sendPort = 0;
  readonly #rocs = new Map<number, { seq: number; roc: number }>();
  readonly #sentBySsrc = new Map<number, { packets: number; bytes: number }>();
  /** Spreads the participants' sender reports over the second. */
  readonly #reportPhase = randomInt(0, SENDER_REPORT_TICKS);
  /** One CNAME for its streams, random as a browser's (its name holds spaces, which SDP cannot). */
  readonly #cname = randomBytes(12).toString('base64url');
  /** SRTCP index (RFC 3711 §3.4), one for the transport's streams: never repeats. */
  #rtcpIndex = 0;
  #sendTransportId: string | undefined;
  #frame = 0;
  #peerId: string | undefined;
  #userId: string | undefined;
  #keyed = false;
  #closed = false;
  #sent = 0;
  #sealErrors = 0;

  constructor(options: MediaParticipantOptions) {
    this.#options = options;
    this.name = options.name;
    this.colour = options.camera?.colour;
    this.#socket = dgram.createSocket({ type: 'udp4', recvBufferSize: 4 << 20, sendBufferSize: 4 << 20 });
    this.#socket.on('message', (datagram) => this.#onDatagram(datagram));
    this.#socket.on('error', (e) => options.report('udp:error', e.message));
    this.#audio = new OpusRtpStream({
      ssrc: randomSsrc(),
      payloadType: OPUS_PAYLOAD_TYPE,
      sequenceNumber: 1,
    });
    this.#layers = (options.camera?.layers ?? []).map((frames) => ({
      stream: new Vp8RtpStream({
        ssrc: randomSsrc(),
        payloadType: VP8_PAYLOAD_TYPE,
        sequenceNumber: 1,
        maxPayloadSize: MAX_PAYLOAD,
      }),
      frames,
    }));
  }

  get peerId(): string {
    if (this.#peerId === undefined) throw new Error('not joined');
    return this.#peerId;
  }

  get userId(): string | undefined {
    return this.#userId;
  }

  get epochKeys(): EpochKeys | undefined {
    return this.#keys?.current;
  }

  /** Packets sent so far, and frames that could not be sealed (never sent). */
  get sent(): { packets: number; sealErrors: number } {
    return { packets: this.#sent, sealErrors: this.#sealErrors };
  }

  /** Joins signaling and the MLS group, opens the plain transports and produces. */
  async join(): Promise<void> {
    await new Promise<void>((resolve) => this.#socket.bind(0, LOOPBACK, resolve));
    const api = new ApiClient(this.#options.baseUrl, this.#options.localAddress ?? LOOPBACK);
    const session = await api.createSession(this.#options.invite, this.name);
    this.#userId = session.userId;
    await Promise.all([
      this.#joinSignaling(session.session),
      this.#joinGroup(session.session, session.userId),
    ]);
  }

  /**
   * One 20 ms tick: an audio packet, on every other tick a video frame in each layer, and once a
   * second a sender report per stream (mediasoup forwards a simulcast layer only once it has one).
   */
  async tick(tick: number): Promise<void> {
    if (!this.#keyed || this.#closed) return;
    const audio = this.#options.audio;
    const sends: Promise<void>[] =
      this.#options.muted === true ? [] : [this.#sendAudio(audio[tick % audio.length]!, tick)];
    if (this.#layers.length > 0 && tick % 2 === 0) {
      if (this.#keyFrameRequested) this.#frame = nextKeyFrame(this.#frame, KEY_FRAME_INTERVAL);
      this.#keyFrameRequested = false;
      const frame = this.#frame++;
      for (const layer of this.#layers) sends.push(this.#sendVideo(layer, frame, tick));
    }
    await Promise.all(sends);
    if (tick % SENDER_REPORT_TICKS === this.#reportPhase) this.#sendReports(tick);
  }

  /** Every stream received so far, with its sender and counts. */
  received(): ReceivedStream[] {
    const streams: ReceivedStream[] = [];
    for (const c of this.#consumers.values()) {
      const ssrc = c.rtpParameters.encodings?.[0]?.ssrc;
      if (ssrc === undefined) continue;
      streams.push({
        peerId: c.peerId,
        source: c.source,
        kind: c.kind,
        ssrc,
        count: this.#counter.count(ssrc),
      });
    }
    return streams;
  }

  /** Consumers this participant holds (every mic, its page's cameras). */
  get consumerCount(): number {
    return this.#consumers.size;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#keys?.close();
    this.#signaling?.disconnect();
    this.#socket.close();
  }

  /** What the SFU sends: media to count, and RTCP, where only its key frame requests matter here. */
  #onDatagram(datagram: Buffer): void {
    if (!isRtcp(datagram)) {
      this.#counter.add(datagram);
      return;
    }
    // Our send transport's RTCP verifies under the SFU's key for it; the receive transport's does not.
    try {
      if (this.#srtcpIn !== undefined && hasKeyFrameRequest(this.#srtcpIn.unprotectRtcp(datagram)))
        this.#keyFrameRequested = true;
    } catch {
      // RTCP about what we receive (sender reports), under the other transport's key.
    }
  }

  async #sendAudio(packet: Uint8Array, tick: number): Promise<void> {
    const sealed = await this.#seal(this.#mic, 'opus', packet);
    if (sealed === undefined) return;
    this.#send(this.#audio.packetize(sealed, 960 * tick));
  }

  async #sendVideo(layer: Layer, frame: number, tick: number): Promise<void> {
    const sealed = await this.#seal(this.#camera, 'vp8', layer.frames[frame % layer.frames.length]!);
    if (sealed === undefined) return;
    for (const packet of layer.stream.packetize(sealed, VIDEO_TICKS * tick)) this.#send(packet);
  }

  /** RFC 3550 §6.4.1 sender reports, one per SSRC: the same wallclock ↔ tick mapping for all layers. */
  #sendReports(tick: number): void {
    const srtp = this.#srtpOut;
    if (srtp === undefined || this.#closed) return;
    const streams: Array<[number, number]> = [
      [this.#audio.ssrc, 960 * tick],
      ...this.#layers.map((l): [number, number] => [l.stream.ssrc, VIDEO_TICKS * tick]),
    ];
    const ntpMs = Date.now() + NTP_UNIX_OFFSET_MS;
    for (const [ssrc, rtpTimestamp] of streams) {
      const report = Buffer.alloc(28);
      report.writeUInt8(0x80, 0);
      report.writeUInt8(200, 1);
      report.writeUInt16BE(6, 2);
      report.writeUInt32BE(ssrc, 4);
      report.writeUInt32BE(Math.floor(ntpMs / 1000) >>> 0, 8);
      report.writeUInt32BE(Math.floor(((ntpMs % 1000) / 1000) * 2 ** 32) >>> 0, 12);
      report.writeUInt32BE(rtpTimestamp >>> 0, 16);
      const sent = this.#sentBySsrc.get(ssrc) ?? { packets: 0, bytes: 0 };
      report.writeUInt32BE(sent.packets >>> 0, 20);
      report.writeUInt32BE(sent.bytes >>> 0, 24);
      const index = this.#rtcpIndex++;
      this.#socket.send(srtp.protectRtcp(report, index), this.#sendPort, LOOPBACK);
    }
  }

  /** `clear prefix ‖ SFrame header ‖ ciphertext ‖ tag`, as crypto-worker/src/transform.ts seals. */
  async #seal(
    context: SenderContext,
    codec: 'vp8' | 'opus',
    frame: Uint8Array,
  ): Promise<Uint8Array | undefined> {
    try {
      const prefix = frame.subarray(0, clearPrefixLength(codec, frame));
      const { header, sealed } = await context.encrypt(prefix, frame.subarray(prefix.length));
      const out = new Uint8Array(prefix.length + header.length + sealed.length);
      out.set(prefix);
      out.set(header, prefix.length);
      out.set(sealed, prefix.length + header.length);
      return out;
    } catch {
      this.#sealErrors += 1; // no key: the frame is dropped, never sent in the clear
      return undefined;
    }
  }

  #send(packet: Uint8Array): void {
    const srtp = this.#srtpOut;
    if (srtp === undefined || this.#closed) return;
    const seq = (packet[2]! << 8) | packet[3]!;
    const ssrc = ((packet[8]! << 24) | (packet[9]! << 16) | (packet[10]! << 8) | packet[11]!) >>> 0;
    this.#socket.send(srtp.protect(packet, this.#rocFor(ssrc, seq)), this.#sendPort, LOOPBACK);
    this.#sent += 1;
    const sent = this.#sentBySsrc.get(ssrc) ?? { packets: 0, bytes: 0 };
    sent.packets += 1;
    sent.bytes += packet.length - 12;
    this.#sentBySsrc.set(ssrc, sent);
  }

  /** RFC 3711 §3.3.1's rollover counter per SSRC: our own sequence numbers only grow (mod 2^16). */
  #rocFor(ssrc: number, seq: number): number {
    const last = this.#rocs.get(ssrc);
    if (last === undefined) {
      this.#rocs.set(ssrc, { seq, roc: 0 });
      return 0;
    }
    if (seq < last.seq) last.roc += 1;
    last.seq = seq;
    return last.roc;
  }

  async #joinSignaling(token: string): Promise<void> {
    const socket = io(`${this.#options.baseUrl}/signaling`, {
      transports: ['websocket'],
      auth: { token },
      reconnection: false,
      forceNew: true,
      localAddress: this.#options.localAddress,
    } as Parameters<typeof io>[1]);
    this.#signaling = socket;
    socket.on('notification', (n: { type: string; data: unknown }) => this.#onNotification(n));
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('connect_error', (e) => reject(new Error(`signaling: ${e.message}`)));
    });
    socket.on('disconnect', (reason) => {
      if (!this.#closed) this.#options.report('signaling:disconnected', reason);
    });
    const { rtpCapabilities } = await this.#request<{ rtpCapabilities: unknown }>(
      'getRouterRtpCapabilities',
      {},
    );
    await this.#openSend();
    await this.#openRecv();
    const joined = await this.#request<{ self: { peerId: string } }>('join', {
      rtpCapabilities: withoutBandwidthEstimation(rtpCapabilities as RtpCapabilitiesLike),
    });
    this.#peerId = joined.self.peerId;
    await this.#produce();
  }

  async #openSend(): Promise<void> {
    const send = await this.#request<PlainInfo>('createPlainTransport', { direction: 'send' });
    const ourKey = randomBytes(28);
    await this.#request('connectPlainTransport', {
      transportId: send.id,
      ip: LOOPBACK,
      port: (this.#socket.address() as { port: number }).port,
      srtpParameters: { cryptoSuite: 'AEAD_AES_128_GCM', keyBase64: ourKey.toString('base64') },
    });
    this.#srtpOut = SrtpContext.fromMasterKey(ourKey);
    this.#srtcpIn = SrtpContext.fromMasterKey(Buffer.from(send.srtpParameters.keyBase64, 'base64'));
    this.#sendPort = send.port;
    this.#sendTransportId = send.id;
  }

  async #openRecv(): Promise<void> {
    // The SFU's media for us arrives on the same socket; counting it needs no key of ours.
    const recv = await this.#request<PlainInfo>('createPlainTransport', { direction: 'recv' });
    await this.#request('connectPlainTransport', {
      transportId: recv.id,
      ip: LOOPBACK,
      port: (this.#socket.address() as { port: number }).port,
      srtpParameters: { cryptoSuite: 'AEAD_AES_128_GCM', keyBase64: randomBytes(28).toString('base64') },
    });
  }

  async #produce(): Promise<void> {
    const transportId = this.#sendTransportId!;
    const mic = await this.#request<{ producerId: string }>('produce', {
      transportId,
      kind: 'audio',
      source: 'mic',
      rtpParameters: {
        codecs: [{ mimeType: 'audio/opus', payloadType: OPUS_PAYLOAD_TYPE, clockRate: 48000, channels: 2 }],
        encodings: [{ ssrc: this.#audio.ssrc }],
        rtcp: { cname: this.#cname },
      },
    });
    if (this.#options.muted === true) await this.#request('pauseProducer', { producerId: mic.producerId });
    if (this.#layers.length === 0) return;
    await this.#request('produce', {
      transportId,
      kind: 'video',
      source: 'camera',
      rtpParameters: {
        codecs: [{ mimeType: 'video/VP8', payloadType: VP8_PAYLOAD_TYPE, clockRate: 90000 }],
        encodings: this.#layers.map((l) => ({ ssrc: l.stream.ssrc })),
        rtcp: { cname: this.#cname },
      },
    });
  }

  async #joinGroup(token: string, userId: string): Promise<void> {
    const keys = simulatedKeyClient({
      baseUrl: this.#options.baseUrl,
      token,
      userId,
      localAddress: this.#options.localAddress,
      report: this.#options.report,
      isGone: () => this.#closed,
    });
    this.#keys = keys;
    keys.on('epoch', (epoch) => void this.#rekey(epoch));
    await keys.start();
    if (keys.current !== undefined) await this.#rekey(keys.current);
  }

  /** The epoch's KIDs and base key for our two streams, as the web client installs them. */
  async #rekey(epoch: EpochKeys): Promise<void> {
    const kids = senderKids(epoch);
    await this.#mic.setKey(kids.mic, epoch.baseKey);
    await this.#camera.setKey(kids.camera, epoch.baseKey);
    this.#keyed = true;
  }

  #onNotification(notification: { type: string; data: unknown }): void {
    if (this.#options.receives === false) return;
    if (notification.type === 'newConsumer') {
      const info = notification.data as ConsumerInfoLike;
      this.#consumers.set(info.consumerId, info);
      void this.#request('resumeConsumer', { consumerId: info.consumerId }).catch((e: unknown) => {
        if (this.#consumers.has(info.consumerId)) this.#options.report('signaling:resumeConsumer', String(e));
      });
    } else if (notification.type === 'consumerClosed') {
      this.#consumers.delete((notification.data as { consumerId: string }).consumerId);
    } else if (notification.type === 'producerAvailable') {
      const { producerId, peerId, source } = notification.data as {
        producerId: string;
        peerId: string;
        source: string;
      };
      if (source !== 'camera') return;
      this.#availableCameras.push({ producerId, peerId });
      if (this.#availableCameras.length <= PAGE_SIZE) void this.#consume(producerId);
    } else if (notification.type === 'producerGone') {
      const { producerId } = notification.data as { producerId: string };
      const at = this.#availableCameras.findIndex((c) => c.producerId === producerId);
      if (at < 0) return;
      this.#availableCameras.splice(at, 1);
      // The page moves up by one: the camera that slides onto it is consumed.
      const next = this.#availableCameras[PAGE_SIZE - 1];
      if (at < PAGE_SIZE && next !== undefined) void this.#consume(next.producerId);
    }
  }

  /** The wire contract of issue #17: consume a page's camera, then resume it once set up. */
  async #consume(producerId: string): Promise<void> {
    try {
      const info = await this.#request<ConsumerInfoLike>('consume', { producerId });
      this.#consumers.set(info.consumerId, info);
      await this.#request('resumeConsumer', { consumerId: info.consumerId });
    } catch (error) {
      if (!this.#closed) this.#options.report('signaling:consume', (error as Error).message);
    }
  }

  async #request<T = unknown>(method: string, data: unknown): Promise<T> {
    const socket = this.#signaling;
    if (socket === undefined) throw new Error(`${method}: not connected`);
    const ack = (await socket.timeout(REQUEST_TIMEOUT_MS).emitWithAck('request', { method, data })) as
      { ok: true; result: T } | { ok: false; error: { code: string; message: string } };
    if (!ack.ok) throw new Error(`${method} refused: ${ack.error.code}: ${ack.error.message}`);
    return ack.result;
  }
}

interface PlainInfo {
  id: string;
  ip: string;
  port: number;
  srtpParameters: { cryptoSuite: string; keyBase64: string };
}

function randomSsrc(): number {
  return randomInt(1, 0xffffffff);
}

interface RtpCapabilitiesLike {
  codecs?: Array<{ rtcpFeedback?: Array<{ type: string }> }>;
  headerExtensions?: Array<{ uri: string }>;
}

/**
 * The router's capabilities minus transport-cc, REMB and abs-send-time: this receiver sends no
 * bandwidth feedback, so a consumer must not wait for an estimate that never comes (it would stay
 * on the lowest simulcast layer); it forwards the layer asked for, as for a client with bandwidth.
 */
function withoutBandwidthEstimation(capabilities: RtpCapabilitiesLike): RtpCapabilitiesLike {
  const bwe = /transport-wide-cc|abs-send-time/;
  return {
    ...capabilities,
    codecs: capabilities.codecs?.map((c) => ({
      ...c,
      rtcpFeedback: c.rtcpFeedback?.filter((f) => f.type !== 'transport-cc' && f.type !== 'goog-remb'),
    })),
    headerExtensions: capabilities.headerExtensions?.filter((h) => !bwe.test(h.uri)),
  };
}
