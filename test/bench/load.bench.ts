// Load: many rooms of simulated participants (signaling + real MLS clients in Node, no media engine)
// against the real server in its own process, with join/leave churn for a fixed time on loopback.
// See test/bench/load/LoadRun.ts for what a run does and SimulatedParticipant.ts for what each
// participant does. Metrics (load.*):
// - join_ms.{p50,p95,p99,max}: churn-phase joins, from the session request to being in the SFU room
//   and holding the group's epoch; join_signaling_ms / join_mls_ms split it (the two run in
//   parallel after the session); ramp_join_ms: the joins that filled the rooms;
// - leave_to_removal_ms: a leave until every remaining member of its room holds an epoch without it
//   (the server sees the socket go, the key service asks a member to commit, the others process it);
// - errors and errors.<kind>: anything that failed (a refused request, a timeout, an MLS warning, a
//   removal that never came, a room whose members disagree at the end, an error in the server's log);
// - server_cpu_percent / workers_cpu_percent (mediasoup) / generator_cpu_percent: over the churn
//   phase, % of one core; server_rss_mb / workers_rss_mb at its end; rss_start_mb, rss_end_mb,
//   rss_growth_mb, rss_slope_mb_per_min and memory_grew (1 when it did) judge memory growth as
//   MEMORY_GROWTH_RULE in load/stats.ts defines;
// - generator_loop_delay_p99_ms: the worst generator thread's event-loop delay during the churn;
//   above 200 ms the generator, not the server, limits the latencies (the run says so).
//
// Options after the filter: npm run bench -- load --rooms 20 --participants 200 --seconds 120 --churn 1
// (npm run load -- <options> is the same).
//
// With --media (test/bench/load/media/MediaLoadRun.ts, docs/media-load.md): real SRTP media through
// the SFU, stepped up until loss ≥ 1 %: npm run load -- --media [--audio-only] [--room-size 10]
// [--step-rooms 2] [--step-seconds 15] [--max-rooms 40]. Metrics (media.*): consumers_per_core,
// worker_cpu_us_per_packet, forwarded_packets_per_second, loss_start_participants,
// participants_per_core@video10 (or @audio10), and the CPU of workers, server and generator apart.
import type { Benchmark } from './metric.ts';
import { noteMachineLoad } from './machine.ts';
import { runLoad } from './load/LoadRun.ts';
import { parseLoadArgs } from './load/options.ts';
import { DEFAULT_MEDIA_LOAD, runMediaLoad } from './load/media/MediaLoadRun.ts';
import { parseMediaLoadArgs } from './load/media/mediaOptions.ts';

const bench: Benchmark = {
  name: 'Load: simulated participants (signaling + MLS) with join/leave churn against the server process',
  reproduce:
    'npm run load -- --rooms 20 --participants 200 --seconds 120 --churn 1 --ramp 5 (the defaults); ' +
    'alone on the machine: the generator and the server share its cores',
  async run() {
    // run.ts takes the name filter from argv[2]; the load options follow it.
    const argv = process.argv.slice(3);
    if (argv.includes('--media')) {
      const media = { ...DEFAULT_MEDIA_LOAD, ...parseMediaLoadArgs(argv) };
      noteMachineLoad('before the media load run');
      const metrics = await runMediaLoad({ ...media, log: (line) => console.error(`# ${line}`) });
      noteMachineLoad('after the media load run');
      return metrics;
    }
    const options = parseLoadArgs(argv);
    noteMachineLoad('before the load run');
    console.error(
      `# ${options.participants} participants in ${options.rooms} rooms (ramp ${options.rampPerSecond} joins/s), ` +
        `then ${options.seconds} s of churn at ${options.churn} leaves/s; ${options.threads} generator threads`,
    );
    const { metrics } = await runLoad({ ...options, log: (line) => console.error(`# ${line}`) });
    noteMachineLoad('after the load run');
    return metrics;
  },
};
export default bench;
