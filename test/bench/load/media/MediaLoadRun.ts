// `npm run load -- --media`: simulated participants with real media (test/support/media/) against
// the server in its own process, stepped up room by room until the receivers see ≥ 1 % loss (or
// the generator saturates, or --max-rooms is reached). Each step measures, over --step-seconds:
// packets forwarded (counted at the receivers), their loss from RTP sequence numbers, the consumers
// open, and the CPU of the mediasoup workers, of the server's Node process and of this generator
// process, apart. The figures come from the last step under 1 % loss; see docs/media-load.md.
import os from 'node:os';
import type { Metric } from '../../metric.ts';
import { MediaClock, startMediaRoom, type MediaRoom } from '../../../support/media/mediaRoom.ts';
import { ProcessSampler } from '../processSampler.ts';
import { ServerProcess } from '../serverProcess.ts';
import { cpuPercent } from '../stats.ts';

export interface MediaLoadOptions {
  /** Participants per room (10: the "10-person meetings"). */
  roomSize: number;
  /** Rooms added at each step. */
  stepRooms: number;
  /** Measured seconds per step (after a warm-up of WARM_UP_MS). */
  stepSeconds: number;
  maxRooms: number;
  audioOnly: boolean;
  log: (line: string) => void;
}

export const DEFAULT_MEDIA_LOAD: Omit<MediaLoadOptions, 'log'> = {
  roomSize: 10,
  stepRooms: 2,
  stepSeconds: 15,
  maxRooms: 40,
  audioOnly: false,
};

const LOSS_LIMIT = 0.01;
const WARM_UP_MS = 3000;
/** A generator that skipped this share of its ticks no longer sends at the nominal rates. */
const GENERATOR_SKIP_LIMIT = 0.1;
const DEVICES_PER_ROOM = 1000;

interface StepFigures {
  rooms: number;
  participants: number;
  consumers: number;
  seconds: number;
  forwardedPerSecond: number;
  loss: number;
  workersCpuPercent: number;
  serverCpuPercent: number;
  generatorCpuPercent: number;
  skippedTickShare: number;
  errors: number;
}

export async function runMediaLoad(options: MediaLoadOptions): Promise<Metric[]> {
  const { log } = options;
  const server = await ServerProcess.start({
    env: {
      CONCLAVE_LOAD_PLAIN_TRANSPORTS: '1',
      CONCLAVE_MAX_TRANSPORTS: '100000',
      CONCLAVE_MAX_PEERS_PER_ROOM: String(Math.max(options.roomSize, 2)),
    },
  });
  const sampler = new ProcessSampler(server.pid);
  sampler.start();
  const clock = new MediaClock();
  const rooms: MediaRoom[] = [];
  const steps: StepFigures[] = [];
  let limit = 'max-rooms';
  try {
    log(
      `server ${server.url} (pid ${server.pid}); ${os.availableParallelism()} cores; ` +
        `${options.audioOnly ? 'audio only' : 'audio + VP8 simulcast'}, rooms of ${options.roomSize}`,
    );
    steps: while (rooms.length < options.maxRooms) {
      for (let r = 0; r < options.stepRooms && rooms.length < options.maxRooms; r++) {
        try {
          rooms.push(
            await startMediaRoom(
              {
                serverUrl: server.url,
                participants: options.roomSize,
                audioOnly: options.audioOnly,
                firstDevice: 1 + rooms.length * DEVICES_PER_ROOM,
              },
              clock,
            ),
          );
        } catch (error) {
          // A join that does not finish (a request past its timeout on a saturated machine) is a
          // limit like loss: the steps measured before it are the run's figures.
          log(`room ${rooms.length + 1} did not start: ${(error as Error).message}`);
          limit = 'join';
          break steps;
        }
      }
      await new Promise((resolve) => setTimeout(resolve, WARM_UP_MS));
      const step = await measureStep(rooms, sampler, clock, options.stepSeconds);
      steps.push(step);
      log(
        `${step.participants} participants in ${step.rooms} rooms: ${step.consumers} consumers, ` +
          `${Math.round(step.forwardedPerSecond)} packets/s forwarded, loss ${(step.loss * 100).toFixed(2)} %, ` +
          `workers ${step.workersCpuPercent.toFixed(0)} %, server ${step.serverCpuPercent.toFixed(0)} %, ` +
          `generator ${step.generatorCpuPercent.toFixed(0)} % of a core, ticks skipped ${(step.skippedTickShare * 100).toFixed(1)} %`,
      );
      // A generator that cannot keep its clock cannot read its sockets either: the loss it then
      // sees is its own receive buffers overflowing, not the SFU's.
      if (generatorSaturated(step)) {
        limit = 'generator';
        break;
      }
      if (step.loss >= LOSS_LIMIT) {
        limit = 'loss';
        break;
      }
    }
  } finally {
    clock.stop();
    for (const room of rooms) await room.stop();
    sampler.stop();
    await server.stop();
  }
  log(`stopped by: ${limit}`);
  return figures(steps, limit, options);
}

