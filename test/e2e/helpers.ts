// What a person does in the UI, and what a test reads back from the page (pixels, RTP stats).
// The helpers that take an AnyPage work for Chromium (a Playwright Page) and Firefox (firefox.ts)
// alike, through driver.ts.
import { expect, type Browser, type BrowserContext, type Page } from '@playwright/test';
import { QUADRANT_COLOURS, colourDistance, type Rgb } from '../fixtures/media.ts';
import { drive, type AnyPage, type Target } from './driver.ts';

/** Records every RTCPeerConnection the page creates, so a test can read its stats. */
export const RECORD_PEER_CONNECTIONS = () => {
  const Original = window.RTCPeerConnection;
  const pcs: RTCPeerConnection[] = [];
  (window as unknown as { __pcs: RTCPeerConnection[] }).__pcs = pcs;
  window.RTCPeerConnection = class extends Original {
    constructor(config?: RTCConfiguration) {
      super(config);
      pcs.push(this);
    }
  } as typeof RTCPeerConnection;
};

export interface ParticipantOptions {
  /** Runs in the page before any of its scripts (e.g. to take an API away). */
  init?: () => void;
  /** Runs on the new page before it opens anything (e.g. to route its websockets). */
  setup?: (page: Page) => Promise<void>;
}

/** Every participant's browser context, so a test's meetings end with the test (see below). */
const openContexts = new Set<BrowserContext>();
/** Pages in a meeting, where a host may be asked to admit the next person. */
const inMeeting = new Set<AnyPage>();

/**
 * Closes every participant page the test opened. The browser lives across a file's tests; without
 * this, earlier meetings would go on running beside later tests and take their CPU.
 */
export async function closeParticipantPages(): Promise<void> {
  const contexts = [...openContexts];
  openContexts.clear();
  inMeeting.clear();
  await Promise.all(contexts.map((c) => c.close().catch(() => undefined)));
}

export async function newParticipantPage(browser: Browser, options: ParticipantOptions = {}): Promise<Page> {
  const context = await browser.newContext();
  openContexts.add(context);
  const page = await context.newPage();
  await page.addInitScript(RECORD_PEER_CONNECTIONS);
  if (options.init) await page.addInitScript(options.init);
  await options.setup?.(page);
  // Page warnings and errors go to the test's output, where a failing CI run shows them.
  page.on('console', (m) => {
    if (m.type() === 'warning' || m.type() === 'error')
      process.stdout.write(`[page ${m.type()}] ${m.text()}\n`);
  });
  page.on('pageerror', (e) => process.stdout.write(`[page exception] ${e.message}\n`));
  return page;
}

/** The tile (or stage) of a participant, by the name it shows. */
export const tile = (name: string): Target => ({ role: 'group', name });

/** Waits until `target` is visible on the page. */
export async function expectVisible(page: AnyPage, target: Target, timeout?: number): Promise<void> {
  const driver = drive(page);
  await expect
    .poll(() => driver.isVisible(target), { message: `${target.name} is visible`, timeout })
    .toBe(true);
}

