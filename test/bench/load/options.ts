import os from 'node:os';

// The load run's knobs, from `npm run load -- --rooms 20 --participants 200 --seconds 120 --churn 2`.
export interface LoadOptions {
  /** Rooms the participants are spread over (round robin). */
  rooms: number;
  /** Participants present at once once the ramp is over: churn replaces each one that leaves. */
  participants: number;
  /** Length of the measured churn phase, after the ramp. */
  seconds: number;
  /** Leaves per second during the churn phase, each followed at once by a newcomer's join. */
  churn: number;
  /** Joins per second while the rooms fill up (the ramp before the churn phase). */
  rampPerSecond: number;
  /** Worker threads of the load generator, each driving a share of the rooms (MLS crypto is its main cost). */
  threads: number;
}

export const DEFAULT_LOAD_OPTIONS: LoadOptions = {
  rooms: 20,
  participants: 200,
  seconds: 120,
  churn: 1,
  rampPerSecond: 5,
  threads: Math.min(4, os.availableParallelism()),
};

const FLAGS: Record<string, keyof LoadOptions> = {
  '--rooms': 'rooms',
  '--participants': 'participants',
  '--seconds': 'seconds',
  '--churn': 'churn',
  '--ramp': 'rampPerSecond',
  '--threads': 'threads',
};

export const LOAD_USAGE =
  'usage: npm run load -- [--rooms 20] [--participants 200] [--seconds 120] [--churn <leaves/s, 1>] [--ramp <joins/s, 5>] [--threads <cores, max 4>]';

/** Parses `--flag value` pairs over the defaults; throws a RangeError naming the bad flag. */
export function parseLoadArgs(
  argv: readonly string[],
  base: LoadOptions = DEFAULT_LOAD_OPTIONS,
): LoadOptions {
  const options = { ...base };
  for (let i = 0; i < argv.length; i += 2) {
    const flag = argv[i]!;
    const key = FLAGS[flag];
    if (key === undefined) throw new RangeError(`unknown option ${flag}\n${LOAD_USAGE}`);
    const value = Number(argv[i + 1]);
    if (!Number.isFinite(value) || value < 0) throw new RangeError(`${flag} needs a non-negative number`);
    options[key] = value;
  }
  if (!Number.isInteger(options.rooms) || options.rooms < 1)
    throw new RangeError('--rooms must be a whole number ≥ 1');
  if (!Number.isInteger(options.participants) || options.participants < options.rooms) {
    throw new RangeError('--participants must be a whole number, at least one per room');
  }
  if (options.rampPerSecond <= 0) throw new RangeError('--ramp must be above 0');
  if (!Number.isInteger(options.threads) || options.threads < 1)
    throw new RangeError('--threads must be a whole number ≥ 1');
  return options;
}
