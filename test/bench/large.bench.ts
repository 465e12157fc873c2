// MLS in a room of 100 (issue #17), against the standalone key service in its own process. Metrics
// (large.*):
// - join_storm.{p50,p95,max}_ms: `--joins` people (100) joining one room at random moments within
//   `--seconds` (20), each from the KeyClient's start until it holds the group's keys; target: p95
//   ≤ 5000 ms with 0 errors. join_storm.errors counts failed joins, client warnings, a service epoch
//   other than one per join, and full members that disagree at the end; key_service_cpu_percent and
//   generator_cpu_percent say which side the time went to (large/joinStorm.ts);
// - rekey_all_ms@100 and @200: in one room of that many members, a member's empty commit (fresh path
//   secrets) from its start until the last member's socket has it, plus the slowest sampled member's
//   processing (each member processes on its own device); target ≤ 1000 ms at 100. Its parts:
//   rekey_fanout_ms, rekey_process_ms (large/roomRekey.ts).
//
// Options after the filter: npm run bench -- large --joins 100 --seconds 20 --full 2 --seed 17
// (--rekey 0 runs the storm alone)
import { noteMachineLoad } from './machine.ts';
import type { Benchmark, Metric } from './metric.ts';
import { runJoinStorm } from './large/joinStorm.ts';
import { KeyServiceProcess } from './large/keyServiceProcess.ts';
import { runRoomRekey } from './large/roomRekey.ts';

const REKEY_SIZES = [100, 200];

function option(argv: string[], name: string, fallback: number): number {
  const at = argv.indexOf(`--${name}`);
  if (at < 0) return fallback;
  const value = Number(argv[at + 1]);
  if (!Number.isFinite(value) || value < 0) throw new RangeError(`--${name} takes a number`);
  return value;
}

const bench: Benchmark = {
  name: 'MLS in a room of 100: a join storm and the in-room rekey, against the key service process',
  reproduce:
    'npm run bench -- large [--joins 100 --seconds 20 --full 2 --seed N] (alone on the machine: the ' +
    'generator and the key service share its cores)',
  async run() {
    const argv = process.argv.slice(3);
    const log = (line: string) => console.error(`# ${line}`);
    const seed = option(argv, 'seed', Date.now() % 2 ** 31);
    const storm = {
      joins: option(argv, 'joins', 100),
      seconds: option(argv, 'seconds', 20),
      full: option(argv, 'full', 2),
      seed,
      log,
    };
    log(
      `join storm: ${storm.joins} joins within ${storm.seconds} s, ${storm.full} full joiners, seed ${seed}`,
    );
    const metrics: Metric[] = [];
    const service = await KeyServiceProcess.start();
    try {
      noteMachineLoad('before the join storm');
      metrics.push(...(await runJoinStorm(service, storm)));
      noteMachineLoad('after the join storm');
      if (option(argv, 'rekey', 1) !== 0) {
        for (const size of REKEY_SIZES) metrics.push(...(await runRoomRekey(service, size, log)));
      }
      noteMachineLoad('after the rekeys');
      if (service.errorLines.length > 0)
        log(`key service errors: ${service.errorLines.slice(0, 3).join(' | ')}`);
      metrics.push({
        metric: 'large.key_service_error_lines',
        value: service.errorLines.length,
        unit: 'lines',
      });
    } finally {
      await service.stop();
    }
    return metrics;
  },
};
export default bench;
