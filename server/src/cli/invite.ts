// `npm run invite -- --room <room> --name <name> [--host] [--hours <n>]`: prints an invite link for one
// named person. It signs with the same secret as the server (CONCLAVE_TOKEN_SECRET or the data
// directory's generated secret), so run it with the server's environment.
import { parseArgs } from 'node:util';
import { loadOrCreateTokenSecret } from '../auth/secret.ts';
import { ROOM_ID_PATTERN, TokenAuthority, newUserId } from '../auth/tokens.ts';
import { ConfigError, loadConfig } from '../config.ts';
import { inviteUrl } from '../http/api.ts';

const USAGE = 'usage: npm run invite -- --room <room> --name <name> [--host] [--hours <hours, default 24>]';

function fail(message: string): never {
  console.error(`${message}\n${USAGE}`);
  process.exit(2);
}

let args;
try {
  args = parseArgs({
    options: {
      room: { type: 'string' },
      name: { type: 'string' },
      hours: { type: 'string' },
      host: { type: 'boolean' },
    },
    strict: true,
  }).values;
} catch (error) {
  fail((error as Error).message);
}
if (args.room === undefined || !ROOM_ID_PATTERN.test(args.room)) {
  fail('--room takes 3 to 64 lowercase letters, digits and dashes');
}
if (args.name === undefined) fail('--name is required');
const hours = args.hours === undefined ? 24 : Number(args.hours);
if (!Number.isFinite(hours) || hours <= 0 || hours > 24 * 30) fail('--hours takes a number from 0 to 720');

let config;
try {
  config = loadConfig();
} catch (error) {
  if (error instanceof ConfigError) fail(error.message);
  throw error;
}
const secret = loadOrCreateTokenSecret(config.dataDir, config.tokenSecret);
const tokens = new TokenAuthority(secret, {
  inviteSeconds: config.inviteTtlSeconds,
  sessionSeconds: config.sessionTtlSeconds,
});
try {
  const invite = await tokens.mintInvite(
    { room: args.room, name: args.name, sub: newUserId(), host: args.host === true },
    Math.round(hours * 3600),
  );
  console.log(
    `${args.host === true ? 'Host invite' : 'Invite'} for ${args.name} to ${args.room}, valid ${hours} h:`,
  );
  console.log(inviteUrl(config.publicUrl, args.room, invite));
} catch (error) {
  fail((error as Error).message);
}
