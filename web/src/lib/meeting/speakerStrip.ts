// Speaker view's sizes (issue #17): the featured tile large, everyone else in a strip under it that
// scrolls sideways once its tiles have shrunk to a usable minimum, rather than shrinking to nothing.
import { TILE_GAP, type StageSize } from './gridPages.ts';

/** The strip's height: 18% of the stage, within these bounds (CSS pixels). */
const STRIP_MIN_HEIGHT = 56;
const STRIP_MAX_HEIGHT = 128;
/** Strip tiles shrink to fit the width down to this, then the strip scrolls. */
export const STRIP_MIN_TILE_WIDTH = 128;
/** Room under the strip's tiles for its scrollbar, which would otherwise clip them. */
export const STRIP_SCROLLBAR_ROOM = 10;

export interface SpeakerLayout {
  stripHeight: number;
  /** A strip tile's width before shrinking (16:9 of the strip's height). */
  stripTileWidth: number;
  featuredWidth: number;
  /** Strip tiles in view at once, at most (when all have shrunk to the minimum). */
  stripCapacity: number;
}

export function speakerLayout(stage: StageSize): SpeakerLayout {
  const stripHeight = Math.min(STRIP_MAX_HEIGHT, Math.max(STRIP_MIN_HEIGHT, stage.height * 0.18));
  const stripTileWidth = (stripHeight * 16) / 9;
  const featuredWidth = Math.max(
    0,
    Math.min(stage.width, ((stage.height - stripHeight - STRIP_SCROLLBAR_ROOM - TILE_GAP) * 16) / 9),
  );
  const narrowest = Math.min(STRIP_MIN_TILE_WIDTH, stripTileWidth);
  const stripCapacity = Math.max(1, Math.floor((stage.width + TILE_GAP) / (narrowest + TILE_GAP)));
  return { stripHeight, stripTileWidth, featuredWidth, stripCapacity };
}
