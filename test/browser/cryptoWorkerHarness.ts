// Page side of test/e2e/crypto-worker.spec.ts, bundled with esbuild and served through page.route.
// It drives the real FrameCryptor (crypto-worker/src/client) and the real crypto worker (a separate bundle
// at CRYPTO_WORKER_URL) over RTCPeerConnections connected in loopback inside one page: each "link"
// is one sending connection (the fake camera and microphone, optionally encrypted by a sender's
// FrameCryptor) and one receiving connection (optionally decrypting with a receiver's FrameCryptor).
// A browser RTCRtpSender belongs to one connection, so one sender reaching several receivers means
// one sending connection per receiver, all encrypted by the same worker under the same keys.
import { FrameCryptor, type StreamStatusEvent } from '../../crypto-worker/src/client/FrameCryptor.ts';
import {
  STREAM_CONTEXTS,
  type MediaSource,
  mlsIndexBits,
  mlsKid,
} from '../../crypto-worker/src/sframe/mlsKid.ts';

export const CRYPTO_WORKER_URL = '/crypto-worker.js';

export type TransformPath = 'script-transform' | 'encoded-streams';

export interface LinkOptions {
  /** Encrypts what the link sends; none: the link sends in the clear (not used by the spec). */
  sender?: string;
  /** Decrypts what the link receives; none: the received frames go straight to the decoder. */
  receiver?: string;
  /** Participant the receiver expects the stream from (checked against the key's owner). */
  expectFrom?: string;
}

export interface VideoStats {
  /** Outbound video on the sending connection. */
  framesEncoded: number;
  framesSent: number;
  packetsSent: number;
  /** Inbound video on the receiving connection (0 while no inbound stream exists yet). */
  packetsReceived: number;
  framesReceived: number;
  framesDecoded: number;
  keyFramesDecoded: number;
  /** Inbound audio. */
  audioPacketsReceived: number;
  audioPacketsSent: number;
}

export type Rgb = [number, number, number];

interface Link {
  send: RTCPeerConnection;
  receive: RTCPeerConnection;
  video: HTMLVideoElement;
}

const links = new Map<string, Link>();
const cryptors = new Map<string, FrameCryptor>();
/** Every status event, by cryptor name, in arrival order. */
const statuses = new Map<string, StreamStatusEvent[]>();
/** `cryptor/attachment id` (ids are per cryptor) → which link and track it belongs to. */
const attachments = new Map<string, { cryptor: string; link: string; kind: 'audio' | 'video' }>();
let path: TransformPath = 'script-transform';
let media: Promise<MediaStream> | undefined;

/** Members of the test's MLS group: the KID's S bits come from its size. */
const GROUP_SIZE = 4;
const EPOCH = 1n;

/** RFC 9605 §5.2 KID of `index`'s `context` stream in the test's epoch. */
export function kidOf(index: number, context: MediaSource): bigint {
  return mlsKid({
    context: STREAM_CONTEXTS[context],
    index: BigInt(index),
    epoch: EPOCH,
    indexBits: mlsIndexBits(GROUP_SIZE),
  });
}

/** Chooses the transform API. 'encoded-streams' hides RTCRtpScriptTransform so FrameCryptor falls back. */
export function usePath(chosen: TransformPath): TransformPath {
  path = chosen;
  if (chosen === 'encoded-streams') {
    delete (globalThis as { RTCRtpScriptTransform?: unknown }).RTCRtpScriptTransform;
  }
  const actual = FrameCryptor.supportedPath();
  if (actual !== chosen) throw new Error(`FrameCryptor would use ${String(actual)}, not ${chosen}`);
  return actual;
}

export async function createCryptor(name: string): Promise<TransformPath> {
  const cryptor = await FrameCryptor.create({ worker: new Worker(CRYPTO_WORKER_URL, { name }) });
  statuses.set(name, []);
  cryptor.onStatus((status) => statuses.get(name)!.push(status));
  cryptors.set(name, cryptor);
  return cryptor.path;
}

function cryptor(name: string): FrameCryptor {
  const found = cryptors.get(name);
  if (found === undefined) throw new Error(`no cryptor ${name}`);
  return found;
}

