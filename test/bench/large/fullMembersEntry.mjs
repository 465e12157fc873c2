// The full members' worker thread entry: Node 20 loads a worker's entry before any --import hook
// runs in it, so TypeScript support is registered here first (as load/driverThreadEntry.mjs does).
import { register } from 'tsx/esm/api';

register();
await import('./fullMembersThread.ts');
