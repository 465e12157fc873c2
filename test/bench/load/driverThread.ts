// A worker thread running one RoomsDriver: the run's main thread sends it the phase to run
// ('ramp', 'churn', 'settle', 'close') and gets back 'done' after each, with the results at the end.
import { parentPort, workerData } from 'node:worker_threads';
import { RoomsDriver, type DriverResult, type DriverSetup } from './RoomsDriver.ts';

export type DriverCommand =
  { phase: 'ramp' } | { phase: 'churn'; seconds: number } | { phase: 'settle' | 'close' };
export type DriverMessage =
  | { type: 'log'; line: string }
  | { type: 'result'; result: DriverResult }
  | { type: 'done'; phase: DriverCommand['phase'] }
  | { type: 'failed'; phase: DriverCommand['phase']; message: string };

const port = parentPort!;
const driver = new RoomsDriver(workerData as DriverSetup, (line) =>
  port.postMessage({ type: 'log', line } satisfies DriverMessage),
);

port.on('message', (command: DriverCommand) => {
  void run(command).then(
    () => port.postMessage({ type: 'done', phase: command.phase } satisfies DriverMessage),
    (error: unknown) =>
      port.postMessage({
        type: 'failed',
        phase: command.phase,
        message: String(error),
      } satisfies DriverMessage),
  );
});

async function run(command: DriverCommand): Promise<void> {
  switch (command.phase) {
    case 'ramp':
      return driver.ramp();
    case 'churn':
      return driver.churn(command.seconds);
    case 'settle':
      return driver.settle();
    case 'close':
      driver.close();
      port.postMessage({ type: 'result', result: driver.result } satisfies DriverMessage);
      return;
  }
}
