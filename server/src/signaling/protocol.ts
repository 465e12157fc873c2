// The browser ↔ signaling protocol, shared by the server and the web client: every message's zod
// schema, and the types derived from them, so both ends are typed from one source.
//
// Client → server: `socket.emit('request', { method, data }, ack)`; every request is parsed by
// `parseRequest` before any handler sees it, and the ack carries `{ ok: true, result }` or
// `{ ok: false, error: { code, message } }`.
// Server → client: `socket.emit('notification', { type, data })`, and `socket.emit('fatal', error)`
// just before the server closes the socket for good.
//
// The threat model counts the server as possibly hostile: the client parses every ack
// (`parseAck`), notification (`parseNotification`) and fatal error (`parseWireError`) with these
// schemas before it uses them, and drops what does not match.
//
// mediasoup's own structures (RTP capabilities and parameters, DTLS and ICE parameters) are checked
// here for shape and size (mediasoupSchemas.ts); mediasoup then checks their meaning and its
// TypeErrors become error acks.
import { MEDIA_SOURCES, type MediaSource } from '@conclave/crypto-worker/sframe/wire';
import { z } from 'zod';
import { ERROR_CODES, type ErrorCode } from '../errors.ts';
import {
  dtlsParametersSchema,
  iceCandidateSchema,
  iceParametersSchema,
  iceServerSchema,
  id,
  routerRtpCapabilitiesSchema,
  rtpCapabilitiesSchema,
  rtpParametersSchema,
} from './mediasoupSchemas.ts';
import {
  connectPlainTransportRequest,
  createPlainTransportRequest,
  plainTransportInfoSchema,
} from './plainTransportSchemas.ts';

export { dtlsParametersSchema, routerRtpCapabilitiesSchema, rtpCapabilitiesSchema, rtpParametersSchema };
export type { ErrorCode };

/** The socket.io event a client sends its requests on (with an ack callback). */
export const REQUEST_EVENT = 'request';
/** The socket.io event the server sends notifications on. */
export const NOTIFICATION_EVENT = 'notification';
/** The socket.io event the server sends once, with a WireError, before it closes the socket for good. */
export const FATAL_EVENT = 'fatal';
/** Upper bound on one request's JSON size; larger ones are refused before parsing. */
export const MAX_REQUEST_BYTES = 64 * 1024;
/** Error messages echo field names from untrusted input; keep them short. */
export const MAX_ERROR_MESSAGE = 200;

/** One name for what a participant sends, owned by the SFrame KID layout (each source is a context). */
export type { MediaSource };
/** A MediaSource on the wire. */
export const mediaSourceSchema = z.enum(MEDIA_SOURCES);

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
      source: mediaSourceSchema,
    })
    .strict(),
  closeProducer: z.object({ producerId: id }).strict(),
  pauseProducer: z.object({ producerId: id }).strict(),
  resumeProducer: z.object({ producerId: id }).strict(),
  resumeConsumer: z.object({ consumerId: id }).strict(),
  /**
   * A consumer of another participant's camera, created paused (issue #17: cameras are received on
   * demand, for the tiles on screen; microphones and screens are pushed as `newConsumer`).
   */
  consume: z.object({ producerId: id }).strict(),
  /** Stops a consumer's flow at the SFU (its tile went off screen); `resumeConsumer` restarts it. */
  pauseConsumer: z.object({ consumerId: id }).strict(),
  /** Closes a camera consumer made by `consume` (its tile stayed off screen). */
  closeConsumer: z.object({ consumerId: id }).strict(),
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
  /** Load tests only (CONCLAVE_LOAD_PLAIN_TRANSPORTS=1): an SRTP PlainTransport on loopback. */
  createPlainTransport: createPlainTransportRequest,
  connectPlainTransport: connectPlainTransportRequest,
} as const;

/** A request's name. */
export type RequestMethod = keyof typeof requestSchemas;
/** What a request of `M` carries, as the server's handlers see it once parsed. */
export type RequestData<M extends RequestMethod> = z.output<(typeof requestSchemas)[M]>;

const envelopeSchema = z
  .object({
    method: z.enum(Object.keys(requestSchemas) as [RequestMethod, ...RequestMethod[]]),
    data: z.unknown(),
  })
  .strict();

/** One parsed request: its method and data. */
export type Request = { [M in RequestMethod]: { method: M; data: RequestData<M> } }[RequestMethod];
/** Requests a Room runs. Signaling answers `renew` (about the socket) itself, and authorises the
 *  host-only ones before it calls the room's own method for them. */
