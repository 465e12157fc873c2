import { writeMediaFixtures } from '../fixtures/media.ts';

export default function globalSetup(): void {
  writeMediaFixtures();
}
