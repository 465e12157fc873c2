// The browser every test and benchmark drives: Debian's Chromium (never a downloaded one), with the
// fake camera and microphone fed from the fixture files, so pictures and sound are known.
import { AUDIO_FIXTURE, VIDEO_FIXTURE } from '../fixtures/media.ts';

export const CHROMIUM = process.env['CONCLAVE_CHROMIUM'] ?? '/usr/bin/chromium';

/** Launch arguments: fixture media without permission prompts, and nothing that talks to Google. */
export const CHROMIUM_ARGS = [
  '--use-fake-ui-for-media-stream',
  '--use-fake-device-for-media-stream',
  `--use-file-for-fake-video-capture=${VIDEO_FIXTURE}`,
  `--use-file-for-fake-audio-capture=${AUDIO_FIXTURE}`,
  '--autoplay-policy=no-user-gesture-required',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
];
