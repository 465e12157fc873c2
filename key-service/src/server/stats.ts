// Counts the key service keeps for monitoring: commits accepted (each one is a new epoch) and what
// it refused, by error code. Counts only; nothing about who or what.
export interface KeyServiceStatsSnapshot {
  rooms: number;
  sockets: number;
  /** Commits accepted since start: epochs the service has moved rooms' groups to. */
  commits: number;
  commitRejections: Record<string, number>;
  /** Commits and proposals the membership policy refused, by violation code (membership-policy.ts). */
  policyRefusals: Record<string, number>;
  requestRejections: Record<string, number>;
  handshakeRefusals: Record<string, number>;
}

export class KeyServiceStats {
  commits = 0;
  readonly commitRejections = new Map<string, number>();
  readonly policyRefusals = new Map<string, number>();
  readonly requestRejections = new Map<string, number>();
  readonly handshakeRefusals = new Map<string, number>();

  static count(into: Map<string, number>, code: string): void {
    into.set(code, (into.get(code) ?? 0) + 1);
  }

  snapshot(rooms: number, sockets: number): KeyServiceStatsSnapshot {
    return {
      rooms,
      sockets,
      commits: this.commits,
      commitRejections: Object.fromEntries(this.commitRejections),
      policyRefusals: Object.fromEntries(this.policyRefusals),
      requestRejections: Object.fromEntries(this.requestRejections),
      handshakeRefusals: Object.fromEntries(this.handshakeRefusals),
    };
  }
}