/** Installs `owner`'s stream keys as the sender keys of cryptor `name`. */
export async function setSenderKeys(name: string, ownerIndex: number, key: number[]): Promise<void> {
  for (const context of ['camera', 'mic'] as const) {
    await cryptor(name).setSenderKey(context, kidOf(ownerIndex, context), Uint8Array.from(key));
  }
}

/** Lets cryptor `name` decrypt `ownerIndex`'s streams, declared as sent by `participantId`. */
export async function addReceiverKeys(
  name: string,
  ownerIndex: number,
  key: number[],
  participantId: string,
): Promise<void> {
  for (const context of ['camera', 'mic'] as const) {
    await cryptor(name).addReceiverKey(kidOf(ownerIndex, context), Uint8Array.from(key), {
      epoch: EPOCH,
      owner: { participantId, context },
    });
  }
}

function camera(): Promise<MediaStream> {
  media ??= navigator.mediaDevices.getUserMedia({ video: { width: 640, height: 480 }, audio: true });
  return media;
}

function preferVp8(transceiver: RTCRtpTransceiver): void {
  const codecs = RTCRtpReceiver.getCapabilities('video')?.codecs ?? [];
  const vp8 = codecs.filter((c) => /vp8|rtx/i.test(c.mimeType));
  transceiver.setCodecPreferences(vp8);
}

/** Connects a sending and a receiving RTCPeerConnection in this page; resolves once both are connected. */
export async function link(name: string, options: LinkOptions): Promise<void> {
  const legacy = path === 'encoded-streams';
  const config = (transform: boolean) =>
    (legacy && transform ? { encodedInsertableStreams: true } : {}) as RTCConfiguration;
  const send = new RTCPeerConnection(config(options.sender !== undefined));
  const receive = new RTCPeerConnection(config(options.receiver !== undefined));
  send.onicecandidate = (e) => void (e.candidate && receive.addIceCandidate(e.candidate));
  receive.onicecandidate = (e) => void (e.candidate && send.addIceCandidate(e.candidate));

  const video = document.createElement('video');
  video.muted = true;
  video.autoplay = true;
  video.playsInline = true;
  video.dataset['link'] = name;
  document.body.append(video);
  const received = new MediaStream();
  video.srcObject = received;

  const attaching: Promise<unknown>[] = [];
  receive.ontrack = ({ track, receiver }) => {
    received.addTrack(track);
    if (options.receiver === undefined) return;
    const kind = track.kind as 'audio' | 'video';
    // Attached synchronously inside ontrack: the legacy path must create its streams before frames flow.
    const attached = cryptor(options.receiver).attachReceiver(receiver, {
      participantId: options.expectFrom ?? 'alice',
      context: kind === 'video' ? 'camera' : 'mic',
    });
    attaching.push(
      attached.then((id) =>
        attachments.set(`${options.receiver}/${id}`, { cryptor: options.receiver!, link: name, kind }),
      ),
    );
  };

  const stream = await camera();
  for (const track of stream.getTracks()) {
    const transceiver = send.addTransceiver(track, { direction: 'sendonly', streams: [stream] });
    if (track.kind === 'video') preferVp8(transceiver);
    if (options.sender !== undefined) {
      const kind = track.kind as 'audio' | 'video';
      const id = await cryptor(options.sender).attachSender(
        transceiver.sender,
        kind === 'video' ? 'camera' : 'mic',
      );
      attachments.set(`${options.sender}/${id}`, { cryptor: options.sender, link: name, kind });
    }
  }

  await send.setLocalDescription(await send.createOffer());
  await receive.setRemoteDescription(send.localDescription!);
  await receive.setLocalDescription(await receive.createAnswer());
  await send.setRemoteDescription(receive.localDescription!);
  await Promise.all(
    [send, receive].map(
      (pc) =>
        new Promise<void>((resolve, reject) => {
          const check = () => {
            if (pc.connectionState === 'connected') resolve();
            if (pc.connectionState === 'failed') reject(new Error(`${name}: connection failed`));
          };
          pc.addEventListener('connectionstatechange', check);
          check();
        }),
    ),
  );
  await Promise.all(attaching);
  links.set(name, { send, receive, video });
}

function getLink(name: string): Link {
  const found = links.get(name);
  if (found === undefined) throw new Error(`no link ${name}`);
  return found;
}

