// The browser ↔ signaling protocol, shared by the server and the web client.
//
// Client → server: `socket.emit('request', { method, data }, ack)`; every request is parsed by
// `requestSchema` before any handler sees it, and the ack carries `{ ok: true, result }` or
// `{ ok: false, error: { code, message } }`.
// Server → client: `socket.emit('notification', { type, data })`.
//
// mediasoup's own structures (RTP capabilities and parameters, DTLS parameters) are checked here
// for shape and size; mediasoup then checks their meaning and its TypeErrors become error acks.
import { MEDIA_SOURCES, type MediaSource } from '@conclave/crypto-worker/sframe/mlsKid';
import { z } from 'zod';

export const REQUEST_EVENT = 'request';
export const NOTIFICATION_EVENT = 'notification';
/** Upper bound on one request's JSON size; larger ones are refused before parsing. */
export const MAX_REQUEST_BYTES = 64 * 1024;
/** Error messages echo field names from untrusted input; keep them short. */
export const MAX_ERROR_MESSAGE = 200;

const id = z.string().min(1).max(64);
const token = z.string().min(1).max(256);
const smallRecord = z.record(z.string().max(64), z.union([z.string().max(256), z.number(), z.boolean()]));

const rtcpFeedback = z.object({ type: token, parameter: token.or(z.literal('')).optional() });

const rtpCodecCapability = z.object({
  kind: z.enum(['audio', 'video']),
  mimeType: token,
  preferredPayloadType: z.number().int().min(0).max(127).optional(),
  clockRate: z.number().int().positive(),
  channels: z.number().int().min(1).max(8).optional(),
  parameters: smallRecord.optional(),
  rtcpFeedback: z.array(rtcpFeedback).max(32).optional(),
});

const headerExtensionCapability = z.object({
  kind: z.enum(['audio', 'video']),
  uri: token,
  preferredId: z.number().int().min(1).max(255),
  preferredEncrypt: z.boolean().optional(),
  direction: z.enum(['sendrecv', 'sendonly', 'recvonly', 'inactive']).optional(),
});

export const rtpCapabilitiesSchema = z.object({
  codecs: z.array(rtpCodecCapability).max(64).optional(),
  headerExtensions: z.array(headerExtensionCapability).max(64).optional(),
});

const rtpCodecParameters = z.object({
  mimeType: token,
  payloadType: z.number().int().min(0).max(127),
  clockRate: z.number().int().positive(),
  channels: z.number().int().min(1).max(8).optional(),
  parameters: smallRecord.optional(),
  rtcpFeedback: z.array(rtcpFeedback).max(32).optional(),
});

const rtpEncoding = z.object({
  ssrc: z.number().int().nonnegative().optional(),
  rid: z.string().max(32).optional(),
  codecPayloadType: z.number().int().optional(),
  rtx: z.object({ ssrc: z.number().int().nonnegative() }).optional(),
  dtx: z.boolean().optional(),
  scalabilityMode: z.string().max(16).optional(),
  scaleResolutionDownBy: z.number().positive().max(64).optional(),
  maxBitrate: z.number().int().positive().optional(),
  maxFramerate: z.number().positive().optional(),
  active: z.boolean().optional(),
});

export const rtpParametersSchema = z.object({
  mid: z.string().max(32).optional(),
  codecs: z.array(rtpCodecParameters).min(1).max(16),
  headerExtensions: z
    .array(
      z.object({
        uri: token,
        id: z.number().int().min(1).max(255),
        encrypt: z.boolean().optional(),
        parameters: smallRecord.optional(),
      }),
    )
    .max(32)
    .optional(),
  encodings: z.array(rtpEncoding).max(8).optional(),
  rtcp: z
    .object({
      cname: z.string().max(256).optional(),
      reducedSize: z.boolean().optional(),
      mux: z.boolean().optional(),
    })
    .optional(),
});

export const dtlsParametersSchema = z.object({
  role: z.enum(['auto', 'client', 'server']).optional(),
  fingerprints: z
    .array(
      z.object({ algorithm: z.enum(['sha-1', 'sha-224', 'sha-256', 'sha-384', 'sha-512']), value: token }),
    )
    .min(1)
    .max(8),
});

// One name for what a participant sends, owned by the SFrame KID layout (each source is a context).
export type { MediaSource };

/** Every request a client may make, one schema per method. */
export const requestSchemas = {
  getRouterRtpCapabilities: z.object({}).strict(),
  createTransport: z.object({ direction: z.enum(['send', 'recv']) }).strict(),
  connectTransport: z.object({ transportId: id, dtlsParameters: dtlsParametersSchema }).strict(),
  restartIce: z.object({ transportId: id }).strict(),
  join: z.object({ rtpCapabilities: rtpCapabilitiesSchema }).strict(),
  produce: z
    .object({
      transportId: id,
      kind: z.enum(['audio', 'video']),
      rtpParameters: rtpParametersSchema,
      source: z.enum(MEDIA_SOURCES),
    })
    .strict(),
  closeProducer: z.object({ producerId: id }).strict(),
  pauseProducer: z.object({ producerId: id }).strict(),
  resumeProducer: z.object({ producerId: id }).strict(),
  resumeConsumer: z.object({ consumerId: id }).strict(),
  setConsumerPreferredLayers: z
    .object({
      consumerId: id,
      spatialLayer: z.number().int().min(0).max(2),
      temporalLayer: z.number().int().min(0).max(2).optional(),
    })
    .strict(),
  leave: z.object({}).strict(),
  /**
   * This peer's media transport failed and it is about to rejoin: the others are told, and its MLS
   * membership is kept for the rejoin grace (SignalingServer), so its retries do not rekey the group.
   */
  reportMediaFailure: z.object({ direction: z.enum(['send', 'recv']) }).strict(),
  /** A host pauses another participant's microphone at the SFU ("Mute Bob"). */
  muteParticipant: z.object({ peerId: id }).strict(),
  /** A host ends the meeting for everyone. */
  endMeeting: z.object({}).strict(),
  /** A host replaces the meeting's guest link: the old one admits nobody new. */
  resetInvite: z.object({}).strict(),
  /** A fresh session token for this socket's room and user: the socket outlives the old one's expiry. */
  renew: z.object({ token: z.string().min(1).max(4096) }).strict(),
} as const;

