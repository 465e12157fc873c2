// `npm run invite -- --room <room> --name <name> [--host] [--uses <n>] [--hours <n>]`: prints an
// invite link for one named person, and the invite's id. It signs with the same secret as the server
// (CONCLAVE_TOKEN_SECRET or the data directory's generated secret), so run it with the server's
// environment. It writes nothing but the secret: the running server counts uses (docs/invites.md).
import { parseArgs } from 'node:util';
import { loadOrCreateTokenSecret } from '../auth/secret.ts';
import { MAX_INVITE_USES, ROOM_ID_PATTERN, TokenAuthority, newUserId } from '../auth/tokens.ts';
import { ConfigError, loadConfig } from '../config.ts';
import { inviteUrl } from '../http/api.ts';

const USAGE = `usage: npm run invite -- --room <room> --name <name> [--host] [--uses <n>] [--hours <h>]
  --room   the meeting: 3 to 64 lowercase letters, digits and dashes
  --name   the person's display name; it is fixed: they cannot change it
  --host   the person may create the meeting's group, and so become its first host
  --uses   at most this many people (sessions from distinct joins) may use the link; renewals and
           reconnections of someone already in do not count. Default: no limit until it expires
  --hours  how long the link is valid, up to 720 (default 24)
The invite id printed with the link is what revocation names (docs/invites.md).`;

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
      uses: { type: 'string' },
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
const uses = args.uses === undefined ? undefined : Number(args.uses);
if (uses !== undefined && (!/^[0-9]+$/.test(args.uses ?? '') || uses < 1 || uses > MAX_INVITE_USES)) {
  fail(`--uses takes a whole number from 1 to ${MAX_INVITE_USES}`);
}

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
  const invite = await tokens.mintInviteWithId(
    {
      room: args.room,
      name: args.name,
      sub: newUserId(),
      host: args.host === true,
      ...(uses === undefined ? {} : { uses }),
    },
    Math.round(hours * 3600),
  );
  const limit = uses === undefined ? '' : `, for ${uses} ${uses === 1 ? 'person' : 'people'}`;
  console.log(
    `${args.host === true ? 'Host invite' : 'Invite'} for ${args.name} to ${args.room}, valid ${hours} h${limit} (invite id ${invite.jti}):`,
  );
  console.log(inviteUrl(config.publicUrl, args.room, invite.token));
} catch (error) {
  fail((error as Error).message);
}