export type RoomRequest = Exclude<
  Request,
  { method: 'renew' | 'muteParticipant' | 'endMeeting' | 'resetInvite' }
>;

/**
 * Parses an untrusted request: the envelope first, then the data against its method's schema.
 * @param raw - whatever arrived on REQUEST_EVENT.
 * @returns the typed request, or a short message (at most MAX_ERROR_MESSAGE characters) naming the
 *   first field that is wrong; it never throws.
 * @example
 * const parsed = parseRequest({ method: 'restartIce', data: { transportId: 't1' } });
 * if (!parsed.success) throw new ConclaveError('bad-request', parsed.message);
 */
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

/** Who a participant is: their peer (one socket), their pseudonymous user id and their name. */
export const peerInfoSchema = z.object({
  peerId: id,
  userId: z.string().min(1).max(256),
  displayName: z.string().max(256),
});

/** A server transport, for mediasoup-client's createSendTransport / createRecvTransport. */
export const transportInfoSchema = z.object({
  id,
  iceParameters: iceParametersSchema,
  iceCandidates: z.array(iceCandidateSchema).max(32),
  dtlsParameters: dtlsParametersSchema,
  iceServers: z.array(iceServerSchema).max(16),
});

/** A consumer the server made for this peer (paused) of another peer's producer. */
export const consumerInfoSchema = z.object({
  consumerId: id,
  producerId: id,
  peerId: id,
  kind: z.enum(['audio', 'video']),
  source: mediaSourceSchema,
  rtpParameters: rtpParametersSchema,
  producerPaused: z.boolean(),
});

/** The answer of a request that only reports success. */
const done = z.object({});

/** What each request answers with, one schema per method. */
const responseSchemaMap = {
  getRouterRtpCapabilities: z.object({ rtpCapabilities: routerRtpCapabilitiesSchema }),
  createTransport: transportInfoSchema,
  connectTransport: done,
  restartIce: z.object({ iceParameters: iceParametersSchema }),
  join: z.object({ self: peerInfoSchema, peers: z.array(peerInfoSchema).max(1024) }),
  produce: z.object({ producerId: id }),
  closeProducer: done,
  pauseProducer: done,
  resumeProducer: done,
  resumeConsumer: done,
  consume: consumerInfoSchema,
  pauseConsumer: done,
  closeConsumer: done,
  setConsumerPreferredLayers: done,
  leave: done,
  reportMediaFailure: done,
  muteParticipant: done,
  endMeeting: done,
  resetInvite: z.object({ inviteUrl: z.string().min(1).max(8192) }),
  /** When the renewed session expires (ms since the epoch). */
  renew: z.object({ expiresAt: z.number().int().nonnegative() }),
  createPlainTransport: plainTransportInfoSchema,
  connectPlainTransport: done,
} as const satisfies Record<RequestMethod, z.ZodType>;

/** What each request answers with: the server's handlers return it, the client receives it parsed. */
export type ResponseMap = { [M in RequestMethod]: z.output<(typeof responseSchemaMap)[M]> };

/** What each request answers with, one schema per method, typed by method for generic callers. */
export const responseSchemas: { readonly [M in RequestMethod]: z.ZodType<ResponseMap[M]> } =
  responseSchemaMap;

/** The error a refused request, a refused handshake or a fatal event carries. */
export const wireErrorSchema = z.object({
  code: z.enum(ERROR_CODES),
  message: z.string().max(1000),
  /** Cluster mode, with 'wrong-node': the node that owns the room (a public node name). */
  owner: z.string().max(63).optional(),
});

/** An error as the server sends it: one of the server's error codes and a sentence for people. */
export type WireError = z.output<typeof wireErrorSchema>;

/** A request's answer: its result, or why it was refused. */
export type Ack<M extends RequestMethod> =
  { ok: true; result: ResponseMap[M] } | { ok: false; error: WireError };

const ackEnvelopeSchema = z.discriminatedUnion('ok', [
  z.object({ ok: z.literal(true), result: z.unknown() }),
  z.object({ ok: z.literal(false), error: wireErrorSchema }),
]);

/**
 * Parses an untrusted answer to a request of `method`.
 * @param method - the method the request was for: its result must match that method's schema.
 * @param raw - whatever the ack callback was called with.
 * @returns the typed ack, or undefined when it matches neither a result nor an error; never throws.
 * @example
 * const ack = parseAck('produce', await socket.emitWithAck(REQUEST_EVENT, request));
 * if (ack?.ok) use(ack.result.producerId);
 */
