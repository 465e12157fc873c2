// The media load run's flags: `--media` (required to get here), `--audio-only`, and number flags.
import type { MediaLoadOptions } from './MediaLoadRun.ts';

type NumberKey = 'roomSize' | 'stepRooms' | 'stepSeconds' | 'maxRooms';
const NUMBER_FLAGS: Record<string, NumberKey> = {
  '--room-size': 'roomSize',
  '--step-rooms': 'stepRooms',
  '--step-seconds': 'stepSeconds',
  '--max-rooms': 'maxRooms',
};

export const MEDIA_LOAD_USAGE =
  'usage: npm run load -- --media [--audio-only] [--room-size 10] [--step-rooms 2] [--step-seconds 15] [--max-rooms 40]';

/** Parses the flags; throws a RangeError naming the bad one. */
export function parseMediaLoadArgs(argv: readonly string[]): Partial<Omit<MediaLoadOptions, 'log'>> {
  const options: Partial<Omit<MediaLoadOptions, 'log'>> = {};
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    if (flag === '--media') continue;
    if (flag === '--audio-only') {
      options.audioOnly = true;
      continue;
    }
    const key = NUMBER_FLAGS[flag];
    if (key === undefined) throw new RangeError(`unknown option ${flag}\n${MEDIA_LOAD_USAGE}`);
    const value = Number(argv[++i]);
    if (!Number.isInteger(value) || value < 1) throw new RangeError(`${flag} needs a whole number ≥ 1`);
    options[key] = value;
  }
  if (options.roomSize !== undefined && options.roomSize < 2) throw new RangeError('--room-size must be ≥ 2');
  return options;
}
