import fs from 'node:fs';
import { E2E_DATA_DIR } from './env.ts';
import { writeMediaFixtures } from '../fixtures/media.ts';

export default function globalSetup(): void {
  writeMediaFixtures();
  fs.rmSync(E2E_DATA_DIR, { recursive: true, force: true });
}