export function parseAck<M extends RequestMethod>(method: M, raw: unknown): Ack<M> | undefined {
  const envelope = ackEnvelopeSchema.safeParse(raw);
  if (!envelope.success) return undefined;
  if (!envelope.data.ok) return envelope.data;
  const result = responseSchemas[method].safeParse(envelope.data.result);
  return result.success ? { ok: true, result: result.data } : undefined;
}

/**
 * Parses an untrusted error (a fatal event's, or a refused handshake's `data`).
 * @returns the error, or undefined when it is not one; never throws.
 */
export function parseWireError(raw: unknown): WireError | undefined {
  const parsed = wireErrorSchema.safeParse(raw);
  return parsed.success ? parsed.data : undefined;
}

const consumerRef = z.object({ consumerId: id });
const producerRef = z.object({ producerId: id });
const peerRef = z.object({ peerId: id });
const byUser = z.object({ by: z.string().min(1).max(256) });

/** A camera another participant sends, announced to this peer (`producerAvailable`). */
export const producerAvailableSchema = z.object({
  producerId: id,
  peerId: id,
  source: z.literal('camera'),
  kind: z.literal('video'),
  paused: z.boolean(),
});

/** Every notification the server may send, told apart by `type`. */
export const notificationSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('peerJoined'), data: peerInfoSchema }),
  z.object({ type: z.literal('peerLeft'), data: peerRef }),
  z.object({ type: z.literal('newConsumer'), data: consumerInfoSchema }),
  z.object({ type: z.literal('consumerClosed'), data: consumerRef }),
  z.object({ type: z.literal('consumerPaused'), data: consumerRef }),
  z.object({ type: z.literal('consumerResumed'), data: consumerRef }),
  /**
   * Another participant's camera, which this peer may `consume`; sent when it is created, and for
   * each existing one when this peer joins (before the join's answer, as `newConsumer`s are).
   */
  z.object({ type: z.literal('producerAvailable'), data: producerAvailableSchema }),
  /** That camera closed (turned off for good, or its participant left). */
  z.object({ type: z.literal('producerGone'), data: producerRef }),
  /** That camera was paused or resumed by its owner, whether this peer consumes it or not. */
  z.object({ type: z.literal('producerPaused'), data: producerRef }),
  z.object({ type: z.literal('producerResumed'), data: producerRef }),
  z.object({ type: z.literal('activeSpeaker'), data: z.object({ peerId: id.nullable() }) }),
  /** A peer's media could not connect (reportMediaFailure); it is rejoining. */
  z.object({ type: z.literal('peerMediaFailed'), data: peerRef }),
  /** A host (user id `by`) paused this peer's microphone. */
  z.object({ type: z.literal('mutedByHost'), data: byUser }),
  /** A host (user id `by`) ended the meeting; the room closes. */
  z.object({ type: z.literal('meetingEnded'), data: byUser }),
  /** The room's media server went away (a worker died), or the server is stopping; rejoin to continue. */
  z.object({
    type: z.literal('roomClosed'),
    data: z.object({ reason: z.enum(['media-server-restarted', 'server-shutdown']) }),
  }),
]);

/** One notification from the server. */
export type Notification = z.output<typeof notificationSchema>;
/** A notification's name. */
export type NotificationType = Notification['type'];
/** A participant, as `join` and `peerJoined` describe them. */
export type PeerInfo = z.output<typeof peerInfoSchema>;
/** A server transport, as `createTransport` describes it. */
export type TransportInfo = z.output<typeof transportInfoSchema>;
/** A new consumer, as `newConsumer` and `consume` describe it. */
export type ConsumerInfo = z.output<typeof consumerInfoSchema>;
/** A camera on offer, as `producerAvailable` describes it. */
export type ProducerAvailable = z.output<typeof producerAvailableSchema>;

/**
 * Parses an untrusted notification.
 * @param raw - whatever arrived on NOTIFICATION_EVENT.
 * @returns the typed notification, or a short reason it was refused; never throws.
 * @example
 * const parsed = parseNotification(raw);
 * if (parsed.success) handle(parsed.notification);
 * else console.warn(`notification dropped: ${parsed.message}`);
 */
export function parseNotification(
  raw: unknown,
): { success: true; notification: Notification } | { success: false; message: string } {
  const parsed = notificationSchema.safeParse(raw);
  if (parsed.success) return { success: true, notification: parsed.data };
  return { success: false, message: describe(parsed.error) };
}
