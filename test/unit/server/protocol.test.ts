// Parsing untrusted signaling requests (server/src/signaling/protocol.ts).
import { describe, expect, it } from 'vitest';
import { parseRequest, requestSchemas, type RequestMethod } from '../../../server/src/signaling/protocol.ts';

const rtpCapabilities = {
  codecs: [
    {
      kind: 'audio',
      mimeType: 'audio/opus',
      preferredPayloadType: 100,
      clockRate: 48000,
      channels: 2,
      parameters: { useinbandfec: 1, 'sprop-stereo': true },
      rtcpFeedback: [{ type: 'transport-cc', parameter: '' }],
    },
    {
      kind: 'video',
      mimeType: 'video/VP8',
      clockRate: 90000,
      rtcpFeedback: [{ type: 'nack' }, { type: 'nack', parameter: 'pli' }],
    },
  ],
  headerExtensions: [
    {
      kind: 'video',
      uri: 'urn:ietf:params:rtp-hdrext:sdes:mid',
      preferredId: 1,
      preferredEncrypt: false,
      direction: 'sendrecv',
    },
  ],
};

const rtpParameters = {
  mid: '0',
  codecs: [
    {
      mimeType: 'video/VP8',
      payloadType: 96,
      clockRate: 90000,
      parameters: {},
      rtcpFeedback: [{ type: 'nack' }],
    },
  ],
  headerExtensions: [{ uri: 'urn:ietf:params:rtp-hdrext:sdes:mid', id: 1, encrypt: false, parameters: {} }],
  encodings: [
    { rid: 'r0', scaleResolutionDownBy: 4, maxBitrate: 150_000, scalabilityMode: 'L1T3', active: true },
    { rid: 'r1', scaleResolutionDownBy: 2, maxBitrate: 500_000 },
    { ssrc: 1234, rtx: { ssrc: 1235 }, dtx: false, maxFramerate: 30 },
  ],
  rtcp: { cname: 'abcd', reducedSize: true, mux: true },
};

const dtlsParameters = {
  role: 'client',
  fingerprints: [{ algorithm: 'sha-256', value: 'AB:CD:EF' }],
};

/** One valid request per method. */
const VALID: { [M in RequestMethod]: unknown } = {
  getRouterRtpCapabilities: {},
  createTransport: { direction: 'send' },
  connectTransport: { transportId: 't1', dtlsParameters },
  restartIce: { transportId: 't1' },
  join: { rtpCapabilities },
  produce: { transportId: 't1', kind: 'video', rtpParameters, source: 'camera' },
  closeProducer: { producerId: 'p1' },
  pauseProducer: { producerId: 'p1' },
  resumeProducer: { producerId: 'p1' },
  resumeConsumer: { consumerId: 'c1' },
  consume: { producerId: 'p2' },
  pauseConsumer: { consumerId: 'c1' },
  closeConsumer: { consumerId: 'c1' },
  setConsumerPreferredLayers: { consumerId: 'c1', spatialLayer: 2, temporalLayer: 0 },
  leave: {},
  reportMediaFailure: { direction: 'recv' },
  muteParticipant: { peerId: 'p2' },
  endMeeting: {},
  resetInvite: {},
  renew: { token: 'header.payload.signature' },
  createPlainTransport: { direction: 'send' },
  connectPlainTransport: {
    transportId: 'abc',
    ip: '127.0.0.1',
    port: 40000,
    srtpParameters: { cryptoSuite: 'AEAD_AES_128_GCM', keyBase64: Buffer.alloc(28, 7).toString('base64') },
  },
};

/** Messages echo a little of the input at most: describe() keeps 200 characters, plus the method name. */
const MAX_MESSAGE_LENGTH = 200 + 'setConsumerPreferredLayers: '.length;

function rejected(raw: unknown): string {
  const result = parseRequest(raw);
  if (result.success) throw new Error(`accepted ${JSON.stringify(raw).slice(0, 200)}`);
  expect(result.message.length).toBeLessThanOrEqual(MAX_MESSAGE_LENGTH);
  return result.message;
}

