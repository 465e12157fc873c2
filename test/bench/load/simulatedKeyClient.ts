// The key client of a simulated participant (the load run's SimulatedParticipant and the media
// generator's MediaParticipant): the real KeyClient the browser runs, on ts-mls's pure-JS provider
// (the same wire format and states as WebCrypto, at a fraction of the generator's CPU: each real
// participant has a device of its own, these share the generator's cores), from its own loopback
// source address (per-IP limits), with its warnings counted as errors of the run.
//
// Must hold: nothing is reported once the participant has left (`isGone`): a task cut short by our
// own leave ('the client is closed') is not a failure.
import { nobleCryptoProvider } from 'ts-mls';
import { KeyClient } from '@conclave/key-service/client';

export interface SimulatedKeyClientOptions {
  baseUrl: string;
  token: string;
  userId: string;
  localAddress: string | undefined;
  report: (kind: string, message: string) => void;
  isGone: () => boolean;
}

export function simulatedKeyClient(options: SimulatedKeyClientOptions): KeyClient {
  const { report, isGone } = options;
  const keys = new KeyClient({
    url: `${options.baseUrl}/keys`,
    token: () => options.token,
    userId: options.userId,
    socketOptions: { localAddress: options.localAddress } as Record<string, unknown>,
    cryptoProvider: nobleCryptoProvider,
    logger: {
      debug: () => {},
      warn: (obj, msg) => {
        if (!isGone()) report('mls:client-warning', `${msg} ${JSON.stringify(obj)}`);
      },
    },
  });
  keys.on('warning', ({ message }) => {
    if (!isGone()) report('mls:warning', message);
  });
  return keys;
}
