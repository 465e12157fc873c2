// Speaker view's sizes: the featured tile as large as the stage leaves, the strip at 18% of the
// height within bounds, and how many strip tiles are in view before it scrolls.
import { describe, expect, it } from 'vitest';
import { STRIP_MIN_TILE_WIDTH, speakerLayout } from '../../../web/src/lib/meeting/speakerStrip.ts';

describe('speakerLayout', () => {
  it('keeps the strip between its bounds', () => {
    expect(speakerLayout({ width: 1896, height: 900 }).stripHeight).toBe(128);
    expect(speakerLayout({ width: 374, height: 200 }).stripHeight).toBe(56);
    expect(speakerLayout({ width: 1256, height: 620 }).stripHeight).toBeCloseTo(111.6);
  });

  it('makes the featured tile as large as the width and what the strip leaves allow', () => {
    const wide = speakerLayout({ width: 1896, height: 900 });
    expect(wide.featuredWidth).toBeLessThan(1896);
    expect(wide.featuredWidth).toBeGreaterThan(1200);
    expect(speakerLayout({ width: 374, height: 650 }).featuredWidth).toBe(374);
  });

  it('counts the strip tiles in view once they have shrunk to the minimum', () => {
    expect(speakerLayout({ width: 1896, height: 900 }).stripCapacity).toBe(
      Math.floor((1896 + 12) / (STRIP_MIN_TILE_WIDTH + 12)),
    );
    expect(speakerLayout({ width: 100, height: 300 }).stripCapacity).toBe(1);
  });
});