/** Creates a meeting from the home page and returns its invite link, as shown on the pre-join page. */
export async function createMeeting(page: AnyPage): Promise<string> {
  const driver = drive(page);
  await driver.goto('/');
  await driver.click({ role: 'button', name: 'New meeting' });
  const link = { role: 'textbox', name: 'Invite link' } as const;
  const value = () => driver.evaluateIn(link, undefined, (el) => (el as HTMLInputElement).value, null);
  await expect.poll(value).toMatch(/\/r\/[a-z-]+#t=/);
  return (await value())!;
}

export async function joinFromPreJoin(
  page: AnyPage,
  name: string,
  options: { admit?: boolean } = {},
): Promise<void> {
  const driver = drive(page);
  const field = { role: 'textbox', name: 'Your name' } as const;
  // A named invite fixes the name: the field shows it read-only, and it must be the one expected.
  const fixed = await driver.evaluateIn(
    field,
    undefined,
    (el) => ((el as HTMLInputElement).readOnly ? (el as HTMLInputElement).value : ''),
    null,
  );
  if (fixed) expect(fixed).toBe(name);
  else await driver.fill(field, name);
  await driver.click({ role: 'button', name: 'Join' });
  if (options.admit !== false) await admittedByAHost(page, name);
  await expectVisible(driver, tile(`${name} (you)`));
  inMeeting.add(page);
}

/**
 * New meetings have the lobby on: whoever is in the meeting as host sees "Admit <name>" and clicks it,
 * as a person would. Done once the joiner's own tile is up (admitted, or no lobby).
 */
async function admittedByAHost(page: AnyPage, name: string): Promise<void> {
  const self = tile(`${name} (you)`);
  // The card over the stage; an open participants panel shows a second Admit button in its list.
  const card = { role: 'region', name: 'Waiting to join' } as const;
  const admit = { role: 'button', name: `Admit ${name}`, within: card } as const;
  await expect
    .poll(
      async () => {
        if (await drive(page).isVisible(self)) return true;
        for (const other of inMeeting) {
          if (
            other === page ||
            !(await drive(other)
              .isVisible(admit)
              .catch(() => false))
          )
            continue;
          await drive(other).click(admit);
          return true;
        }
        return false;
      },
      { message: `${name} is admitted`, timeout: 30_000 },
    )
    .toBe(true);
}

export async function joinByLink(
  page: AnyPage,
  link: string,
  name: string,
  options: { admit?: boolean } = {},
): Promise<void> {
  await drive(page).goto(link);
  await joinFromPreJoin(page, name, options);
}

/**
 * Average colour around the centre of each quadrant of the video in the tile named `tileName`,
 * read from the decoded picture through a canvas.
 */
export async function quadrantColours(page: AnyPage, tileName: string): Promise<Rgb[] | null> {
  return drive(page).evaluateIn(tile(tileName), 'video', READ_QUADRANT_COLOURS, null);
}

/** In the page: the quadrant colours of a <video>'s current picture (null while it has none). */
function READ_QUADRANT_COLOURS(video: Element): Rgb[] | null {
  {
    const el = video as HTMLVideoElement;
    if (el.videoWidth === 0 || el.readyState < 2) return null;
    const canvas = document.createElement('canvas');
    canvas.width = el.videoWidth;
    canvas.height = el.videoHeight;
    const ctx = canvas.getContext('2d', { willReadFrequently: true })!;
    ctx.drawImage(el, 0, 0);
    const w = canvas.width;
    const h = canvas.height;
    const centres = [
      [w / 4, h / 4],
      [(3 * w) / 4, h / 4],
      [w / 4, (3 * h) / 4],
      [(3 * w) / 4, (3 * h) / 4],
    ];
    const size = Math.max(4, Math.floor(Math.min(w, h) / 10));
    return centres.map(([cx, cy]) => {
      const { data } = ctx.getImageData(Math.floor(cx! - size / 2), Math.floor(cy! - size / 2), size, size);
      const sum = [0, 0, 0];
      for (let i = 0; i < data.length; i += 4) {
        sum[0]! += data[i]!;
        sum[1]! += data[i + 1]!;
        sum[2]! += data[i + 2]!;
      }
      const n = data.length / 4;
      return [sum[0]! / n, sum[1]! / n, sum[2]! / n] as [number, number, number];
    });
  }
}

/**
 * The average colour of the middle half of the picture in `tileName` (Firefox's fake camera is
 * one solid colour), with the page's clock when it was read; `null` while it shows none.
 */
export async function pictureColour(
  page: AnyPage,
  tileName: string,
): Promise<{ at: number; colour: Rgb } | null> {
  return drive(page).evaluateIn(
    tile(tileName),
    'video',
    (video) => {
      const el = video as HTMLVideoElement;
      if (el.videoWidth === 0 || el.readyState < 2) return null;
      const canvas = document.createElement('canvas');
      canvas.width = el.videoWidth;
      canvas.height = el.videoHeight;
      const ctx = canvas.getContext('2d', { willReadFrequently: true })!;
      ctx.drawImage(el, 0, 0);
      const { data } = ctx.getImageData(
        canvas.width / 4,
        canvas.height / 4,
        canvas.width / 2,
        canvas.height / 2,
      );
      const sum = [0, 0, 0];
      for (let i = 0; i < data.length; i += 4) for (let c = 0; c < 3; c++) sum[c]! += data[i + c]!;
      const n = data.length / 4;
      return { at: Date.now(), colour: [sum[0]! / n, sum[1]! / n, sum[2]! / n] as Rgb };
    },
    null,
  );
}

/** Bytes received so far on inbound RTP streams of a kind, over all of the page's connections. */
export async function inboundBytes(page: AnyPage, kind: 'audio' | 'video'): Promise<number> {
  return drive(page).evaluate(async (k) => {
    let total = 0;
    for (const pc of (window as unknown as { __pcs: RTCPeerConnection[] }).__pcs) {
      if (pc.connectionState === 'closed') continue;
      const stats = await pc.getStats();
      stats.forEach((s: { type: string; kind?: string; bytesReceived?: number }) => {
        if (s.type === 'inbound-rtp' && s.kind === k) total += s.bytesReceived ?? 0;
      });
    }
    return total;
  }, kind);
}

/** VP8 at low bitrates shifts colours a little; a wrong or scrambled picture misses by far more. */
export const COLOUR_TOLERANCE = 45;

/** How far the picture in `tileName` is from the fixture (largest quadrant distance; ∞ if none). */
export async function fixtureDistance(page: AnyPage, tileName: string): Promise<number> {
  const colours = await quadrantColours(page, tileName);
  if (colours === null) return Infinity;
  return Math.max(...colours.map((c, i) => colourDistance(c, QUADRANT_COLOURS[i]!)));
}

/** Waits until `viewer` shows `tileName`'s camera with the fixture's pixels. */
export async function expectFixtureVideo(
  viewer: AnyPage,
  tileName: string,
  viewerName = 'viewer',
): Promise<void> {
  await expectVisible(viewer, tile(tileName));
  await expect
    .poll(() => fixtureDistance(viewer, tileName), {
      message: `${tileName}'s video as decoded by ${viewerName} matches the fixture`,
      timeout: 30_000,
    })
    .toBeLessThan(COLOUR_TOLERANCE);
}

/**
 * The strongest frequency (Hz) in the audio of the tile named `tileName`, from the decoded sound
 * through Web Audio; `null` when it is silent. The fixture microphone plays a 440 Hz tone.
 */
export async function dominantFrequency(page: AnyPage, tileName: string): Promise<number | null> {
  return drive(page).evaluateIn(
    tile(tileName),
    'audio',
    async (audio) => {
      const stream = (audio as HTMLAudioElement).srcObject as MediaStream | null;
      if (stream === null) return null;
      const context = new AudioContext();
      // Firefox starts a context suspended until something resumes it.
      await context.resume();
      const analyser = context.createAnalyser();
      analyser.fftSize = 8192;
      context.createMediaStreamSource(stream).connect(analyser);
      await new Promise((resolve) => setTimeout(resolve, 700));
      const bins = new Float32Array(analyser.frequencyBinCount);
      analyser.getFloatFrequencyData(bins);
      const rate = context.sampleRate;
      await context.close();
      let best = 1;
      for (let i = 2; i < bins.length; i++) if (bins[i]! > bins[best]!) best = i;
      return bins[best]! < -100 ? null : (best * rate) / analyser.fftSize;
    },
    null,
  );
}

/** Decoded video frames so far over all of the page's connections: 0 means nothing was shown. */
export async function framesDecoded(page: AnyPage): Promise<number> {
  return drive(page).evaluate(async () => {
    let total = 0;
    for (const pc of (window as unknown as { __pcs: RTCPeerConnection[] }).__pcs) {
      if (pc.connectionState === 'closed') continue;
      const stats = await pc.getStats();
      stats.forEach((s: { type: string; kind?: string; framesDecoded?: number }) => {
        if (s.type === 'inbound-rtp' && s.kind === 'video') total += s.framesDecoded ?? 0;
      });
    }
    return total;
  }, null);
}

/** Bytes sent so far on outbound RTP streams, over all of the page's connections. */
export async function outboundBytes(page: AnyPage): Promise<number> {
  return drive(page).evaluate(async () => {
    let total = 0;
    for (const pc of (window as unknown as { __pcs: RTCPeerConnection[] }).__pcs) {
      const stats = await pc.getStats();
      stats.forEach((s: { type: string; bytesSent?: number }) => {
        if (s.type === 'outbound-rtp') total += s.bytesSent ?? 0;
      });
    }
    return total;
  }, null);
}

/**
 * Chooses an item of the control bar's "More options" menu (devices, speaker view, security code,
 * keyboard shortcuts), as a person does: open the menu, click the item.
 */
export async function chooseMoreOption(
  page: AnyPage,
  label: string,
  role: 'menuitem' | 'menuitemcheckbox' = 'menuitem',
): Promise<void> {
  const driver = drive(page);
  await driver.click({ role: 'button', name: 'More options' });
  // No `within` and no separate wait for the menu: each ARIA query costs seconds in Firefox, and
  // the click waits for the item to be visible anyway (its role and name are unique on the page).
  await driver.click({ role, name: label });
}

/**
 * Opens the "Security code" dialog (More options → Security code) and reads the code (30 digits, spaces
 * removed) and epoch, then closes it. All in one trip into the page: a person's clicks, but without
 * the driver's ARIA queries, which cost seconds each in Firefox.
 */
export async function readSecurityCode(page: AnyPage): Promise<{ code: string; epoch: number }> {
  const read = await drive(page).evaluate(READ_SECURITY_CODE, null);
  if (read === null) throw new Error('the Security code dialog did not open');
  return { code: read.code.replace(/\s+/g, ''), epoch: Number(/Key epoch (\d+)/.exec(read.text)?.[1]) };
}

/** In the page: opens the dialog through the menu, reads it, closes it; null if it never opened. */
async function READ_SECURITY_CODE(): Promise<{ code: string; text: string } | null> {
  const until = async <T>(find: () => T | null | undefined): Promise<T | null> => {
    for (let i = 0; i < 100; i++) {
      const found = find();
      if (found) return found;
      await new Promise((r) => setTimeout(r, 50));
    }
    return null;
  };
  const named = (el: Element, name: string) =>
    el.getAttribute('aria-label') === name || el.textContent?.trim() === name;
  const more = [...document.querySelectorAll('button')].find((b) => named(b, 'More options'));
  more?.click();
  const item = await until(() =>
    [...document.querySelectorAll<HTMLElement>('[role="menuitem"]')].find((m) => named(m, 'Security code')),
  );
  item?.click();
  const dialog = await until(() =>
    [...document.querySelectorAll('dialog[open]')].find(
      (d) => d.querySelector('h2')?.textContent === 'Security code',
    ),
  );
  if (!dialog) return null;
  // A participant who has not yet joined the group sees the dialog without a code: wait for it, as a
  // person would, rather than read the code of a group that is still being formed as empty.
  const codeElement = await until(() =>
    dialog.querySelector<HTMLElement>('[aria-label="Current security code"]'),
  );
  const code = codeElement?.innerText ?? '';
  const text = (dialog as HTMLElement).innerText;
  (dialog.querySelector('button[aria-label="Close"]') as HTMLButtonElement | null)?.click();
  await until(() => (document.querySelector('dialog[open]') === null ? true : null));
  return { code, text };
}

/**
 * The local and remote candidate types ('host', 'srflx', 'relay'…) of the selected candidate pair
 * of each of the page's open connections.
 */
export async function selectedCandidateTypes(
  page: AnyPage,
): Promise<Array<{ local: string; remote: string }>> {
  return drive(page).evaluate(async () => {
    const pairs: Array<{ local: string; remote: string }> = [];
    for (const pc of (window as unknown as { __pcs: RTCPeerConnection[] }).__pcs) {
      if (pc.connectionState === 'closed') continue;
      const stats = new Map<string, Record<string, unknown>>();
      (await pc.getStats()).forEach((s: Record<string, unknown>) => stats.set(s['id'] as string, s));
      // Chromium names the pair on the transport; Firefox marks it `selected` (and nominated).
      const transport = [...stats.values()].find((s) => s['type'] === 'transport');
      const pair =
        (transport?.['selectedCandidatePairId'] as string | undefined) !== undefined
          ? stats.get(transport!['selectedCandidatePairId'] as string)
          : [...stats.values()].find((s) => s['type'] === 'candidate-pair' && s['selected'] === true);
      if (pair === undefined) continue;
      const type = (id: unknown) => String(stats.get(id as string)?.['candidateType'] ?? 'unknown');
      pairs.push({ local: type(pair['localCandidateId']), remote: type(pair['remoteCandidateId']) });
    }
    return pairs;
  }, null);
}

/**
 * Makes the server withhold the meeting keys from this page: its key-service connection (the
 * socket.io namespace `/keys`, on its own websocket) never reaches the server. Signaling is untouched,
 * so the page is in the room and receives everyone's (encrypted) media.
 */
export async function withholdMeetingKeys(page: Page): Promise<void> {
  await page.routeWebSocket(/\/socket\.io\//, (ws) => {
    const server = ws.connectToServer();
    let keyService = false;
    ws.onMessage((message) => {
      if (typeof message === 'string' && message.startsWith('40/keys,')) keyService = true;
      if (!keyService) server.send(message);
    });
  });
}

