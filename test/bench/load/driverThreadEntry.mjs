// The worker thread's entry: Node 20 loads a worker's entry before any --import hook runs in it,
// so TypeScript support is registered here first, then the driver thread is loaded.
import { register } from 'tsx/esm/api';

register();
await import('./driverThread.ts');
