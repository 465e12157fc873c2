// The shapes of mediasoup's own structures as they cross the signaling wire, in both directions:
// RTP capabilities and parameters and DTLS parameters (sent by clients, checked by the server), and
// ICE parameters, ICE candidates and ICE servers (sent by the server, checked by the client).
//
// Shape and size only: mediasoup (server side) and mediasoup-client check their meaning. Every
// array and string is bounded, so a hostile peer cannot make either end hold an unbounded value.
import { z } from 'zod';

/** An id the server made (a mediasoup or peer UUID). */
export const id = z.string().min(1).max(64);
/** A short protocol word: a MIME type, a URI, an ICE fragment. */
export const token = z.string().min(1).max(256);
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

/** What a device can send and receive (mediasoup's RtpCapabilities): a router's, or a client's for `join`. */
export const rtpCapabilitiesSchema = z.object({
  codecs: z.array(rtpCodecCapability).max(64).optional(),
  headerExtensions: z.array(headerExtensionCapability).max(64).optional(),
});

/**
 * A router's capabilities (getRouterRtpCapabilities): as rtpCapabilitiesSchema, but every codec
 * carries the payload type the router chose for it (mediasoup-client requires one).
 */
export const routerRtpCapabilitiesSchema = rtpCapabilitiesSchema.extend({
  codecs: z
    .array(rtpCodecCapability.extend({ preferredPayloadType: z.number().int().min(0).max(127) }))
    .max(64)
    .optional(),
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

/** One stream's RTP parameters (mediasoup's RtpParameters): a producer's, or a consumer's. */
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
      // Printable ASCII without spaces: receivers put it in their SDP (a=ssrc … cname, a=msid), where
      // a space splits the attribute and the browser refuses the whole description. Empty is
      // allowed: Chromium's simulcast offer carries no cname, and mediasoup-client then sends ''.
      cname: z
        .string()
        .regex(/^[\x21-\x7e]{0,255}$/, 'an RTCP CNAME is printable ASCII without spaces, at most 255')
        .optional(),
      reducedSize: z.boolean().optional(),
      mux: z.boolean().optional(),
    })
    .optional(),
});

/** A transport end's DTLS role and certificate fingerprints. */
export const dtlsParametersSchema = z.object({
  role: z.enum(['auto', 'client', 'server']).optional(),
  fingerprints: z
    .array(
      z.object({ algorithm: z.enum(['sha-1', 'sha-224', 'sha-256', 'sha-384', 'sha-512']), value: token }),
    )
    .min(1)
    .max(8),
});

/** A server transport's ICE credentials (ICE Lite: mediasoup never initiates). */
export const iceParametersSchema = z.object({
  usernameFragment: token,
  password: token,
  iceLite: z.boolean().optional(),
});

/** One of a server transport's ICE candidates. */
export const iceCandidateSchema = z.object({
  foundation: token,
  priority: z.number().int().nonnegative(),
  /** mediasoup 3.12 names the address `ip`; later versions add `address` (mediasoup-client reads either). */
  ip: token,
  address: token.optional(),
  protocol: z.enum(['udp', 'tcp']),
  port: z.number().int().min(0).max(65535),
  type: z.enum(['host', 'srflx', 'prflx', 'relay']),
  tcpType: z.enum(['active', 'passive', 'so']).optional(),
});

/** One ICE (STUN or TURN) server, as RTCPeerConnection takes it. */
export const iceServerSchema = z.object({
  urls: z.union([z.string().min(1).max(1024), z.array(z.string().min(1).max(1024)).min(1).max(16)]),
  username: z.string().max(1024).optional(),
  credential: z.string().max(1024).optional(),
});
