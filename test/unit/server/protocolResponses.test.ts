// The server → client half of the signaling protocol (server/src/signaling/protocol.ts): every
// response, notification and error the server sends must come through its schema unchanged (the
// client parses each one before using it), and what no honest server sends must not.
import { describe, expect, it } from 'vitest';
import {
  notificationSchema,
  parseAck,
  parseNotification,
  parseWireError,
  requestSchemas,
  responseSchemas,
  type ConsumerInfo,
  type Notification,
  type RequestMethod,
  type ResponseMap,
} from '../../../server/src/signaling/protocol.ts';

const rtpParameters: ConsumerInfo['rtpParameters'] = {
  mid: '1',
  codecs: [
    {
      mimeType: 'video/VP8',
      payloadType: 101,
      clockRate: 90000,
      parameters: {},
      rtcpFeedback: [
        { type: 'nack', parameter: '' },
        { type: 'nack', parameter: 'pli' },
      ],
    },
    { mimeType: 'video/rtx', payloadType: 102, clockRate: 90000, parameters: { apt: 101 }, rtcpFeedback: [] },
  ],
  headerExtensions: [{ uri: 'urn:ietf:params:rtp-hdrext:sdes:mid', id: 1, encrypt: false, parameters: {} }],
  encodings: [{ ssrc: 2222, rtx: { ssrc: 3333 }, scalabilityMode: 'L3T3', maxBitrate: 1_200_000 }],
  rtcp: { cname: 'abcd', reducedSize: true, mux: true },
};

const peer = { peerId: 'peer-1', userId: 'user-1', displayName: 'Alice' };

const cameraConsumer: ConsumerInfo = {
  consumerId: 'c1',
  producerId: 'p1',
  peerId: 'peer-1',
  kind: 'video',
  source: 'camera',
  rtpParameters,
  producerPaused: true,
};

/** One answer per method, as the server sends it. */
const RESPONSES: { [M in RequestMethod]: ResponseMap[M] } = {
  getRouterRtpCapabilities: {
    rtpCapabilities: {
      codecs: [
        {
          kind: 'audio',
          mimeType: 'audio/opus',
          preferredPayloadType: 100,
          clockRate: 48000,
          channels: 2,
          parameters: { useinbandfec: 1 },
          rtcpFeedback: [{ type: 'transport-cc', parameter: '' }],
        },
      ],
      headerExtensions: [
        {
          kind: 'video',
          uri: 'urn:ietf:params:rtp-hdrext:framemarking',
          preferredId: 12,
          preferredEncrypt: false,
          direction: 'sendrecv',
        },
      ],
    },
  },
  createTransport: {
    id: 'transport-1',
    iceParameters: { usernameFragment: 'abcd', password: 'efgh', iceLite: true },
    iceCandidates: [
      {
        foundation: 'udpcandidate',
        priority: 1076302079,
        ip: '127.0.0.1',
        protocol: 'udp',
        port: 40000,
        type: 'host',
      },
      {
        foundation: 'tcpcandidate',
        priority: 1076276479,
        ip: '127.0.0.1',
        address: '127.0.0.1',
        protocol: 'tcp',
        port: 40001,
        type: 'host',
        tcpType: 'passive',
      },
    ],
    dtlsParameters: { role: 'auto', fingerprints: [{ algorithm: 'sha-256', value: 'AB:CD' }] },
    iceServers: [
      { urls: 'stun:stun.example.org' },
      { urls: ['turn:turn.example.org?transport=udp'], username: '123:u', credential: 'secret' },
    ],
  },
  connectTransport: {},
  restartIce: { iceParameters: { usernameFragment: 'ijkl', password: 'mnop' } },
  join: { self: peer, peers: [{ peerId: 'peer-2', userId: 'user-2', displayName: 'Bob' }] },
  produce: { producerId: 'producer-1' },
  closeProducer: {},
  pauseProducer: {},
  resumeProducer: {},
  resumeConsumer: {},
  consume: cameraConsumer,
  pauseConsumer: {},
  closeConsumer: {},
  setConsumerPreferredLayers: {},
  leave: {},
  reportMediaFailure: {},
  muteParticipant: {},
  endMeeting: {},
  resetInvite: { inviteUrl: 'https://meet.example.org/r/room#invite=abc' },
  renew: { expiresAt: 1_790_000_000_000 },
  createPlainTransport: {
    id: 'abc',
    ip: '127.0.0.1',
    port: 40000,
    srtpParameters: { cryptoSuite: 'AEAD_AES_128_GCM', keyBase64: Buffer.alloc(28, 7).toString('base64') },
  },
  connectPlainTransport: {},
};

/** One notification per type. */
const NOTIFICATIONS: Notification[] = [
  { type: 'peerJoined', data: peer },
  { type: 'peerLeft', data: { peerId: 'peer-1' } },
  { type: 'newConsumer', data: { ...cameraConsumer, kind: 'audio', source: 'mic' } },
  { type: 'consumerClosed', data: { consumerId: 'c1' } },
  { type: 'consumerPaused', data: { consumerId: 'c1' } },
  { type: 'consumerResumed', data: { consumerId: 'c1' } },
  {
    type: 'producerAvailable',
    data: { producerId: 'p1', peerId: 'peer-1', source: 'camera', kind: 'video', paused: false },
  },
  { type: 'producerGone', data: { producerId: 'p1' } },
  { type: 'producerPaused', data: { producerId: 'p1' } },
  { type: 'producerResumed', data: { producerId: 'p1' } },
  { type: 'activeSpeaker', data: { peerId: 'peer-1' } },
  { type: 'activeSpeaker', data: { peerId: null } },
  { type: 'peerMediaFailed', data: { peerId: 'peer-1' } },
  { type: 'mutedByHost', data: { by: 'user-2' } },
  { type: 'meetingEnded', data: { by: 'user-2' } },
  { type: 'roomClosed', data: { reason: 'media-server-restarted' } },
  { type: 'roomClosed', data: { reason: 'server-shutdown' } },
];

