// A meeting participant made of raw protocol pieces: it redeems an invite link through the HTTP API
// as the web app does (POST /api/sessions), then joins signaling with a plain socket.io client, so
// the server lists it like anyone else. Attack tests pair it with an MlsAttacker for the key service.
import { io, type Socket } from 'socket.io-client';

export interface RawParticipant {
  session: string;
  userId: string;
  name: string;
  signaling: Socket;
  /** Everyone the server listed at join (peer id, user id, display name). */
  peers: Array<{ peerId: string; userId: string; displayName: string }>;
  close(): void;
}

/** The room and invite token of a link such as http://host/r/<room>#t=<invite>. */
export function parseInviteLink(link: string): { baseUrl: string; room: string; invite: string } {
  const url = new URL(link);
  const invite = new URLSearchParams(url.hash.slice(1)).get('t');
  const room = /^\/r\/([^/]+)$/.exec(url.pathname)?.[1];
  if (invite === null || room === undefined) throw new Error(`not an invite link: ${link}`);
  return { baseUrl: url.origin, room, invite };
}

/** Redeems `inviteLink` as `name` and joins the room's signaling (no media). */
export async function joinAsRawParticipant(inviteLink: string, name: string): Promise<RawParticipant> {
  const { baseUrl, invite } = parseInviteLink(inviteLink);
  const response = await fetch(`${baseUrl}/api/sessions`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Origin: baseUrl },
    body: JSON.stringify({ invite, name }),
  });
  if (!response.ok) throw new Error(`session refused: ${response.status} ${await response.text()}`);
  const { session, userId } = (await response.json()) as { session: string; userId: string };
  return joinSignaling(baseUrl, session, userId, name);
}

/** Joins signaling with a session token the caller already holds (e.g. one the operator minted). */
export async function joinSignaling(
  baseUrl: string,
  session: string,
  userId: string,
  name: string,
): Promise<RawParticipant> {
  const signaling = io(`${baseUrl}/signaling`, {
    transports: ['websocket'],
    auth: { token: session },
    reconnection: false,
    forceNew: true,
    extraHeaders: { Origin: baseUrl },
  });
  await new Promise<void>((resolve, reject) => {
    signaling.once('connect', () => resolve());
    signaling.once('connect_error', reject);
  });
  const ack = (await signaling.timeout(10_000).emitWithAck('request', {
    method: 'join',
    data: { rtpCapabilities: {} },
  })) as { ok: boolean; result?: { peers: RawParticipant['peers'] }; error?: { message: string } };
  if (!ack.ok) throw new Error(`join refused: ${ack.error?.message ?? 'unknown'}`);
  return {
    session,
    userId,
    name,
    signaling,
    peers: ack.result?.peers ?? [],
    close: () => signaling.disconnect(),
  };
}
