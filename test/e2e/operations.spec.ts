// What an operator relies on, with real Chromium and real media: the built app works under the
// server's strict Content-Security-Policy (the page reports no violation through a whole meeting,
// crypto worker and all), the security headers reach the browser, and /metrics shows the meeting's
// media as the SFU sees it (RTP streams, packets, jitter, and each participant's call setup).
import { expect, test, type Page } from '@playwright/test';
import { parsePrometheusText, sampleValue } from '../support/prometheusText.ts';
import { startInProcessServer, type InProcessServer } from '../support/inProcessServer.ts';
import { closeParticipantPages, expectFixtureVideo, joinByLink, newParticipantPage } from './helpers.ts';

test.afterEach(closeParticipantPages);

let conclave: InProcessServer;
test.beforeAll(async () => {
  conclave = await startInProcessServer();
});
test.afterAll(async () => {
  await conclave?.close();
});

/** Collects the page's CSP violation reports (the browser fires them on document). */
const RECORD_CSP_VIOLATIONS = () => {
  const violations: string[] = [];
  (window as unknown as { __cspViolations: string[] }).__cspViolations = violations;
  document.addEventListener('securitypolicyviolation', (e) =>
    violations.push(`${e.effectiveDirective} blocked ${e.blockedURI} (${e.sourceFile}:${e.lineNumber})`),
  );
};

async function cspViolations(page: Page): Promise<string[]> {
  return page.evaluate(() => (window as unknown as { __cspViolations: string[] }).__cspViolations);
}

async function metrics() {
  const response = await fetch(`${conclave.baseUrl}/metrics`);
  expect(response.status).toBe(200);
  return parsePrometheusText(await response.text());
}

test('the app runs a meeting under its CSP, and /metrics shows the media', async ({ browser }) => {
  const { inviteLink } = await conclave.newMeeting();
  const alice = await newParticipantPage(browser, { init: RECORD_CSP_VIOLATIONS });
  const bob = await newParticipantPage(browser, { init: RECORD_CSP_VIOLATIONS });
  const documents: Record<string, string>[] = [];
  alice.on('response', (response) => {
    if (response.request().resourceType() === 'document') documents.push(response.headers());
  });

  await joinByLink(alice, inviteLink, 'Alice');
  await joinByLink(bob, inviteLink, 'Bob');
  await expectFixtureVideo(bob, 'Alice', 'Bob');
  await expectFixtureVideo(alice, 'Bob', 'Alice');

  // The headers the browser got with the app.
  const headers = documents[0];
  expect(headers?.['content-security-policy']).toMatch(/script-src 'self';/);
  expect(headers?.['content-security-policy']).toMatch(/worker-src 'self';/);
  expect(headers?.['content-security-policy']).not.toMatch(/unsafe-eval|script-src[^;]*unsafe-inline/);
  expect(headers?.['x-content-type-options']).toBe('nosniff');
  expect(headers?.['referrer-policy']).toBe('no-referrer');
  expect(headers?.['cross-origin-opener-policy']).toBe('same-origin');

  // The SFU's view, while both send and receive: streams in (two participants, audio and video)
  // and out, packets flowing, jitter measured, and every participant's setup timed to media.
  // Polled until packets have flowed for a while: the outbound streams appear at once, their packet
  // counts take a second or two (a CI run read 65 right after the fourth stream appeared).
  await expect
    .poll(
      async () => {
        const sample = await metrics();
        const streams = sampleValue(sample, 'conclave_rtp_streams', { direction: 'outbound' }) ?? 0;
        return streams >= 4
          ? (sampleValue(sample, 'conclave_rtp_packets', { direction: 'outbound' }) ?? 0)
          : 0;
      },
      { message: 'the SFU forwards packets on streams to both participants' },
    )
    .toBeGreaterThan(100);
  const seen = await metrics();
  const value = (family: string, labels: Record<string, string> = {}, name?: string) =>
    sampleValue(seen, family, labels, name);
  expect(value('conclave_rooms')).toBe(1);
  expect(value('conclave_peers')).toBe(2);
  expect(value('conclave_producers', { kind: 'audio' })).toBe(2);
  expect(value('conclave_producers', { kind: 'video' })).toBe(2);
  expect(value('conclave_rtp_streams', { direction: 'inbound' })).toBeGreaterThanOrEqual(4);
  expect(value('conclave_rtp_packets', { direction: 'inbound' })).toBeGreaterThan(100);
  expect(value('conclave_rtp_packets', { direction: 'outbound' })).toBeGreaterThan(100);
  // Video at any bitrate a camera sends is well above 10 kbit/s each way.
  expect(value('conclave_rtp_bitrate_bits_per_second', { direction: 'inbound' })).toBeGreaterThan(10_000);
  expect(value('conclave_rtp_bitrate_bits_per_second', { direction: 'outbound' })).toBeGreaterThan(10_000);
  expect(value('conclave_rtp_jitter_seconds', { direction: 'inbound', stat: 'max' })).toBeGreaterThan(0);
  expect(value('conclave_rtp_jitter_seconds', { direction: 'inbound', stat: 'max' })).toBeLessThan(1);
  const fractionLost = value('conclave_rtp_fraction_lost', { direction: 'inbound' }) ?? -1;
  expect(fractionLost).toBeGreaterThanOrEqual(0);
  expect(fractionLost).toBeLessThanOrEqual(1);
  const mediaConnected = value(
    'conclave_call_setup_seconds',
    { stage: 'media-connected' },
    'conclave_call_setup_seconds_count',
  );
  expect(mediaConnected).toBeGreaterThanOrEqual(2);
  expect(value('conclave_keys_epochs_total')).toBeGreaterThanOrEqual(1);

  // Nothing the app did was blocked by its policy.
  expect(await cspViolations(alice)).toEqual([]);
  expect(await cspViolations(bob)).toEqual([]);
});
