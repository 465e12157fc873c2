// Which SFrame KIDs an MLS epoch gives each stream (RFC 9605 §5.2):
//   KID = (context << (S + E)) + (leaf_index << E) + (epoch mod 2^E)
// S is the smallest number of bits that holds every leaf index of the epoch's tree, so every member
// of an epoch computes the same S from the same roster.
import {
  MEDIA_SOURCES,
  STREAM_CONTEXTS,
  mlsIndexBits,
  mlsKid,
  type MediaSource,
} from '@conclave/crypto-worker/sframe';

export interface EpochRoster {
  epoch: bigint;
  ownLeafIndex: number;
  members: ReadonlyArray<{ leafIndex: number; userId: string }>;
}

export interface ReceiverKid {
  kid: bigint;
  userId: string;
  context: MediaSource;
}

/** S for this epoch: enough bits for the highest leaf index in the tree (ours included). */
export function indexBitsOf(roster: EpochRoster): number {
  const highest = Math.max(roster.ownLeafIndex, ...roster.members.map((m) => m.leafIndex));
  return mlsIndexBits(highest + 1);
}

function kidOf(roster: EpochRoster, leafIndex: number, context: MediaSource, indexBits: number): bigint {
  return mlsKid({
    context: STREAM_CONTEXTS[context],
    index: BigInt(leafIndex),
    epoch: roster.epoch,
    indexBits,
  });
}

/** The KID each of our own streams sends under in this epoch. */
export function senderKids(roster: EpochRoster): Record<MediaSource, bigint> {
  const bits = indexBitsOf(roster);
  const kids = {} as Record<MediaSource, bigint>;
  for (const context of MEDIA_SOURCES) kids[context] = kidOf(roster, roster.ownLeafIndex, context, bits);
  return kids;
}

/** Every other member's streams in this epoch, with the user each KID belongs to. */
export function receiverKids(roster: EpochRoster): ReceiverKid[] {
  const bits = indexBitsOf(roster);
  return roster.members
    .filter((m) => m.leafIndex !== roster.ownLeafIndex)
    .flatMap((m) =>
      MEDIA_SOURCES.map((context) => ({
        kid: kidOf(roster, m.leafIndex, context, bits),
        userId: m.userId,
        context,
      })),
    );
}
