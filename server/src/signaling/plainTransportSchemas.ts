// Wire schemas of the load-test plain-transport requests (media/plainTransport.ts): kept apart from
// protocol.ts so that the web client's protocol stays about WebRTC. The server refuses these
// requests unless CONCLAVE_LOAD_PLAIN_TRANSPORTS=1; the schemas bound every field regardless.
import { z } from 'zod';
import { id } from './mediasoupSchemas.ts';

const udpPort = z.number().int().min(1).max(65535);
/** AEAD_AES_128_GCM: a 16-byte master key and a 12-byte master salt, base64 (RFC 7714 §12). */
const srtpParametersSchema = z
  .object({
    cryptoSuite: z.literal('AEAD_AES_128_GCM'),
    keyBase64: z.string().regex(/^[A-Za-z0-9+/]{37}[AQgw]==$/, 'must be 28 bytes of base64 (key and salt)'),
  })
  .strict();

export const createPlainTransportRequest = z.object({ direction: z.enum(['send', 'recv']) }).strict();

export const connectPlainTransportRequest = z
  .object({
    transportId: id,
    ip: z.ipv4(),
    port: udpPort,
    rtcpPort: udpPort.optional(),
    srtpParameters: srtpParametersSchema,
  })
  .strict();

export const plainTransportInfoSchema = z.object({
  id,
  ip: z.ipv4(),
  port: udpPort,
  srtpParameters: srtpParametersSchema,
});
