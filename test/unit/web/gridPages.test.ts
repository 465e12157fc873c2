// The paginated grid: how many tiles a page holds on a stage of a given size, in which shape, and
// which page is which (issue #17).
import { describe, expect, it } from 'vitest';
import {
  MIN_TILE_WIDTH,
  PAGER_HEIGHT,
  bestFit,
  clampPage,
  gridLayout,
  pageCapacity,
  pageItems,
  tileWidthFor,
} from '../../../web/src/lib/meeting/gridPages.ts';

/** Stages measured in Chromium at these window sizes (header, banners and control bar taken off). */
const WIDE = { width: 1896, height: 900 }; // 1920×1080
const LAPTOP = { width: 1256, height: 620 }; // 1280×800
const PHONE = { width: 374, height: 650 }; // 390×844
const SMALL = { width: 776, height: 420 }; // 800×600

const shape = (layout: { columns: number; rows: number }) => `${layout.columns}x${layout.rows}`;

describe('pageCapacity', () => {
  it('holds up to 25 tiles at 1920 px, fewer on smaller screens, one column on a phone', () => {
    expect(shape(pageCapacity(WIDE))).toBe('5x5');
    expect(shape(pageCapacity(LAPTOP))).toBe('4x3');
    expect(shape(pageCapacity(SMALL))).toBe('2x2');
    expect(shape(pageCapacity(PHONE))).toBe('1x3');
  });

  it('never makes a tile narrower than the usable minimum, unless even one tile cannot be', () => {
    for (const stage of [WIDE, LAPTOP, SMALL, PHONE])
      expect(pageCapacity(stage).tileWidth).toBeGreaterThanOrEqual(Math.min(MIN_TILE_WIDTH, stage.width));
    const tiny = pageCapacity({ width: 200, height: 90 });
    expect(shape(tiny)).toBe('1x1');
    expect(tiny.tileWidth).toBeCloseTo(160);
  });

  it('shows one tile on a stage not measured yet', () => {
    expect(pageCapacity({ width: 0, height: 0 })).toEqual({ columns: 1, rows: 1, tileWidth: 0 });
  });
});

describe('bestFit: the tiles fill the stage', () => {
  it('puts two people side by side and three or four in two rows, rather than one top row', () => {
    expect(shape(bestFit(LAPTOP, 2))).toBe('2x1');
    expect(shape(bestFit(LAPTOP, 3))).toBe('2x2');
    expect(shape(bestFit(LAPTOP, 4))).toBe('2x2');
    // Two side by side use the width: far larger than two rows of a square would make them.
    expect(bestFit(LAPTOP, 2).tileWidth).toBeGreaterThan(tileWidthFor(LAPTOP, 2, 2) * 1.1);
  });

  it('stacks people on a phone', () => {
    expect(shape(bestFit(PHONE, 2))).toBe('1x2');
    expect(bestFit(PHONE, 2).tileWidth).toBe(PHONE.width);
  });

  it('picks the shape of the largest tiles, without an empty row', () => {
    expect(shape(bestFit(WIDE, 5))).toBe('3x2');
    expect(shape(bestFit(WIDE, 7))).toBe('3x3');
    expect(shape(bestFit(WIDE, 1))).toBe('1x1');
    expect(shape(bestFit(WIDE, 0))).toBe('1x1');
  });
});

describe('gridLayout', () => {
  it('fits everyone on one page while they fit', () => {
    expect(gridLayout(WIDE, 25)).toMatchObject({ columns: 5, rows: 5, pageSize: 25, pageCount: 1 });
    expect(gridLayout(LAPTOP, 3)).toMatchObject({ pageSize: 3, pageCount: 1 });
  });

  it('pages the rest, every page of the same shape, in the room the pager leaves', () => {
    const paged = gridLayout(WIDE, 30);
    expect(paged).toMatchObject({ columns: 5, rows: 5, pageSize: 25, pageCount: 2 });
    expect(paged.tileWidth).toBeCloseTo(tileWidthFor({ ...WIDE, height: WIDE.height - PAGER_HEIGHT }, 5, 5));
    expect(gridLayout(LAPTOP, 30)).toMatchObject({ pageSize: 12, pageCount: 3 });
    expect(gridLayout(SMALL, 9)).toMatchObject({ columns: 2, rows: 2, pageSize: 4, pageCount: 3 });
    expect(gridLayout(PHONE, 7)).toMatchObject({ columns: 1, rows: 3, pageSize: 3, pageCount: 3 });
  });

  it('gives the pager its room only when there is more than one page', () => {
    // Four fit a 2x2 of the whole small stage; five page at 2x2 in what the pager leaves.
    expect(gridLayout(SMALL, 4).tileWidth).toBeGreaterThan(gridLayout(SMALL, 5).tileWidth);
  });

  it('changes page size with the window', () => {
    expect(gridLayout(SMALL, 9).pageSize).toBe(4);
    expect(gridLayout(LAPTOP, 9).pageSize).toBe(9);
  });
});

describe('pages', () => {
  it('clamps the page when people leave or the window grows', () => {
    expect(clampPage(3, 2)).toBe(1);
    expect(clampPage(-1, 2)).toBe(0);
    expect(clampPage(1, 0)).toBe(0);
    expect(clampPage(1, 3)).toBe(1);
  });

  it('slices a page, the last one partly filled', () => {
    const people = ['a', 'b', 'c', 'd', 'e'];
    expect(pageItems(people, 0, 2)).toEqual(['a', 'b']);
    expect(pageItems(people, 2, 2)).toEqual(['e']);
    expect(pageItems(people, 3, 2)).toEqual([]);
  });
});
