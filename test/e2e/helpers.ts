// What a person does in the UI, and what a test reads back from the page (pixels, RTP stats).
import { expect, type Browser, type Page } from '@playwright/test';
import type { Rgb } from '../fixtures/media.ts';

/** Records every RTCPeerConnection the page creates, so a test can read its stats. */
const RECORD_PEER_CONNECTIONS = () => {
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

export async function newParticipantPage(browser: Browser): Promise<Page> {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.addInitScript(RECORD_PEER_CONNECTIONS);
  // Page warnings and errors go to the test's output, where a failing CI run shows them.
  page.on('console', (m) => {
    if (m.type() === 'warning' || m.type() === 'error')
      process.stdout.write(`[page ${m.type()}] ${m.text()}\n`);
  });
  page.on('pageerror', (e) => process.stdout.write(`[page exception] ${e.message}\n`));
  return page;
}

/** Creates a meeting from the home page and returns its invite link, as shown on the pre-join page. */
export async function createMeeting(page: Page): Promise<string> {
  await page.goto('/');
  await page.getByRole('button', { name: 'New meeting' }).click();
  const link = page.getByRole('textbox', { name: 'Invite link' });
  await expect(link).toHaveValue(/\/r\/[a-z-]+#t=/);
  return link.inputValue();
}

export async function joinFromPreJoin(page: Page, name: string): Promise<void> {
  await page.getByRole('textbox', { name: 'Your name' }).fill(name);
  await page.getByRole('button', { name: 'Join' }).click();
  await expect(page.getByRole('group', { name: `${name} (you)` })).toBeVisible();
}

export async function joinByLink(page: Page, link: string, name: string): Promise<void> {
  await page.goto(link);
  await joinFromPreJoin(page, name);
}

/**
 * Average colour around the centre of each quadrant of the video in the tile named `tileName`,
 * read from the decoded picture through a canvas.
 */
export async function quadrantColours(page: Page, tileName: string): Promise<Rgb[] | null> {
  const video = page.getByRole('group', { name: tileName, exact: true }).locator('video');
  if ((await video.count()) === 0) return null;
  return video.evaluate((el: HTMLVideoElement) => {
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
  });
}

/** Bytes received so far on inbound RTP streams of a kind, over all of the page's connections. */
export async function inboundBytes(page: Page, kind: 'audio' | 'video'): Promise<number> {
  return page.evaluate(async (k) => {
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