/** RTP statistics of a link's video (and audio packet counts), from both of its connections. */
export async function stats(name: string): Promise<VideoStats> {
  const { send, receive } = getLink(name);
  const out: VideoStats = {
    framesEncoded: 0,
    framesSent: 0,
    packetsSent: 0,
    packetsReceived: 0,
    framesReceived: 0,
    framesDecoded: 0,
    keyFramesDecoded: 0,
    audioPacketsReceived: 0,
    audioPacketsSent: 0,
  };
  (await send.getStats()).forEach((s: Record<string, unknown>) => {
    if (s['type'] !== 'outbound-rtp') return;
    if (s['kind'] === 'video') {
      out.framesEncoded += Number(s['framesEncoded'] ?? 0);
      out.framesSent += Number(s['framesSent'] ?? 0);
      out.packetsSent += Number(s['packetsSent'] ?? 0);
    } else out.audioPacketsSent += Number(s['packetsSent'] ?? 0);
  });
  (await receive.getStats()).forEach((s: Record<string, unknown>) => {
    if (s['type'] !== 'inbound-rtp') return;
    if (s['kind'] === 'video') {
      out.packetsReceived += Number(s['packetsReceived'] ?? 0);
      out.framesReceived += Number(s['framesReceived'] ?? 0);
      out.framesDecoded += Number(s['framesDecoded'] ?? 0);
      out.keyFramesDecoded += Number(s['keyFramesDecoded'] ?? 0);
    } else out.audioPacketsReceived += Number(s['packetsReceived'] ?? 0);
  });
  return out;
}

/**
 * Average colour around the centre of each quadrant of the link's received video, as decoded
 * (the approach of test/e2e/helpers.ts quadrantColours); null while nothing has been decoded.
 */
export function quadrantColours(name: string): Rgb[] | null {
  const { video } = getLink(name);
  if (video.videoWidth === 0 || video.readyState < 2) return null;
  const canvas = document.createElement('canvas');
  canvas.width = video.videoWidth;
  canvas.height = video.videoHeight;
  const ctx = canvas.getContext('2d', { willReadFrequently: true })!;
  ctx.drawImage(video, 0, 0);
  const w = canvas.width;
  const h = canvas.height;
  const size = Math.max(4, Math.floor(Math.min(w, h) / 10));
  const centres: Array<[number, number]> = [
    [w / 4, h / 4],
    [(3 * w) / 4, h / 4],
    [w / 4, (3 * h) / 4],
    [(3 * w) / 4, (3 * h) / 4],
  ];
  return centres.map(([cx, cy]) => {
    const { data } = ctx.getImageData(Math.floor(cx - size / 2), Math.floor(cy - size / 2), size, size);
    const sum: Rgb = [0, 0, 0];
    for (let i = 0; i < data.length; i += 4) {
      sum[0] += data[i]!;
      sum[1] += data[i + 1]!;
      sum[2] += data[i + 2]!;
    }
    const n = data.length / 4;
    return [sum[0] / n, sum[1] / n, sum[2] / n];
  });
}

export interface StatusSummary {
  /** Latest state per attachment of this cryptor on this link, by track kind. */
  video?: StreamStatusEvent;
  audio?: StreamStatusEvent;
  /** Every reason any of its reports on this link carried. */
  reasons: string[];
}

/** The status events cryptor `name` reported for its transforms on `linkName`. */
export function status(name: string, linkName: string): StatusSummary {
  const summary: StatusSummary = { reasons: [] };
  for (const event of statuses.get(name) ?? []) {
    const attachment = attachments.get(`${name}/${event.attachmentId}`);
    if (attachment?.link !== linkName) continue;
    summary[attachment.kind] = event;
    if (event.reason !== undefined && !summary.reasons.includes(event.reason))
      summary.reasons.push(event.reason);
  }
  return summary;
}

/** Every status event so far, by cryptor, for failure reports. */
export function statusLog(): Record<string, StreamStatusEvent[]> {
  return Object.fromEntries(statuses);
}

export function close(): void {
  for (const { send, receive } of links.values()) {
    send.close();
    receive.close();
  }
  for (const c of cryptors.values()) c.close();
}

export const harness = {
  usePath,
  createCryptor,
  setSenderKeys,
  addReceiverKeys,
  link,
  stats,
  quadrantColours,
  status,
  statusLog,
  close,
};
export type Harness = typeof harness;

(globalThis as unknown as { harness: Harness }).harness = harness;