describe('parseRequest', () => {
  it('has a valid example for every method', () => {
    expect(Object.keys(VALID).sort()).toEqual(Object.keys(requestSchemas).sort());
  });

  it.each(Object.entries(VALID))('accepts a valid %s request and returns its data', (method, data) => {
    const result = parseRequest({ method, data });
    expect(result).toEqual({ success: true, request: { method, data } });
  });

  it("accepts an empty RTCP CNAME (Chromium's simulcast offer has none)", () => {
    const produce = {
      ...(VALID.produce as object),
      rtpParameters: { ...rtpParameters, rtcp: { cname: '' } },
    };
    expect(parseRequest({ method: 'produce', data: produce }).success).toBe(true);
  });

  it('accepts optional fields left out', () => {
    expect(parseRequest({ method: 'join', data: { rtpCapabilities: {} } }).success).toBe(true);
    expect(
      parseRequest({ method: 'setConsumerPreferredLayers', data: { consumerId: 'c1', spatialLayer: 0 } })
        .success,
    ).toBe(true);
    expect(
      parseRequest({
        method: 'connectTransport',
        data: { transportId: 't1', dtlsParameters: { fingerprints: [{ algorithm: 'sha-512', value: 'x' }] } },
      }).success,
    ).toBe(true);
  });

  it('rejects what is not a request envelope', () => {
    for (const raw of [undefined, null, 'join', 42, [], [{ method: 'leave', data: {} }]]) {
      expect(rejected(raw)).toMatch(/^request: /);
    }
  });

  it('rejects an unknown or missing method, naming the field', () => {
    expect(rejected({ method: 'dance', data: {} })).toMatch(/^method: /);
    expect(rejected({ method: 'constructor', data: {} })).toMatch(/^method: /);
    expect(rejected({ method: '__proto__', data: {} })).toMatch(/^method: /);
    expect(rejected({ data: {} })).toMatch(/^method: /);
  });

  it('rejects missing data, naming the field', () => {
    expect(rejected({ method: 'leave' })).toMatch(/^data: /);
  });

  it('rejects data that is not an object', () => {
    expect(rejected({ method: 'leave', data: null })).toMatch(/^leave: /);
    expect(rejected({ method: 'createTransport', data: 'send' })).toMatch(/^createTransport: /);
  });

  it('rejects extra keys in the envelope and in the data, naming them', () => {
    expect(rejected({ method: 'leave', data: {}, id: 1 })).toMatch(/Unrecognized key.*"id"/);
    expect(rejected({ method: 'leave', data: { reason: 'bye' } })).toMatch(/^leave: .*"reason"/);
    expect(rejected({ method: 'createTransport', data: { direction: 'send', sctp: true } })).toMatch(
      /^createTransport: .*"sctp"/,
    );
  });

  it.each([
    ['createTransport', { direction: 'sideways' }, 'direction'],
    ['createTransport', { direction: 1 }, 'direction'],
    ['createTransport', {}, 'direction'],
    ['restartIce', { transportId: '' }, 'transportId'],
    ['restartIce', { transportId: 'x'.repeat(65) }, 'transportId'],
    ['restartIce', { transportId: 42 }, 'transportId'],
    ['closeProducer', {}, 'producerId'],
    ['resumeConsumer', { consumerId: ['c1'] }, 'consumerId'],
    ['produce', { ...(VALID.produce as object), kind: 'data' }, 'kind'],
    ['produce', { ...(VALID.produce as object), source: 'hologram' }, 'source'],
    ['produce', { ...(VALID.produce as object), rtpParameters: { codecs: [] } }, 'rtpParameters.codecs'],
    [
      'produce',
      { ...(VALID.produce as object), rtpParameters: { ...rtpParameters, rtcp: { cname: 'Media room 1' } } },
      'rtpParameters.rtcp.cname',
    ],
    [
      'produce',
      { ...(VALID.produce as object), rtpParameters: { ...rtpParameters, rtcp: { cname: 'a\nb' } } },
      'rtpParameters.rtcp.cname',
    ],
    [
      'produce',
      {
        ...(VALID.produce as object),
        rtpParameters: { codecs: [{ mimeType: 'video/VP8', payloadType: 128, clockRate: 90000 }] },
      },
      'rtpParameters.codecs.0.payloadType',
    ],
    [
      'produce',
      {
        ...(VALID.produce as object),
        rtpParameters: { ...rtpParameters, encodings: [{ scaleResolutionDownBy: 0 }] },
      },
      'rtpParameters.encodings.0.scaleResolutionDownBy',
    ],
    ['setConsumerPreferredLayers', { consumerId: 'c1', spatialLayer: 3 }, 'spatialLayer'],
    ['setConsumerPreferredLayers', { consumerId: 'c1', spatialLayer: 1.5 }, 'spatialLayer'],
    ['setConsumerPreferredLayers', { consumerId: 'c1', spatialLayer: 0, temporalLayer: -1 }, 'temporalLayer'],
    [
      'connectTransport',
      { transportId: 't1', dtlsParameters: { fingerprints: [] } },
      'dtlsParameters.fingerprints',
    ],
    [
      'connectTransport',
      { transportId: 't1', dtlsParameters: { fingerprints: [{ algorithm: 'md5', value: 'x' }] } },
      'dtlsParameters.fingerprints.0.algorithm',
    ],
    [
      'connectTransport',
      { transportId: 't1', dtlsParameters: { ...dtlsParameters, role: 'both' } },
      'dtlsParameters.role',
    ],
    ['join', { rtpCapabilities: { codecs: 'all' } }, 'rtpCapabilities.codecs'],
    [
      'join',
      {
        rtpCapabilities: {
          codecs: [
            { kind: 'audio', mimeType: 'audio/opus', clockRate: 48000, parameters: { x: 'y'.repeat(257) } },
          ],
        },
      },
      'rtpCapabilities.codecs.0.parameters.x',
    ],
  ] as const)('rejects a bad %s request, naming %s', (method, data, field) => {
    expect(rejected({ method, data })).toMatch(new RegExp(`^${method}: ${field.replaceAll('.', '\\.')}: `));
  });

  it.each([
    [
      'join: rtpCapabilities.codecs',
      'join',
      { rtpCapabilities: { codecs: Array(65).fill(rtpCapabilities.codecs[0]) } },
    ],
    [
      'join: rtpCapabilities.headerExtensions',
      'join',
      { rtpCapabilities: { headerExtensions: Array(65).fill(rtpCapabilities.headerExtensions[0]) } },
    ],
    [
      'produce: rtpParameters.codecs',
      'produce',
      { ...(VALID.produce as object), rtpParameters: { codecs: Array(17).fill(rtpParameters.codecs[0]) } },
    ],
    [
      'produce: rtpParameters.encodings',
      'produce',
      { ...(VALID.produce as object), rtpParameters: { ...rtpParameters, encodings: Array(9).fill({}) } },
    ],
    [
      'produce: rtpParameters.codecs.0.rtcpFeedback',
      'produce',
      {
        ...(VALID.produce as object),
        rtpParameters: {
          codecs: [{ ...rtpParameters.codecs[0], rtcpFeedback: Array(33).fill({ type: 'nack' }) }],
        },
      },
    ],
    [
      'connectTransport: dtlsParameters.fingerprints',
      'connectTransport',
      { transportId: 't1', dtlsParameters: { fingerprints: Array(9).fill(dtlsParameters.fingerprints[0]) } },
    ],
  ])('rejects an oversized array: %s', (prefix, method, data) => {
    expect(rejected({ method, data })).toMatch(new RegExp(`^${prefix.replaceAll('.', '\\.')}: `));
  });

  it('accepts arrays at their size limit', () => {
    const data = {
      ...(VALID.produce as object),
      rtpParameters: { codecs: Array(16).fill(rtpParameters.codecs[0]) },
    };
    expect(parseRequest({ method: 'produce', data }).success).toBe(true);
  });

  it('does not echo a huge input back in the message', () => {
    const data = {
      transportId: 't1',
      dtlsParameters: { fingerprints: [{ algorithm: 'sha-256', value: 'v' }] },
      ['k'.repeat(10_000)]: 1,
    };
    const message = rejected({ method: 'connectTransport', data });
    expect(message).toMatch(/^connectTransport: request: Unrecognized key/);
    expect(message.length).toBeLessThanOrEqual(MAX_MESSAGE_LENGTH);
  });
});