export type RequestMethod = keyof typeof requestSchemas;
export type RequestData<M extends RequestMethod> = z.infer<(typeof requestSchemas)[M]>;

const envelopeSchema = z
  .object({
    method: z.enum(Object.keys(requestSchemas) as [RequestMethod, ...RequestMethod[]]),
    data: z.unknown(),
  })
  .strict();

export type Request = { [M in RequestMethod]: { method: M; data: RequestData<M> } }[RequestMethod];
/** Requests a Room runs. Signaling answers `renew` (about the socket) itself, and authorises the
 *  host-only ones before it calls the room's own method for them. */
export type RoomRequest = Exclude<
  Request,
  { method: 'renew' | 'muteParticipant' | 'endMeeting' | 'resetInvite' }
>;

/** Parses an untrusted request: the envelope first, then the data against its method's schema. */
export function parseRequest(
  raw: unknown,
): { success: true; request: Request } | { success: false; message: string } {
  const envelope = envelopeSchema.safeParse(raw);
  if (!envelope.success) return { success: false, message: describe(envelope.error) };
  const data = requestSchemas[envelope.data.method].safeParse(envelope.data.data);
  if (!data.success) {
    return {
      success: false,
      message: `${envelope.data.method}: ${describe(data.error)}`.slice(0, MAX_ERROR_MESSAGE),
    };
  }
  return { success: true, request: { method: envelope.data.method, data: data.data } as Request };
}

function describe(error: z.ZodError): string {
  const issue = error.issues[0];
  if (issue === undefined) return 'invalid request';
  const where = issue.path.length > 0 ? issue.path.join('.') : 'request';
  return `${where}: ${issue.message}`.slice(0, MAX_ERROR_MESSAGE);
}

export interface PeerInfo {
  peerId: string;
  userId: string;
  displayName: string;
}

export interface TransportInfo {
  id: string;
  iceParameters: unknown;
  iceCandidates: unknown[];
  dtlsParameters: unknown;
  iceServers: RTCIceServer[];
}

/** What each request answers with. */
export interface ResponseMap {
  getRouterRtpCapabilities: { rtpCapabilities: unknown };
  createTransport: TransportInfo;
  connectTransport: Record<string, never>;
  restartIce: { iceParameters: unknown };
  join: { self: PeerInfo; peers: PeerInfo[] };
  produce: { producerId: string };
  closeProducer: Record<string, never>;
  pauseProducer: Record<string, never>;
  resumeProducer: Record<string, never>;
  resumeConsumer: Record<string, never>;
  setConsumerPreferredLayers: Record<string, never>;
  leave: Record<string, never>;
  reportMediaFailure: Record<string, never>;
  muteParticipant: Record<string, never>;
  endMeeting: Record<string, never>;
  resetInvite: { inviteUrl: string };
  /** When the renewed session expires (ms since the epoch). */
  renew: { expiresAt: number };
}

export type WireError = { code: string; message: string };
export type Ack<M extends RequestMethod> =
  { ok: true; result: ResponseMap[M] } | { ok: false; error: WireError };

export interface ConsumerInfo {
  consumerId: string;
  producerId: string;
  peerId: string;
  kind: 'audio' | 'video';
  source: MediaSource;
  rtpParameters: unknown;
  producerPaused: boolean;
}

export type Notification =
  | { type: 'peerJoined'; data: PeerInfo }
  | { type: 'peerLeft'; data: { peerId: string } }
  | { type: 'newConsumer'; data: ConsumerInfo }
  | { type: 'consumerClosed'; data: { consumerId: string } }
  | { type: 'consumerPaused'; data: { consumerId: string } }
  | { type: 'consumerResumed'; data: { consumerId: string } }
  | { type: 'activeSpeaker'; data: { peerId: string | null } }
  /** A peer's media could not connect (reportMediaFailure); it is rejoining. */
  | { type: 'peerMediaFailed'; data: { peerId: string } }
  /** A host (user id `by`) paused this peer's microphone. */
  | { type: 'mutedByHost'; data: { by: string } }
  /** A host (user id `by`) ended the meeting; the room closes. */
  | { type: 'meetingEnded'; data: { by: string } }
  /** The room's media server went away (a worker died); rejoin to continue. */
  | { type: 'roomClosed'; data: { reason: 'media-server-restarted' | 'server-shutdown' } };

export type NotificationType = Notification['type'];