/** Everything the page's websockets carried in both directions (text and binary frames). */
export function recordWebSocketFrames(page: Page): Array<string | Buffer> {
  const frames: Array<string | Buffer> = [];
  page.on('websocket', (ws) => {
    ws.on('framesent', (f) => frames.push(f.payload));
    ws.on('framereceived', (f) => frames.push(f.payload));
  });
  return frames;
}

/**
 * Chromium's inbound-rtp stats for the video shown in the tile named `tileName` (matched by track
 * id), or `null` while it shows none.
 */
async function tileVideoStats(
  page: Page,
  tileName: string,
): Promise<{ framesDecoded: number; totalFreezesDuration: number } | null> {
  const video = page.getByRole('group', { name: tileName, exact: true }).locator('video');
  if ((await video.count()) === 0) return null;
  return video.evaluate(async (el: HTMLVideoElement) => {
    const track = (el.srcObject as MediaStream | null)?.getVideoTracks()[0];
    if (track === undefined) return null;
    for (const pc of (window as unknown as { __pcs: RTCPeerConnection[] }).__pcs) {
      if (pc.connectionState === 'closed') continue;
      let found: { framesDecoded: number; totalFreezesDuration: number } | null = null;
      (await pc.getStats()).forEach(
        (s: {
          type: string;
          trackIdentifier?: string;
          framesDecoded?: number;
          totalFreezesDuration?: number;
        }) => {
          if (s.type === 'inbound-rtp' && s.trackIdentifier === track.id)
            found = {
              framesDecoded: s.framesDecoded ?? 0,
              totalFreezesDuration: s.totalFreezesDuration ?? 0,
            };
        },
      );
      if (found !== null) return found;
    }
    return null;
  });
}

