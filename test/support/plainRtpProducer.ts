// A producer fed with RTP the test writes itself: a mediasoup PlainTransport (comedia: it learns our
// address from the first packet) on a router, and a UDP socket on loopback sending to it. Lets a test
// push exact bytes through the real mediasoup worker. Test-only.
import dgram from 'node:dgram';
import type { types } from 'mediasoup';

export const VP8_PAYLOAD_TYPE = 96;
export const OPUS_PAYLOAD_TYPE = 111;
export const VP9_PAYLOAD_TYPE = 98;
export const H264_PAYLOAD_TYPE = 102;

export type PlainCodec = 'vp8' | 'vp9' | 'h264' | 'opus';

const CODEC_PARAMETERS: Record<PlainCodec, types.RtpCodecParameters> = {
  vp8: { mimeType: 'video/VP8', payloadType: VP8_PAYLOAD_TYPE, clockRate: 90000, rtcpFeedback: [] },
  vp9: {
    mimeType: 'video/VP9',
    payloadType: VP9_PAYLOAD_TYPE,
    clockRate: 90000,
    parameters: { 'profile-id': 0 },
    rtcpFeedback: [],
  },
  h264: {
    mimeType: 'video/H264',
    payloadType: H264_PAYLOAD_TYPE,
    clockRate: 90000,
    parameters: { 'packetization-mode': 1, 'profile-level-id': '42e01f', 'level-asymmetry-allowed': 1 },
    rtcpFeedback: [],
  },
  opus: {
    mimeType: 'audio/opus',
    payloadType: OPUS_PAYLOAD_TYPE,
    clockRate: 48000,
    channels: 2,
    rtcpFeedback: [],
  },
};

export interface PlainRtpProducer {
  producer: types.Producer;
  /** Sends the packets in order, yielding to the event loop between frames' worth of packets. */
  send(packets: readonly Uint8Array[]): Promise<void>;
  close(): void;
}

function rtpParameters(codec: PlainCodec, ssrcs: readonly number[]): types.RtpParameters {
  return {
    codecs: [CODEC_PARAMETERS[codec]],
    encodings: ssrcs.map((ssrc) => ({ ssrc })),
    headerExtensions: [],
    rtcp: { cname: 'tap-test' },
  };
}

export async function createPlainRtpProducer(
  router: types.Router,
  { codec, ssrcs, appData = {} }: { codec: PlainCodec; ssrcs: readonly number[]; appData?: types.AppData },
): Promise<PlainRtpProducer> {
  const transport = await router.createPlainTransport({
    listenIp: '127.0.0.1',
    rtcpMux: true,
    comedia: true,
  });
  const producer = await transport.produce({
    kind: codec === 'opus' ? 'audio' : 'video',
    rtpParameters: rtpParameters(codec, ssrcs),
    appData,
  });
  const socket = dgram.createSocket('udp4');
  // mediasoup answers with RTCP (receiver reports, PLI); nothing here needs it.
  socket.on('message', () => {});
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const port = transport.tuple.localPort;
  return {
    producer,
    async send(packets) {
      for (const [i, packet] of packets.entries()) {
        await new Promise<void>((resolve, reject) =>
          socket.send(packet, port, '127.0.0.1', (error) => (error ? reject(error) : resolve())),
        );
        // Loopback drops nothing unless a burst overruns the worker's socket buffer: pace a little.
        if (i % 8 === 7) await new Promise((resolve) => setTimeout(resolve, 1));
      }
    },
    close() {
      socket.close();
      transport.close();
    },
  };
}
