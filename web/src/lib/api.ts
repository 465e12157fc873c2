// The server's JSON API (server/src/http/api.ts): room creation and invite → session exchange.

export class ApiError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export interface ServerConfig {
  openRooms: boolean;
}

/** A new meeting: a fresh room, the creator's host invite, and the guest invite to share. */
export interface NewRoom {
  room: string;
  hostInvite: string;
  guestInvite: string;
  guestInviteUrl: string;
}

export interface Session {
  session: string;
  room: string;
  userId: string;
  /** The name the session carries: a named invite's own, whatever was asked for. */
  name: string;
  /** Minted from a host invite (the server's word only). */
  host: boolean;
  expiresAt: number;
  /** For this session's peer connections: static servers plus its own TURN credential, if any. */
  iceServers: RTCIceServer[];
  /** 'relay' when the organisation wants every address hidden behind its TURN relay. */
  iceTransportPolicy: RTCIceTransportPolicy;
}

async function call<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
  let response: Response;
  try {
    response = await fetch(path, {
      method,
      headers: body === undefined ? {} : { 'Content-Type': 'application/json' },
      body: body === undefined ? null : JSON.stringify(body),
    });
  } catch {
    throw new ApiError(
      'unreachable',
      'Cannot reach the Conclave server. Check your connection and try again.',
    );
  }
  const payload = (await response.json().catch(() => null)) as { code?: string; message?: string } | null;
  if (!response.ok) {
    throw new ApiError(
      payload?.code ?? 'http-error',
      payload?.message ?? `The server answered ${response.status}.`,
    );
  }
  return payload as T;
}

export const api = {
  config: () => call<ServerConfig>('GET', '/api/config'),
  createRoom: () => call<NewRoom>('POST', '/api/rooms', {}),
  createSession: (invite: string, name: string, previous?: string) =>
    call<Session>(
      'POST',
      '/api/sessions',
      previous === undefined ? { invite, name } : { invite, name, previous },
    ),
};