/** Seconds the video in the tile named `tileName` has been frozen so far (Chromium's freeze metric). */
export async function videoFreezeSeconds(page: Page, tileName: string): Promise<number> {
  return (await tileVideoStats(page, tileName))?.totalFreezesDuration ?? 0;
}

/** Frames of the tile's video decoded so far. */
export async function tileFramesDecoded(page: Page, tileName: string): Promise<number> {
  return (await tileVideoStats(page, tileName))?.framesDecoded ?? 0;
}

/**
 * The newest key epoch under which every one of the page's sending streams has sent a frame, from
 * the app's `conclave:sender-epoch` performance marks (they carry an epoch and a stream, no data).
 */
export async function senderEpochInUse(page: Page, streams = ['mic', 'camera']): Promise<number> {
  return page.evaluate((wanted) => {
    const seen = new Map<number, Set<string>>();
    for (const mark of performance.getEntriesByName('conclave:sender-epoch')) {
      const { epoch, context } = (mark as PerformanceMark).detail as { epoch: number; context: string };
      seen.set(epoch, (seen.get(epoch) ?? new Set()).add(context));
    }
    const complete = [...seen].filter(([, contexts]) => wanted.every((c) => contexts.has(c)));
    return Math.max(-1, ...complete.map(([epoch]) => epoch));
  }, streams);
}