/** As it arrives: through JSON, as socket.io carries it. */
const wire = (value: unknown): unknown => JSON.parse(JSON.stringify(value));

describe('responses', () => {
  it('has a schema, and an example here, for every request method', () => {
    expect(Object.keys(responseSchemas).sort()).toEqual(Object.keys(requestSchemas).sort());
    expect(Object.keys(RESPONSES).sort()).toEqual(Object.keys(requestSchemas).sort());
  });

  it.each(Object.keys(RESPONSES) as RequestMethod[])('%s round-trips through its schema', (method) => {
    const result = RESPONSES[method];
    expect(responseSchemas[method].parse(wire(result))).toEqual(result);
    expect(parseAck(method, wire({ ok: true, result }))).toEqual({ ok: true, result });
  });

  it("refuses an answer that is not its method's result", () => {
    expect(parseAck('produce', { ok: true, result: { producerId: 7 } })).toBeUndefined();
    expect(parseAck('produce', { ok: true, result: RESPONSES.renew })).toBeUndefined();
    expect(parseAck('join', { ok: true, result: { self: peer } })).toBeUndefined();
    expect(parseAck('renew', { ok: true, result: { expiresAt: 'never' } })).toBeUndefined();
    expect(
      parseAck('createTransport', {
        ok: true,
        result: {
          ...RESPONSES.createTransport,
          iceCandidates: Array(33).fill(RESPONSES.createTransport.iceCandidates[0]),
        },
      }),
    ).toBeUndefined();
    expect(
      parseAck('createTransport', {
        ok: true,
        result: {
          ...RESPONSES.createTransport,
          dtlsParameters: { fingerprints: [{ algorithm: 'md5', value: 'AB' }] },
        },
      }),
    ).toBeUndefined();
    expect(
      parseAck('getRouterRtpCapabilities', {
        ok: true,
        result: {
          rtpCapabilities: { codecs: [{ kind: 'audio', mimeType: 'audio/opus', clockRate: 48000 }] },
        },
      }),
    ).toBeUndefined(); // a router's codec always carries its payload type
    for (const raw of [undefined, null, 'ok', {}, { ok: true }, { ok: 1, result: {} }]) {
      expect(parseAck('leave', raw)).toBeUndefined();
    }
  });
});

describe('errors', () => {
  it("round-trip with the server's codes only", () => {
    const error = { code: 'rate-limited', message: 'too many requests; slow down' } as const;
    expect(parseAck('leave', wire({ ok: false, error }))).toEqual({ ok: false, error });
    expect(parseWireError(wire(error))).toEqual(error);
    expect(parseWireError({ code: 'removed', message: 'A host removed you from the meeting' })).toBeDefined();
  });

  it('refuses a code the server does not have, or an error without a message', () => {
    expect(parseAck('leave', { ok: false, error: { code: 'admin', message: 'x' } })).toBeUndefined();
    expect(parseWireError({ code: 'admin', message: 'x' })).toBeUndefined();
    expect(parseWireError({ code: 'removed' })).toBeUndefined();
    expect(parseWireError({ code: 'removed', message: 'x'.repeat(1001) })).toBeUndefined();
    expect(parseWireError('removed')).toBeUndefined();
  });
});

describe('notifications', () => {
  it('has an example here for every type', () => {
    const types = new Set(NOTIFICATIONS.map((n) => n.type));
    expect([...types].sort()).toEqual(notificationSchema.options.map((o) => o.shape.type.value).sort());
  });

  it.each(NOTIFICATIONS.map((n) => [n.type, n] as const))('%s round-trips through its schema', (_type, n) => {
    expect(parseNotification(wire(n))).toEqual({ success: true, notification: n });
  });

  it('refuses an unknown type or malformed data, saying where', () => {
    const unknownType = parseNotification({ type: 'grantHost', data: {} });
    expect(unknownType.success).toBe(false);
    const badData = parseNotification({ type: 'peerLeft', data: { peerId: 42 } });
    expect(badData).toEqual({ success: false, message: expect.stringMatching(/^data\.peerId: /) });
    // Only cameras are announced: a microphone or screen on offer is not what an honest server sends.
    for (const data of [
      { producerId: 'p1', peerId: 'peer-1', source: 'mic', kind: 'audio', paused: false },
      { producerId: 'p1', peerId: 'peer-1', source: 'screen', kind: 'video', paused: false },
      { producerId: 'p1', peerId: 'peer-1', source: 'camera', kind: 'video' },
    ]) {
      expect(parseNotification({ type: 'producerAvailable', data }).success, JSON.stringify(data)).toBe(
        false,
      );
    }
    expect(parseAck('consume', { ok: true, result: { ...cameraConsumer, source: 'audio' } })).toBeUndefined();
  });
});
