// What the bench's servers in child processes share (serverProcess.ts, large/keyServiceProcess.ts):
// stopping one, and telling its error lines from the rest of its output.
import type { ChildProcess } from 'node:child_process';

/** pino's numeric level of `error`: such a line in a server's output counts as an error of the run. */
const PINO_ERROR = 50;

/** SIGTERM (the server closes what it holds), SIGKILL after 10 s; resolves once it has exited. */
export async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

/**
 * A pino record at error level or above, or a line that is no log record (a stack trace) and not
 * one of `expected` (Node's experimental warnings always are).
 */
export function isErrorLine(line: string, expected?: RegExp): boolean {
  if (line.trim() === '') return false;
  try {
    const level = (JSON.parse(line) as { level?: unknown }).level;
    return typeof level === 'number' && level >= PINO_ERROR;
  } catch {
    return !/ExperimentalWarning|--trace-warnings/.test(line) && !(expected?.test(line) ?? false);
  }
}
