// A failed listen(2) said as a sentence that names the setting to change (server/src/listenError.ts),
// from the errors real sockets give: a port already taken, an address that is not this machine's.
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { describeListenError } from '../../../server/src/listenError.ts';

const SETTINGS = { portVariable: 'CONCLAVE_PORT', hostVariable: 'CONCLAVE_HOST' };
const servers: net.Server[] = [];

afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
});

/** What listening on `port` at `host` emits: the server's 'error', or undefined if it listened. */
function listenFailure(port: number, host: string): Promise<Error | undefined> {
  const server = net.createServer();
  servers.push(server);
  return new Promise((resolve) => {
    server.once('error', resolve);
    server.listen(port, host, () => resolve(undefined));
  });
}

async function busyPort(): Promise<number> {
  expect(await listenFailure(0, '127.0.0.1')).toBeUndefined();
  const address = servers.at(-1)?.address();
  if (address === null || typeof address !== 'object') throw new Error('no address');
  return address.port;
}

describe('describeListenError', () => {
  it('names CONCLAVE_PORT and the port when the port is in use', async () => {
    const port = await busyPort();
    const described = describeListenError(await listenFailure(port, '127.0.0.1'), SETTINGS);
    expect(described?.code).toBe('port-in-use');
    expect(described?.message).toBe(
      `cannot start: CONCLAVE_PORT=${port}: port ${port} on 127.0.0.1 is already in use (by another program, or another Conclave); stop it, or set CONCLAVE_PORT to a free port`,
    );
    expect(described?.name).toBe('ListenError');
  });

  it('names the variable it is given (the standalone key service has its own port)', async () => {
    const port = await busyPort();
    const failure = await listenFailure(port, '127.0.0.1');
    const described = describeListenError(failure, {
      ...SETTINGS,
      portVariable: 'CONCLAVE_KEY_SERVICE_PORT',
    });
    expect(described?.message).toContain(`CONCLAVE_KEY_SERVICE_PORT=${port}`);
    expect(described?.message).not.toContain('CONCLAVE_PORT=');
  });

  it('names CONCLAVE_HOST when the address is not one of this machine', async () => {
    // 192.0.2.0/24 is TEST-NET-1 (RFC 5737): never a local address.
    const described = describeListenError(await listenFailure(0, '192.0.2.1'), SETTINGS);
    expect(described?.code).toBe('address-unavailable');
    expect(described?.message).toContain('CONCLAVE_HOST=192.0.2.1 is not an address of this machine');
  });

  it('leaves every other error alone: it is a bug, and keeps its stack', () => {
    expect(describeListenError(new Error('boom'), SETTINGS)).toBeUndefined();
    expect(describeListenError('EADDRINUSE', SETTINGS)).toBeUndefined();
    const connectRefused = Object.assign(new Error('connect ECONNREFUSED'), {
      code: 'ECONNREFUSED',
      syscall: 'connect',
    });
    expect(describeListenError(connectRefused, SETTINGS)).toBeUndefined();
  });
});
