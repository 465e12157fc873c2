// The server's JSON API as the web client calls it (web/src/lib/api.ts), from a chosen loopback
// source address: every simulated participant is its own device, so the API's per-address rate
// limit applies to each as it would to real people, not to the load generator as a whole.
import http from 'node:http';

export class ApiCallError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ApiCallError';
  }
}

/** POST /api/rooms: a fresh room, a host invite for its creator and a guest invite for the others. */
export interface NewRoom {
  room: string;
  hostInvite: string;
  guestInvite: string;
}

export interface Session {
  session: string;
  room: string;
  userId: string;
}

/** The i-th simulated device's address in 127.0.0.0/8 (all of it is loopback on Linux). */
export function deviceAddress(i: number): string {
  return `127.${10 + Math.floor(i / 62_500)}.${Math.floor(i / 250) % 250}.${1 + (i % 250)}`;
}

export class ApiClient {
  readonly #baseUrl: URL;
  readonly #localAddress: string;

  constructor(baseUrl: string, localAddress: string) {
    this.#baseUrl = new URL(baseUrl);
    this.#localAddress = localAddress;
  }

  createRoom(): Promise<NewRoom> {
    return this.#post<NewRoom>('/api/rooms', {});
  }

  createSession(invite: string, name: string): Promise<Session> {
    return this.#post<Session>('/api/sessions', { invite, name });
  }

  #post<T>(pathname: string, body: unknown): Promise<T> {
    const text = JSON.stringify(body);
    return new Promise<T>((resolve, reject) => {
      const req = http.request(
        {
          host: this.#baseUrl.hostname,
          port: this.#baseUrl.port,
          path: pathname,
          method: 'POST',
          localAddress: this.#localAddress,
          headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) },
          timeout: 10_000,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const payload = parseJson(Buffer.concat(chunks).toString('utf8'));
            const status = res.statusCode ?? 0;
            if (status === 200 && payload !== null) resolve(payload as T);
            else
              reject(
                new ApiCallError(status, payload?.code ?? 'http-error', payload?.message ?? `HTTP ${status}`),
              );
          });
        },
      );
      req.on('timeout', () => req.destroy(new ApiCallError(0, 'timeout', `${pathname} timed out`)));
      req.on('error', reject);
      req.end(text);
    });
  }
}

function parseJson(text: string): { code?: string; message?: string } | null {
  try {
    return JSON.parse(text) as { code?: string; message?: string };
  } catch {
    return null; // reported with the status
  }
}