/** MIME types of the codecs the page's video streams use, in one direction, over all its connections. */
export async function videoCodecsInUse(page: Page, direction: 'outbound' | 'inbound'): Promise<string[]> {
  return page.evaluate(async (type) => {
    const mimeTypes = new Set<string>();
    for (const pc of (window as unknown as { __pcs: RTCPeerConnection[] }).__pcs) {
      if (pc.connectionState === 'closed') continue;
      const stats = await pc.getStats();
      stats.forEach(
        (s: {
          type: string;
          kind?: string;
          codecId?: string;
          bytesSent?: number;
          bytesReceived?: number;
        }) => {
          if (s.type !== type || s.kind !== 'video' || s.codecId === undefined) return;
          if ((s.bytesSent ?? s.bytesReceived ?? 0) === 0) return;
          const codec = stats.get(s.codecId) as { mimeType?: string } | undefined;
          if (codec?.mimeType !== undefined) mimeTypes.add(codec.mimeType);
        },
      );
    }
    return [...mimeTypes].sort();
  }, `${direction}-rtp`);
}

/**
 * Starts sampling, in the page, the colour of the picture in `tileName` every 100 ms (kept for
 * 20 s), so a test can later ask what that page showed at a given moment: Firefox's fake camera is
 * a solid colour that changes over time, and a receiver is judged against the sender's own preview.
 */
