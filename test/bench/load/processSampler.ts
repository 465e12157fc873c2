// CPU time and resident memory of a process and its children (the server and its mediasoup
// workers), read from /proc once a second. Linux only, like the server's deployment target.
import fs from 'node:fs';

/** Linux's USER_HZ: /proc reports CPU time in these ticks (100 on every mainstream architecture). */
const TICKS_PER_SECOND = 100;
const PAGE_KB = 4;

export interface ProcessSample {
  /** ms since the sampler started */
  at: number;
  /** CPU seconds used so far (user + system) */
  serverCpu: number;
  workersCpu: number;
  serverRssMb: number;
  workersRssMb: number;
  workers: number;
}

interface ProcStat {
  ppid: number;
  cpuSeconds: number;
  rssMb: number;
}

function readStat(pid: number): ProcStat | undefined {
  let text: string;
  try {
    text = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined; // gone meanwhile
  }
  // The command name (field 2) may contain spaces and parentheses: the fields after it start after the last ')'.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state): ppid is field 4, utime 14, stime 15, rss (pages) 24.
  return {
    ppid: Number(fields[1]),
    cpuSeconds: (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND,
    rssMb: (Number(fields[21]) * PAGE_KB) / 1024,
  };
}

function childrenOf(pid: number): ProcStat[] {
  const children: ProcStat[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readStat(Number(entry));
    if (stat?.ppid === pid) children.push(stat);
  }
  return children;
}

/**
 * CPU seconds used so far by the processes below `root` (not `root` itself), leaving out the
 * subtrees of `except`: e.g. a test's browser, without the generator process the test also started.
 */
export function descendantsCpuSeconds(root: number, except: ReadonlySet<number> = new Set()): number {
  const stats = new Map<number, ProcStat>();
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readStat(Number(entry));
    if (stat !== undefined) stats.set(Number(entry), stat);
  }
  const below = (pid: number): boolean => {
    for (let at = stats.get(pid)?.ppid; at !== undefined && at > 0; at = stats.get(at)?.ppid) {
      if (except.has(at)) return false;
      if (at === root) return true;
    }
    return false;
  };
  let seconds = 0;
  for (const [pid, stat] of stats) if (!except.has(pid) && below(pid)) seconds += stat.cpuSeconds;
  return seconds;
}

export class ProcessSampler {
  readonly samples: ProcessSample[] = [];
  readonly #pid: number;
  readonly #started = performance.now();
  #timer: ReturnType<typeof setInterval> | undefined;

  constructor(pid: number) {
    this.#pid = pid;
  }

  start(intervalMs = 1000): void {
    this.sample();
    this.#timer = setInterval(() => this.sample(), intervalMs);
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  sample(): ProcessSample | undefined {
    const server = readStat(this.#pid);
    if (server === undefined) return undefined;
    const workers = childrenOf(this.#pid);
    const sample: ProcessSample = {
      at: performance.now() - this.#started,
      serverCpu: server.cpuSeconds,
      workersCpu: workers.reduce((sum, w) => sum + w.cpuSeconds, 0),
      serverRssMb: server.rssMb,
      workersRssMb: workers.reduce((sum, w) => sum + w.rssMb, 0),
      workers: workers.length,
    };
    this.samples.push(sample);
    return sample;
  }
}
