// A steady media flow through a real mediasoup router: Opus-sized RTP every 20 ms into a plain-RTP
// producer (comedia), forwarded by the SFU to a plain-RTP consumer whose packets are counted. Both
// ends run on their own thread (rtpFlowThread.mjs), so a test can load the main thread (fuzz the
// server) and still see whether the SFU kept forwarding: `report()` gives the longest silence at
// the receiving end and the slowest packet through the SFU since `startWindow()`. Test-only.
import { Worker } from 'node:worker_threads';
import type { types } from 'mediasoup';
import { OPUS_PAYLOAD_TYPE } from './plainRtpProducer.ts';

export interface RtpFlowReport {
  sent: number;
  received: number;
  /** The longest time between two packets arriving (or the window's ends) during the window. */
  maxGapMs: number;
  /** The longest a packet took from this thread through the SFU back to it, during the window. */
  maxLatencyMs: number;
}

export interface RtpFlow {
  startWindow(): void;
  report(): Promise<RtpFlowReport>;
  stop(): Promise<void>;
}

export const RTP_FLOW_INTERVAL_MS = 20;

export async function startRtpFlow(router: types.Router, ssrc = 0x5eed0001): Promise<RtpFlow> {
  const inbound = await router.createPlainTransport({ listenIp: '127.0.0.1', rtcpMux: true, comedia: true });
  const producer = await inbound.produce({
    kind: 'audio',
    rtpParameters: {
      codecs: [{ mimeType: 'audio/opus', payloadType: OPUS_PAYLOAD_TYPE, clockRate: 48000, channels: 2 }],
      encodings: [{ ssrc }],
      rtcp: { cname: 'rtp-flow' },
    },
  });
  const thread = new Worker(new URL('./rtpFlowThread.mjs', import.meta.url), {
    workerData: {
      producerPort: inbound.tuple.localPort,
      ssrc,
      payloadType: OPUS_PAYLOAD_TYPE,
      intervalMs: RTP_FLOW_INTERVAL_MS,
    },
  });
  const next = <T>(type: string) =>
    new Promise<T>((resolve) => {
      const onMessage = (message: { type: string }) => {
        if (message.type !== type) return;
        thread.off('message', onMessage);
        resolve(message as T);
      };
      thread.on('message', onMessage);
    });
  const { sinkPort } = await next<{ sinkPort: number }>('bound');
  const outbound = await router.createPlainTransport({
    listenIp: '127.0.0.1',
    rtcpMux: true,
    comedia: false,
  });
  await outbound.connect({ ip: '127.0.0.1', port: sinkPort });
  const consumer = await outbound.consume({
    producerId: producer.id,
    rtpCapabilities: router.rtpCapabilities,
  });
  await consumer.resume();
  thread.postMessage({ type: 'start' });
  return {
    startWindow() {
      thread.postMessage({ type: 'window-start' });
    },
    report() {
      const reply = next<RtpFlowReport>('report');
      thread.postMessage({ type: 'report' });
      return reply;
    },
    async stop() {
      const exited = new Promise((resolve) => thread.once('exit', resolve));
      thread.postMessage({ type: 'stop' });
      await exited;
      outbound.close();
      inbound.close();
    },
  };
}
