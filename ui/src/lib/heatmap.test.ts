import { describe, expect, it } from 'vitest';
import type { HeatmapView } from './bindings/HeatmapView';
import { heatmapView } from '../test/fixtures';
import { cellAt, cellBox, cellInfo, columnsRange, moveCell, toSvgPoint } from './heatmap';

const view = (over: Partial<HeatmapView> = {}) => ({ ...heatmapView(over), columns: heatmapView().columns.map((_, i) => ({ start: 1000 + i * 60, end: 1060 + i * 60 })), ...over });

describe('cellAt', () => {
  const v = view();
  it('maps a point inside the plot to its column and row', () => {
    expect(cellAt(v, 51, 21)).toEqual({ col: 0, row: 0 });
    expect(cellAt(v, 50 + 150, 20 + 150)).toEqual({ col: 1, row: 1 });
    expect(cellAt(v, 50 + 399, 20 + 99)).toEqual({ col: 3, row: 0 });
  });

  it('gives the plot edges to the first and last cells', () => {
    expect(cellAt(v, 50, 20)).toEqual({ col: 0, row: 0 });
    expect(cellAt(v, 450, 220)).toEqual({ col: 3, row: 1 });
    // Exactly on a column boundary: the column to the right.
    expect(cellAt(v, 150, 20)).toEqual({ col: 1, row: 0 });
  });

  it('returns null outside the plot (axes, legend, margins)', () => {
    expect(cellAt(v, 49.9, 100)).toBeNull();
    expect(cellAt(v, 450.1, 100)).toBeNull();
    expect(cellAt(v, 100, 19)).toBeNull();
    expect(cellAt(v, 100, 221)).toBeNull();
    expect(cellAt(v, NaN, 100)).toBeNull();
  });

  it('returns null for a chart without cells', () => {
    expect(cellAt(view({ columns: [], values: [] }), 100, 100)).toBeNull();
    expect(cellAt(view({ rows: [] }), 100, 100)).toBeNull();
  });

  it('scales rendered pixels to SVG coordinates', () => {
    // Rendered at half size: pixel (100, 50) is SVG (200, 100).
    expect(toSvgPoint(v, 100, 50, 250, 130)).toEqual({ x: 200, y: 100 });
    const p = toSvgPoint(v, 100, 50, 0, 0);
    expect(cellAt(v, p.x, p.y)).toBeNull();
  });

  it('gives the box of a cell for the highlight', () => {
    expect(cellBox(v, { col: 2, row: 1 })).toEqual({ x: 250, y: 120, width: 100, height: 100 });
  });
});

describe('columnsRange (click and drag to zoom)', () => {
  const v = view();
  it('a click selects one column span', () => {
    expect(columnsRange(v, 1, 1)).toEqual({ kind: 'custom', start: 1060, end: 1120 });
  });
  it('a drag selects from the first to the last column, in either direction', () => {
    expect(columnsRange(v, 1, 3)).toEqual({ kind: 'custom', start: 1060, end: 1240 });
    expect(columnsRange(v, 3, 1)).toEqual({ kind: 'custom', start: 1060, end: 1240 });
  });
  it('refuses columns that do not exist', () => {
    expect(columnsRange(v, 0, 4)).toBeNull();
    expect(columnsRange(v, -1, 2)).toBeNull();
  });
});

describe('moveCell (keyboard)', () => {
  const v = view();
  it('starts at the top-left from no cell', () => {
    expect(moveCell(v, null, 'ArrowRight')).toEqual({ col: 0, row: 0 });
  });
  it('moves one cell per arrow and stops at the edges', () => {
    let c = moveCell(v, { col: 0, row: 0 }, 'ArrowRight');
    expect(c).toEqual({ col: 1, row: 0 });
    c = moveCell(v, c, 'ArrowDown');
    expect(c).toEqual({ col: 1, row: 1 });
    expect(moveCell(v, c, 'ArrowDown')).toEqual({ col: 1, row: 1 });
    expect(moveCell(v, { col: 0, row: 0 }, 'ArrowLeft')).toEqual({ col: 0, row: 0 });
    expect(moveCell(v, { col: 0, row: 1 }, 'ArrowUp')).toEqual({ col: 0, row: 0 });
    expect(moveCell(v, { col: 3, row: 0 }, 'ArrowRight')).toEqual({ col: 3, row: 0 });
  });
  it('jumps to the first and last column with Home and End', () => {
    expect(moveCell(v, { col: 2, row: 1 }, 'Home')).toEqual({ col: 0, row: 1 });
    expect(moveCell(v, { col: 0, row: 1 }, 'End')).toEqual({ col: 3, row: 1 });
  });
  it('ignores other keys', () => {
    expect(moveCell(v, { col: 1, row: 1 }, 'a')).toBeNull();
  });
});

describe('cellInfo', () => {
  it('gives span, row, value, unit and the quantiles of the column', () => {
    const v = view({
      value_unit: 'requests',
      lines: [
        { name: 'p50', q: 0.5, values: [0.01, 0.02, null, 0.04] },
        { name: 'p99', q: 0.99, values: [0.1, 0.2, null, 0.4] },
      ],
    });
    expect(cellInfo(v, { col: 1, row: 0 })).toEqual({
      start: 1060,
      end: 1120,
      rowLabel: 'node-a',
      value: 30,
      unit: 'requests',
      quantiles: [
        { name: 'p50', value: 0.02 },
        { name: 'p99', value: 0.2 },
      ],
    });
    expect(cellInfo(v, { col: 1, row: 1 })?.value).toBeNull();
    expect(cellInfo(v, { col: 2, row: 0 })?.quantiles).toEqual([
      { name: 'p50', value: null },
      { name: 'p99', value: null },
    ]);
    expect(cellInfo(v, { col: 9, row: 0 })).toBeNull();
  });
});
