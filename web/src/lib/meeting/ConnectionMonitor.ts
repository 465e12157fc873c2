// Reads every participant's WebRTC statistics every few seconds and keeps their connection quality
// (connectionQuality.ts) on the Participant, where tiles show it.
import type { MeetingSession } from './MeetingSession.svelte.ts';
import { summarizeStats, type PacketCounters, type StatsEntry } from './connectionQuality.ts';

/** Often enough to notice a bad patch, seldom enough to cost nothing (getStats is not free). */
export const CONNECTION_POLL_MS = 2_000;

export class ConnectionMonitor {
  readonly #session: MeetingSession;
  readonly #counters = new Map<string, PacketCounters>();
  #timer: ReturnType<typeof setInterval> | undefined;
  #reading = false;

  constructor(session: MeetingSession) {
    this.#session = session;
  }

  start(): void {
    this.#timer = setInterval(() => void this.#sample(), CONNECTION_POLL_MS);
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  async #sample(): Promise<void> {
    if (this.#reading || this.#session.status !== 'joined') return;
    this.#reading = true;
    try {
      const stats = await this.#session.streamStats();
      for (const participant of this.#session.participants) {
        const reports = stats.get(participant.peerId) ?? [];
        const { quality, counters } = summarizeStats(
          reports.map((report) => [...report.values()] as StatsEntry[]),
          this.#counters.get(participant.peerId),
        );
        this.#counters.set(participant.peerId, counters);
        participant.connection = quality;
      }
    } finally {
      this.#reading = false;
    }
  }
}
