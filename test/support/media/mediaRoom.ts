// Rooms of simulated participants with real media, for the media load run and for browser tests.
//
// API (for tests; everything runs in the calling process):
//
//   const room = await startMediaRoom({
//     serverUrl: 'http://127.0.0.1:4640',   // a server with CONCLAVE_LOAD_PLAIN_TRANSPORTS=1
//     participants: 30,                     // simulated participants, joined one after another
//     colours: ['#ff0000', …],              // optional, one '#rrggbb' per participant; default paletteColour(i)
//     audioOnly: false,                     // optional: mic only, no camera
//     silent: false,                        // optional: the mic sends Opus silence, not the 440 Hz tone
//     muted: false,                         // optional: every mic muted (paused at the SFU)
//     invite: hostInviteUrl,                // optional: join this room (e.g. one a browser created);
//                                           //   default: a new room made through POST /api/rooms
//     receives: false,                      // optional: send only (default: receive one page)
//   });
//   room.room                               // the room id
//   room.guestInvite                        // an invite link for someone else (a browser) to join
//   room.participants                       // in join order: { name, colour, peerId, userId, received(), … }
//   room.colourOf(peerId)                   // the colour participant `peerId` encodes, or undefined
//   room.errors                             // problems after the joins, by kind
//   await room.stop()                       // stops sending, leaves; idempotent
//
// Each participant's camera is its colour, solid, as real VP8 in three simulcast layers (ivfCamera.ts),
// SFrame-sealed under the room's MLS keys (MediaParticipant.ts): a browser in the room decrypts and
// shows that colour. Media is paced by one 20 ms clock for all participants of all rooms of a
// MediaClock, so that several rooms share one timer (startMediaRooms).
import { readOggOpusPackets } from '../codecFixtures.ts';
import { ApiClient, deviceAddress } from '../../bench/load/apiClient.ts';
import { cameraFrames, paletteColour, type CameraFrames } from './ivfCamera.ts';
import { MediaParticipant } from './MediaParticipant.ts';

export const TICK_MS = 20;
const MAX_CATCH_UP = 5;

export interface MediaRoomOptions {
  serverUrl: string;
  participants: number;
  colours?: readonly string[];
  audioOnly?: boolean;
  /** The mic sends Opus silence frames instead of the tone: nobody hears them speak (last-N tests). */
  silent?: boolean;
  /** Every mic muted as the app mutes it (a paused producer): the SFU forwards no sound at all. */
  muted?: boolean;
  /** An invite link (…/r/<room>#t=<token>) to join instead of creating a room. */
  invite?: string;
  /** Receive what a client showing one page receives (the default), or nothing (send only). */
  receives?: boolean;
  /** First device number (loopback source address, deviceAddress) of this room's participants. */
  firstDevice?: number;
  /** Progress lines. */
  log?: (line: string) => void;
}

export interface MediaRoom {
  room: string;
  guestInvite: string | undefined;
  participants: readonly MediaParticipant[];
  colourOf(peerId: string): string | undefined;
  errors: Record<string, { count: number; example: string }>;
  stop(): Promise<void>;
}

/**
 * One 20 ms clock driving every participant it holds. A timer that fires late runs the ticks it
 * missed (up to MAX_CATCH_UP), so the packet rates hold; beyond that, ticks are skipped and counted
 * (the generator is saturated: its figures then measure itself, not the SFU).
 */
export class MediaClock {
  readonly #participants = new Set<MediaParticipant>();
  #timer: ReturnType<typeof setInterval> | undefined;
  #start = 0;
  #tick = 0;
  /** Ticks skipped because the generator fell behind (its own saturation, not the SFU's). */
  skipped = 0;

  add(p: MediaParticipant): void {
    this.#participants.add(p);
    if (this.#timer === undefined) this.#run();
  }

  remove(p: MediaParticipant): void {
    this.#participants.delete(p);
    if (this.#participants.size === 0) this.stop();
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  #run(): void {
    this.#start = performance.now();
    this.#tick = 0;
    this.#timer = setInterval(() => {
      const due = Math.floor((performance.now() - this.#start) / TICK_MS);
      let next = this.#tick + 1;
      if (due - next >= MAX_CATCH_UP) {
        this.skipped += due - next - MAX_CATCH_UP + 1;
        next = due - MAX_CATCH_UP + 1;
      }
      for (; next <= due; next++) for (const p of this.#participants) void p.tick(next);
      this.#tick = due;
    }, TICK_MS);
  }
}

const sharedClock = new MediaClock();
/** 20 ms of Opus silence (CELT, fullband, mono): what libopus emits for digital silence. */
const OPUS_SILENCE = [Uint8Array.of(0xf8, 0xff, 0xfe)];
let audioPackets: Uint8Array[] | undefined;

/** Opens (or joins) a room and fills it with `participants` media participants. */
export async function startMediaRoom(
  options: MediaRoomOptions,
  clock: MediaClock = sharedClock,
): Promise<MediaRoom> {
  const firstDevice = options.firstDevice ?? 1;
  const api = new ApiClient(options.serverUrl, deviceAddress(firstDevice));
  let room: string;
  let token: string;
  let guestInvite: string | undefined;
  if (options.invite === undefined) {
    const created = (await api.createRoom()) as Awaited<ReturnType<ApiClient['createRoom']>> & {
      guestInviteUrl?: string;
    };
    room = created.room;
    token = created.hostInvite;
    guestInvite = created.guestInviteUrl;
  } else {
    const link = new URL(options.invite);
    room = link.pathname.split('/').pop()!;
    token = new URLSearchParams(link.hash.slice(1)).get('t') ?? '';
    if (token === '') throw new RangeError('invite: a link …/r/<room>#t=<token>');
  }
  audioPackets ??= readOggOpusPackets();
  const errors: MediaRoom['errors'] = {};
  const report = (kind: string, message: string) => {
    const known = errors[kind];
    if (known === undefined) errors[kind] = { count: 1, example: message.slice(0, 300) };
    else known.count += 1;
  };
  const participants: MediaParticipant[] = [];
  const cameras = new Map<string, CameraFrames>();
  const stop = async () => {
    for (const p of participants) {
      clock.remove(p);
      p.close();
    }
  };
  try {
    for (let i = 0; i < options.participants; i++) {
      const colour = options.colours?.[i] ?? paletteColour(i);
      let camera: CameraFrames | undefined;
      if (options.audioOnly !== true) {
        camera = cameras.get(colour) ?? (await cameraFrames(colour));
        cameras.set(colour, camera);
      }
      const participant = new MediaParticipant({
        baseUrl: options.serverUrl,
        invite: token,
        name: `Media ${room} ${i + 1}`,
        localAddress: deviceAddress(firstDevice + i),
        camera,
        audio: options.silent === true ? OPUS_SILENCE : audioPackets,
        muted: options.muted,
        report,
        receives: options.receives,
      });
      participants.push(participant);
      await participant.join();
      clock.add(participant);
      options.log?.(`${room}: participant ${i + 1}/${options.participants} joined`);
    }
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    room,
    guestInvite,
    participants,
    colourOf: (peerId) => participants.find((p) => p.peerId === peerId)?.colour,
    errors,
    stop,
  };
}
