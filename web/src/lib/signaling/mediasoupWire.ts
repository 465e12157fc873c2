// Between the signaling protocol's wire shapes (parsed, so their shape and size are known) and
// mediasoup-client's own types, in both directions, without a cast.
//
// mediasoup-client names the RTP header extensions it knows in a closed union; the router also
// advertises ones no browser negotiates (framemarking). Those are left out of what mediasoup-client
// is given: it intersects the router's with the browser's own, so they could never be used.
// Outgoing structures (the device's capabilities, a transport's DTLS parameters, a producer's RTP
// parameters) are parsed with the server's own request schemas, so one that the server would refuse
// fails here with the same reason.
import {
  dtlsParametersSchema,
  mediaSourceSchema,
  rtpCapabilitiesSchema,
  rtpParametersSchema,
  type ConsumerInfo,
  type MediaSource,
  type RequestData,
  type ResponseMap,
  type TransportInfo,
} from '@conclave/server/protocol';
import type { types } from 'mediasoup-client';
import type { z } from 'zod';
import { RequestError } from './SignalingClient.ts';

/** Every URI in mediasoup-client's union: the compiler insists on each one, so none is dropped by mistake. */
const KNOWN_HEADER_EXTENSIONS: Record<types.RtpHeaderExtensionUri, true> = {
  'urn:ietf:params:rtp-hdrext:sdes:mid': true,
  'urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id': true,
  'urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id': true,
  'http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time': true,
  'http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01': true,
  'urn:ietf:params:rtp-hdrext:ssrc-audio-level': true,
  'https://aomediacodec.github.io/av1-rtp-spec/#dependency-descriptor-rtp-header-extension': true,
  'urn:3gpp:video-orientation': true,
  'http://www.webrtc.org/experiments/rtp-hdrext/abs-capture-time': true,
  'urn:ietf:params:rtp-hdrext:toffset': true,
  'http://www.webrtc.org/experiments/rtp-hdrext/playout-delay': true,
  'urn:mediasoup:params:rtp-hdrext:packet-id': true,
};

function isKnownHeaderExtension(uri: string): uri is types.RtpHeaderExtensionUri {
  return Object.hasOwn(KNOWN_HEADER_EXTENSIONS, uri);
}

/** The header extensions mediasoup-client knows, typed as it names them; the others left out. */
function knownHeaderExtensions<T extends { uri: string }>(
  extensions: T[],
): (T & { uri: types.RtpHeaderExtensionUri })[] {
  return extensions.flatMap((ext) => (isKnownHeaderExtension(ext.uri) ? [{ ...ext, uri: ext.uri }] : []));
}

type WireRtpCapabilities = ResponseMap['getRouterRtpCapabilities']['rtpCapabilities'];

/** The router's capabilities, for Device.load. */
export function routerCapabilities(wire: WireRtpCapabilities): types.RtpCapabilities {
  const { headerExtensions, ...rest } = wire;
  return headerExtensions === undefined
    ? rest
    : { ...rest, headerExtensions: knownHeaderExtensions(headerExtensions) };
}

/** A consumer's RTP parameters, for Transport.consume. */
export function consumerRtpParameters(info: ConsumerInfo): types.RtpParameters {
  const { headerExtensions, ...rest } = info.rtpParameters;
  return headerExtensions === undefined
    ? rest
    : { ...rest, headerExtensions: knownHeaderExtensions(headerExtensions) };
}

/** A server transport's ICE and DTLS parameters, for Device.createSendTransport / createRecvTransport. */
export function transportParameters(
  info: TransportInfo,
): Pick<types.TransportOptions, 'id' | 'iceParameters' | 'iceCandidates' | 'dtlsParameters'> {
  return {
    id: info.id,
    iceParameters: info.iceParameters,
    // mediasoup-client reads `address ?? ip`; mediasoup 3.12 sends `ip` only.
    iceCandidates: info.iceCandidates.map((candidate) => ({
      ...candidate,
      address: candidate.address ?? candidate.ip,
    })),
    dtlsParameters: info.dtlsParameters,
  };
}

/** The device's capabilities, for `join`. @throws RequestError('bad-request') if the server would refuse them. */
export function joinCapabilities(device: types.RtpCapabilities): RequestData<'join'>['rtpCapabilities'] {
  return outgoing(rtpCapabilitiesSchema, device, 'RTP capabilities');
}

/** A transport's DTLS parameters, for `connectTransport`. @throws RequestError('bad-request') */
export function connectDtlsParameters(
  parameters: types.DtlsParameters,
): RequestData<'connectTransport'>['dtlsParameters'] {
  return outgoing(dtlsParametersSchema, parameters, 'DTLS parameters');
}

/** A producer's RTP parameters, for `produce`. @throws RequestError('bad-request') */
export function produceRtpParameters(
  parameters: types.RtpParameters,
): RequestData<'produce'>['rtpParameters'] {
  return outgoing(rtpParametersSchema, parameters, 'RTP parameters');
}

/** The source a producer was made for (its appData, set by us). @throws RequestError('bad-request') */
export function producerSource(appData: types.AppData): MediaSource {
  return outgoing(mediaSourceSchema, appData['source'], 'producer source');
}

function outgoing<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  throw new RequestError('bad-request', `${what}: ${issue?.path.join('.') ?? ''} ${issue?.message ?? ''}`);
}
