// The paginated grid (issue #17): how many tiles one page of the stage holds, in which shape, and
// which tiles are on which page. Pure: the stage's size in, columns, rows and tile width out.
//
// What must hold: a tile stays a usable size (MIN_TILE_WIDTH at 16:9, or the whole width of a
// narrower stage); at most 5 × 5 = 25 tiles a page; phones get one column; the tiles of a page take
// the shape that makes them largest, so two to four people fill the stage rather than a top row.

/** Between tiles, in CSS pixels: the stage's CSS uses the same (0.75rem). */
export const TILE_GAP = 12;
/** Narrower than this, a face in a 16:9 tile is hard to make out. */
export const MIN_TILE_WIDTH = 280;
export const MAX_COLUMNS = 5;
export const MAX_ROWS = 5;
/** A stage this narrow or narrower is a phone's: one column. */
export const PHONE_STAGE_WIDTH = 600;
/** The pager's row under the tiles, with its gap: the stage's CSS gives it this height. */
export const PAGER_HEIGHT = 48;

export interface StageSize {
  width: number;
  height: number;
}

export interface GridShape {
  columns: number;
  rows: number;
  /** CSS pixels; the height is 9/16 of it. */
  tileWidth: number;
}

export interface GridLayout extends GridShape {
  /** Tiles a page holds (columns × rows when paging, the whole meeting when it fits). */
  pageSize: number;
  pageCount: number;
}

/** The widest 16:9 tile that `columns` × `rows` of them, with gaps, leave room for. */
export function tileWidthFor(stage: StageSize, columns: number, rows: number): number {
  const byWidth = (stage.width - (columns - 1) * TILE_GAP) / columns;
  const byHeight = ((stage.height - (rows - 1) * TILE_GAP) / rows) * (16 / 9);
  return Math.max(0, Math.min(byWidth, byHeight));
}

/** Every shape a stage of this width may take, with its tile width. */
function shapes(stage: StageSize): GridShape[] {
  const maxColumns = stage.width <= PHONE_STAGE_WIDTH ? 1 : MAX_COLUMNS;
  const all: GridShape[] = [];
  for (let columns = 1; columns <= maxColumns; columns++)
    for (let rows = 1; rows <= MAX_ROWS; rows++)
      all.push({ columns, rows, tileWidth: tileWidthFor(stage, columns, rows) });
  return all;
}

const places = (shape: GridShape) => shape.columns * shape.rows;

/**
 * The shape that holds the most tiles of a usable size (the largest tiles among equals). A stage
 * too small for even one usable tile still shows one.
 */
export function pageCapacity(stage: StageSize): GridShape {
  const usable = Math.min(MIN_TILE_WIDTH, stage.width);
  let best: GridShape = { columns: 1, rows: 1, tileWidth: tileWidthFor(stage, 1, 1) };
  for (const shape of shapes(stage)) {
    if (shape.tileWidth < usable || shape.tileWidth <= 0) continue;
    if (places(shape) > places(best) || (places(shape) === places(best) && shape.tileWidth > best.tileWidth))
      best = shape;
  }
  return best;
}

/** For `count` tiles that fit on one page: the shape with the largest tiles, then the fewest empty places. */
export function bestFit(stage: StageSize, count: number): GridShape {
  const needed = Math.max(1, count);
  let best: GridShape | undefined;
  for (const shape of shapes(stage)) {
    if (places(shape) < needed) continue;
    if (
      best === undefined ||
      shape.tileWidth > best.tileWidth + 0.5 ||
      (Math.abs(shape.tileWidth - best.tileWidth) <= 0.5 && places(shape) < places(best))
    )
      best = shape;
  }
  return best ?? pageCapacity(stage);
}

/**
 * The grid for `count` tiles on this stage. When they all fit, they take the shape that makes them
 * largest; otherwise every page has the same shape (the tiles keep their size from page to page),
 * in the room the pager leaves.
 */
export function gridLayout(stage: StageSize, count: number): GridLayout {
  const whole = pageCapacity(stage);
  if (count <= places(whole)) return { ...bestFit(stage, count), pageSize: Math.max(1, count), pageCount: 1 };
  const paged = pageCapacity({ width: stage.width, height: Math.max(0, stage.height - PAGER_HEIGHT) });
  const pageSize = places(paged);
  return { ...paged, pageSize, pageCount: Math.ceil(count / pageSize) };
}

/** The page shown when `page` was asked for (pages count from 0): people leave, windows shrink. */
export function clampPage(page: number, pageCount: number): number {
  return Math.min(Math.max(0, page), Math.max(0, pageCount - 1));
}

/** The items on page `page` (from 0). */
export function pageItems<T>(items: readonly T[], page: number, pageSize: number): T[] {
  return items.slice(page * pageSize, (page + 1) * pageSize);
}