export async function recordPictureColours(page: AnyPage, tileName: string): Promise<void> {
  await drive(page).evaluate((name) => {
    const history: Array<{ at: number; colour: [number, number, number] }> = [];
    (window as unknown as { __colours: typeof history }).__colours = history;
    const canvas = document.createElement('canvas');
    setInterval(() => {
      const video = [...document.querySelectorAll('[role="group"]')]
        .find((g) => g.getAttribute('aria-label') === name)
        ?.querySelector('video');
      if (!video || video.videoWidth === 0 || video.readyState < 2) return;
      canvas.width = video.videoWidth;
      canvas.height = video.videoHeight;
      const ctx = canvas.getContext('2d', { willReadFrequently: true })!;
      ctx.drawImage(video, 0, 0);
      const { data } = ctx.getImageData(
        canvas.width / 4,
        canvas.height / 4,
        canvas.width / 2,
        canvas.height / 2,
      );
      const sum = [0, 0, 0];
      for (let i = 0; i < data.length; i += 4) for (let c = 0; c < 3; c++) sum[c]! += data[i + c]!;
      const n = data.length / 4;
      history.push({ at: Date.now(), colour: [sum[0]! / n, sum[1]! / n, sum[2]! / n] });
      while (history.length > 200) history.shift();
    }, 100);
  }, tileName);
}

/** What recordPictureColours has seen so far. */
export async function recordedColours(page: AnyPage): Promise<Array<{ at: number; colour: Rgb }>> {
  return drive(page).evaluate(
    () => (window as unknown as { __colours?: Array<{ at: number; colour: Rgb }> }).__colours ?? [],
    null,
  );
}

/** How far a receiver may lag behind the sender's preview (encode, network, jitter buffer). */
const PICTURE_LAG_MS = 1_500;

/**
 * How far the picture `viewer` shows in `viewerTile` is from what the sender's own preview showed
 * within the moments before (recordPictureColours must run on the sender); ∞ when nothing is shown.
 */
export async function distanceFromSenderPreview(
  sender: AnyPage,
  viewer: AnyPage,
  viewerTile: string,
): Promise<{ distance: number; colour: Rgb | null }> {
  const seen = await pictureColour(viewer, viewerTile);
  if (seen === null) return { distance: Infinity, colour: null };
  const preview = (await recordedColours(sender)).filter(
    (s) => s.at >= seen.at - PICTURE_LAG_MS && s.at <= seen.at + 200,
  );
  const distance = Math.min(Infinity, ...preview.map((s) => colourDistance(s.colour, seen.colour)));
  return { distance, colour: seen.colour };
}

/**
 * Waits until `viewer` shows in `viewerTile` what the sender's preview showed at that moment, twice,
 * with colours that differ: the picture follows the sender's live camera, not one stray frame.
 */
export async function expectPictureFollowsSender(
  sender: AnyPage,
  viewer: AnyPage,
  viewerTile: string,
  viewerName = 'viewer',
): Promise<void> {
  await expectVisible(viewer, tile(viewerTile));
  const matches: Rgb[] = [];
  await expect
    .poll(
      async () => {
        const { distance, colour } = await distanceFromSenderPreview(sender, viewer, viewerTile);
        if (distance < COLOUR_TOLERANCE && colour !== null) {
          if (matches.every((m) => colourDistance(m, colour) > COLOUR_TOLERANCE)) matches.push(colour);
        }
        return matches.length;
      },
      {
        message: `${viewerTile}'s picture as decoded by ${viewerName} follows the sender's preview`,
        timeout: 40_000,
        intervals: [300],
      },
    )
    .toBeGreaterThanOrEqual(2);
}
