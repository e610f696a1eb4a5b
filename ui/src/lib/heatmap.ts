// Pure geometry behind the heatmap overlay: pointer → cell, drag → time range, arrow keys → cell.
// The backend's HeatmapView says where the plot area sits in the SVG's own coordinates; columns split
// its width evenly (left to right, oldest first) and rows its height (top to bottom, as drawn).
import type { HeatmapView } from './bindings/HeatmapView';
import type { RangeRequest } from './bindings/RangeRequest';

export interface Cell {
  col: number;
  row: number;
}

type Geometry = Pick<HeatmapView, 'plot' | 'columns' | 'rows'>;

/**
 * The cell under a point given in SVG coordinates, or null outside the plot area (axes, legend, margins)
 * or when the chart has no cells. The right and bottom edges belong to the last column and row.
 */
export function cellAt(view: Geometry, x: number, y: number): Cell | null {
  const { plot, columns, rows } = view;
  if (columns.length === 0 || rows.length === 0 || plot.width <= 0 || plot.height <= 0) return null;
  if (!Number.isFinite(x) || !Number.isFinite(y)) return null;
  const fx = (x - plot.x) / plot.width;
  const fy = (y - plot.y) / plot.height;
  if (fx < 0 || fx > 1 || fy < 0 || fy > 1) return null;
  return {
    col: Math.min(columns.length - 1, Math.floor(fx * columns.length)),
    row: Math.min(rows.length - 1, Math.floor(fy * rows.length)),
  };
}

/** A point relative to the rendered chart (CSS pixels) → SVG coordinates, given the rendered size. */
export function toSvgPoint(
  view: Pick<HeatmapView, 'width' | 'height'>,
  px: number,
  py: number,
  renderedWidth: number,
  renderedHeight: number,
): { x: number; y: number } {
  if (renderedWidth <= 0 || renderedHeight <= 0) return { x: NaN, y: NaN };
  return { x: (px * view.width) / renderedWidth, y: (py * view.height) / renderedHeight };
}

/** The box a cell covers, in SVG coordinates (for the highlight drawn over it). */
export function cellBox(view: Geometry, cell: Cell): { x: number; y: number; width: number; height: number } {
  const w = view.plot.width / Math.max(1, view.columns.length);
  const h = view.plot.height / Math.max(1, view.rows.length);
  return { x: view.plot.x + cell.col * w, y: view.plot.y + cell.row * h, width: w, height: h };
}

/**
 * The custom range covering columns `a`..`b` in either order (a click is a == b). Null when either
 * column does not exist.
 */
export function columnsRange(view: Pick<HeatmapView, 'columns'>, a: number, b: number): RangeRequest | null {
  const lo = Math.min(a, b);
  const hi = Math.max(a, b);
  const first = view.columns[lo];
  const last = view.columns[hi];
  if (!first || !last || lo < 0) return null;
  return { kind: 'custom', start: first.start, end: last.end };
}

/**
 * Keyboard movement of the highlighted cell: arrows move one cell, Home/End jump to the first/last
 * column. From no cell, any of these keys starts at the top-left. Null: not a movement key.
 */
export function moveCell(view: Geometry, cell: Cell | null, key: string): Cell | null {
  const cols = view.columns.length;
  const rows = view.rows.length;
  if (cols === 0 || rows === 0) return null;
  if (!['ArrowLeft', 'ArrowRight', 'ArrowUp', 'ArrowDown', 'Home', 'End'].includes(key)) return null;
  if (cell === null) return { col: 0, row: 0 };
  const clamp = (v: number, n: number) => Math.max(0, Math.min(n - 1, v));
  switch (key) {
    case 'ArrowLeft':
      return { col: clamp(cell.col - 1, cols), row: cell.row };
    case 'ArrowRight':
      return { col: clamp(cell.col + 1, cols), row: cell.row };
    case 'ArrowUp':
      return { col: cell.col, row: clamp(cell.row - 1, rows) };
    case 'ArrowDown':
      return { col: cell.col, row: clamp(cell.row + 1, rows) };
    case 'Home':
      return { col: 0, row: cell.row };
    default:
      return { col: cols - 1, row: cell.row };
  }
}

export interface CellInfo {
  start: number;
  end: number;
  rowLabel: string;
  value: number | null;
  unit: string;
  /** Latency only: p50/p95/p99 (seconds) of the cell's column; null where the column had no requests. */
  quantiles: { name: string; value: number | null }[];
}

/** Everything the tooltip shows for one cell. */
export function cellInfo(view: HeatmapView, cell: Cell): CellInfo | null {
  const span = view.columns[cell.col];
  const label = view.rows[cell.row];
  if (!span || label === undefined) return null;
  return {
    start: span.start,
    end: span.end,
    rowLabel: label,
    value: view.values[cell.col]?.[cell.row] ?? null,
    unit: view.value_unit,
    quantiles: view.lines.map((l) => ({ name: l.name, value: l.values[cell.col] ?? null })),
  };
}