async function measureStep(
  rooms: MediaRoom[],
  sampler: ProcessSampler,
  clock: MediaClock,
  seconds: number,
): Promise<StepFigures> {
  const before = counts(rooms);
  const start = sampler.sample()!;
  const cpuStart = process.cpuUsage();
  const skippedStart = clock.skipped;
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
  const after = counts(rooms);
  const end = sampler.sample()!;
  const cpu = process.cpuUsage(cpuStart);
  const elapsed = (end.at - start.at) / 1000;
  const received = after.received - before.received;
  const expected = after.expected - before.expected;
  return {
    rooms: rooms.length,
    participants: rooms.reduce((n, r) => n + r.participants.length, 0),
    consumers: after.consumers,
    seconds: elapsed,
    forwardedPerSecond: received / elapsed,
    loss: expected === 0 ? 0 : Math.max(0, 1 - received / expected),
    workersCpuPercent: cpuPercent(start, end, 'workersCpu'),
    serverCpuPercent: cpuPercent(start, end, 'serverCpu'),
    generatorCpuPercent: ((cpu.user + cpu.system) / 1e6 / elapsed) * 100,
    skippedTickShare: (clock.skipped - skippedStart) / (elapsed * 50),
    errors: rooms.reduce((n, r) => n + Object.values(r.errors).reduce((m, e) => m + e.count, 0), 0),
  };
}

function generatorSaturated(step: StepFigures): boolean {
  return step.skippedTickShare > GENERATOR_SKIP_LIMIT;
}

function counts(rooms: MediaRoom[]): { received: number; expected: number; consumers: number } {
  let received = 0;
  let expected = 0;
  let consumers = 0;
  for (const room of rooms) {
    for (const p of room.participants) {
      consumers += p.consumerCount;
      for (const s of p.received()) {
        received += s.count.received;
        expected += s.count.expected;
      }
    }
  }
  return { received, expected, consumers };
}

function figures(steps: StepFigures[], limit: string, options: MediaLoadOptions): Metric[] {
  const good = steps.filter((s) => s.loss < LOSS_LIMIT && !generatorSaturated(s)).at(-1);
  const lossStart = steps.find((s) => s.loss >= LOSS_LIMIT && !generatorSaturated(s));
  const kind = options.audioOnly ? 'audio' : 'video';
  const metrics: Metric[] = [
    { metric: 'media.limit_loss', value: limit === 'loss' ? 1 : 0, unit: 'bool' },
    { metric: 'media.limit_generator', value: limit === 'generator' ? 1 : 0, unit: 'bool' },
    { metric: 'media.limit_join', value: limit === 'join' ? 1 : 0, unit: 'bool' },
    { metric: 'media.steps', value: steps.length, unit: 'steps' },
  ];
  if (lossStart !== undefined) {
    metrics.push({
      metric: 'media.loss_start_participants',
      value: lossStart.participants,
      unit: 'participants',
    });
    metrics.push({ metric: 'media.loss_start_consumers', value: lossStart.consumers, unit: 'consumers' });
  }
  if (good === undefined) return metrics;
  const workerCores = good.workersCpuPercent / 100;
  const perCore = (n: number) => (workerCores > 0 ? n / workerCores : 0);
  metrics.push(
    { metric: 'media.participants', value: good.participants, unit: 'participants' },
    { metric: 'media.consumers', value: good.consumers, unit: 'consumers' },
    { metric: 'media.loss_percent', value: good.loss * 100, unit: '%' },
    { metric: 'media.forwarded_packets_per_second', value: good.forwardedPerSecond, unit: 'packets/s' },
    { metric: 'media.consumers_per_core', value: perCore(good.consumers), unit: 'consumers/core' },
    {
      metric: 'media.worker_cpu_us_per_packet',
      value: good.forwardedPerSecond > 0 ? (workerCores * 1e6) / good.forwardedPerSecond : 0,
      unit: 'µs/packet',
    },
    {
      metric: `media.participants_per_core@${kind}${options.roomSize}`,
      value: perCore(good.participants),
      unit: 'participants/core',
    },
    { metric: 'media.workers_cpu_percent', value: good.workersCpuPercent, unit: '% of a core' },
    { metric: 'media.server_cpu_percent', value: good.serverCpuPercent, unit: '% of a core' },
    { metric: 'media.generator_cpu_percent', value: good.generatorCpuPercent, unit: '% of a core' },
    { metric: 'media.generator_ticks_skipped_percent', value: good.skippedTickShare * 100, unit: '%' },
    { metric: 'media.errors', value: good.errors, unit: 'errors' },
  );
  return metrics;
}
