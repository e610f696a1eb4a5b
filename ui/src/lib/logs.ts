// The Logs panel's logic, kept out of the components so vitest can check it: the bounded line buffer
// with its filtered view, filters, level labels, the virtual window and the exports.
import type { LogRow } from './bindings/LogRow';
import type { LogTarget } from './bindings/LogTarget';

/** Lines held in the webview; past it the oldest go (and are counted). */
export const MAX_LINES = 50_000;
/** One line per row, fixed height, so the window is arithmetic. */
export const LOG_ROW_HEIGHT = 22;
export const LOG_OVERSCAN = 10;
/** Used before the viewport is measured (first frame, tests without layout). */
export const FALLBACK_LOG_VIEWPORT_PX = 480;

export interface Row extends LogRow {
  /** Arrival order, unique within a panel. */
  seq: number;
}

export type Level = 'error' | 'warn' | 'info' | 'debug' | 'unknown';

/** A level as an icon and a word (never colour alone, §11). */
export function levelLabel(row: Pick<LogRow, 'kind' | 'level'>): { icon: string; word: string; cls: string } {
  if (row.kind === 'gap') return { icon: '⋯', word: 'GAP', cls: 'gap' };
  if (row.kind === 'ended') return { icon: '■', word: 'END', cls: 'ended' };
  switch (row.level) {
    case 'error':
      return { icon: '✖', word: 'ERROR', cls: 'error' };
    case 'warn':
      return { icon: '▲', word: 'WARN', cls: 'warn' };
    case 'info':
      return { icon: '●', word: 'INFO', cls: 'info' };
    case 'debug':
      return { icon: '·', word: 'DEBUG', cls: 'debug' };
    default:
      return { icon: '○', word: 'LOG', cls: 'unknown' };
  }
}

/** `provider/account/region/name` → `provider/name`: short enough for a label, still unambiguous enough. */
export function clusterLabel(id: string): string {
  const parts = id.split('/');
  return parts.length >= 4 ? `${parts[0]}/${parts[parts.length - 1]}` : id;
}

export interface LogFilter {
  text: string;
  regex: boolean;
  /** A pattern's template: only lines of that pattern. */
  pattern: string | null;
}

export const NO_FILTER: LogFilter = { text: '', regex: false, pattern: null };

/** A compiled filter, or an error message for a bad regular expression. */
export function compileFilter(f: LogFilter): { test: (r: LogRow) => boolean; error: string | null } {
  let textTest: ((s: string) => boolean) | null = null;
  let error: string | null = null;
  const t = f.text.trim();
  if (t !== '') {
    if (f.regex) {
      try {
        const re = new RegExp(t, 'i');
        textTest = (s) => re.test(s);
      } catch (e) {
        error = e instanceof Error ? e.message : String(e);
        textTest = () => true;
      }
    } else {
      const needle = t.toLowerCase();
      textTest = (s) => s.toLowerCase().includes(needle);
    }
  }
  const pattern = f.pattern;
  return {
    error,
    test: (r) => {
      // Markers stay visible under a text filter (they explain holes), not under a pattern.
      if (pattern !== null) return r.kind === 'line' && r.pattern === pattern;
      if (r.kind !== 'line') return true;
      return textTest === null || textTest(r.line) || textTest(r.pod) || textTest(r.cluster);
    },
  };
}

/**
 * The panel's lines: a bounded buffer (oldest dropped first, counted) and the view the filter lets
 * through, updated incrementally as batches arrive (only the new lines are tested), rebuilt when the
 * filter changes. Plain data, not reactive: the component bumps a counter after each change.
 */
export class LogBuffer {
  rows: Row[] = [];
  view: Row[] = [];
  /** Lines dropped here because the buffer was full. */
  evicted = 0;
  private seq = 0;
  private test: (r: LogRow) => boolean = () => true;

  constructor(readonly cap = MAX_LINES) {}

  append(batch: readonly LogRow[]): void {
    if (batch.length === 0) return;
    // A batch larger than the cap keeps only its newest lines.
    const start = Math.max(0, batch.length - this.cap);
    this.evicted += start;
    const fresh: Row[] = [];
    for (let i = start; i < batch.length; i++) fresh.push({ ...batch[i], seq: ++this.seq });
    if (this.inOrder(fresh)) {
      for (const r of fresh) {
        this.rows.push(r);
        if (this.test(r)) this.view.push(r);
      }
    } else {
      // A stream that connected late sends its tail after others' newer lines: merge it in by time
      // (only the affected suffix moves), then rebuild the view.
      this.rows = mergeByTime(this.rows, fresh);
      this.view = this.rows.filter(this.test);
    }
    const excess = this.rows.length - this.cap;
    if (excess > 0) {
      this.rows.splice(0, excess);
      this.evicted += excess;
      const oldest = this.rows[0].seq;
      let cut = 0;
      while (cut < this.view.length && this.view[cut].seq < oldest) cut++;
      if (cut > 0) this.view.splice(0, cut);
    }
  }

  /** Whether `fresh` can simply go at the end (markers without a time always can). */
  private inOrder(fresh: Row[]): boolean {
    let last = lastTime(this.rows);
    for (const r of fresh) {
      if (r.ts_ms === null || r.kind !== 'line') continue;
      if (last !== null && r.ts_ms < last) return false;
      last = r.ts_ms;
    }
    return true;
  }

  setFilter(test: (r: LogRow) => boolean): void {
    this.test = test;
    this.view = this.rows.filter(test);
  }

  clear(): void {
    this.rows = [];
    this.view = [];
    this.evicted = 0;
  }
}

function lastTime(rows: readonly Row[]): number | null {
  for (let i = rows.length - 1; i >= 0; i--) {
    const r = rows[i];
    if (r.kind === 'line' && r.ts_ms !== null) return r.ts_ms;
  }
  return null;
}

/**
 * `rows` (in time order) with `fresh` merged in by time; ties keep arrival order and markers stay
 * after the line they followed. Only the suffix newer than the oldest fresh line is rebuilt.
 */
export function mergeByTime(rows: Row[], fresh: readonly Row[]): Row[] {
  const timeOf = (r: Row, prev: number) => (r.kind === 'line' && r.ts_ms !== null ? r.ts_ms : prev);
  // Fresh rows in time order (a marker keeps the time of the line before it).
  let prev = -Infinity;
  const keyed = fresh.map((r) => ({ r, t: (prev = timeOf(r, prev)) }));
  keyed.sort((a, b) => a.t - b.t || a.r.seq - b.r.seq);
  const oldest = keyed.length ? keyed[0].t : Infinity;
  // The first existing row newer than the oldest fresh one.
  let lo = 0;
  let hi = rows.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    const t = rows[mid].ts_ms;
    if (t !== null && t > oldest) hi = mid;
    else lo = mid + 1;
  }
  const tail = rows.splice(lo);
  let p = -Infinity;
  const tailKeyed = tail.map((r) => ({ r, t: (p = timeOf(r, p)) }));
  let i = 0;
  let j = 0;
  while (i < tailKeyed.length || j < keyed.length) {
    if (j >= keyed.length || (i < tailKeyed.length && tailKeyed[i].t <= keyed[j].t)) rows.push(tailKeyed[i++].r);
    else rows.push(keyed[j++].r);
  }
  return rows;
}

export interface RowWindow {
  first: number;
  last: number;
}

/** The rows that intersect the viewport, widened by `overscan` on each side. */
export function logWindow(scrollTop: number, viewportPx: number, total: number, overscan = LOG_OVERSCAN): RowWindow {
  if (total <= 0) return { first: 0, last: 0 };
  const height = viewportPx > 0 ? viewportPx : FALLBACK_LOG_VIEWPORT_PX;
  const top = Math.max(0, scrollTop);
  const first = Math.min(total - 1, Math.floor(top / LOG_ROW_HEIGHT));
  const last = Math.min(total, Math.ceil((top + height) / LOG_ROW_HEIGHT));
  return { first: Math.max(0, first - overscan), last: Math.min(total, last + overscan) };
}

/** Whether the viewport shows the last row (then following keeps it there). */
export function atBottom(scrollTop: number, viewportPx: number, total: number): boolean {
  const height = viewportPx > 0 ? viewportPx : FALLBACK_LOG_VIEWPORT_PX;
  return scrollTop + height >= total * LOG_ROW_HEIGHT - LOG_ROW_HEIGHT;
}

export function isoTime(ms: number | null): string {
  if (ms === null) return '';
  const d = new Date(ms);
  return Number.isNaN(d.getTime()) ? '' : d.toISOString();
}

/** One row as a plain log line (copy and the .log export). */
export function plainLine(r: LogRow): string {
  const head = `${isoTime(r.ts_ms) || '-'} [${r.cluster}/${r.pod}/${r.container}] ${levelLabel(r).word}`;
  return `${head} ${r.line}`;
}

/** One row as a JSON line (the .jsonl export), the shape `cloudops logs --json` prints. */
export function jsonLine(r: LogRow): string {
  const doc: Record<string, unknown> =
    r.kind === 'line'
      ? { ts: isoTime(r.ts_ms), cluster: r.cluster, pod: r.pod, container: r.container, level: r.level, line: r.line }
      : { event: r.kind, ts: isoTime(r.ts_ms) || null, cluster: r.cluster, pod: r.pod, container: r.container, reason: r.line };
  return JSON.stringify(doc);
}

export function exportText(rows: readonly LogRow[], format: 'log' | 'jsonl'): string {
  const f = format === 'log' ? plainLine : jsonLine;
  return rows.map(f).join('\n') + (rows.length ? '\n' : '');
}

/** The panel's title: what is being read and where. */
export function targetTitle(t: LogTarget): string {
  const what = t.deployment ?? t.pod ?? '';
  if (t.clusters.length > 1) return `${what} across ${t.clusters.length} clusters`;
  return `${what} in ${clusterLabel(t.clusters[0] ?? '')}`;
}

/** Errors after which the panel shows the cache instead of a live stream. */
export function showsCache(kind: string): boolean {
  return kind !== 'invalid_argument' && kind !== 'too_many_streams';
}

/** "42 s", "3 min", "2 h", "5 d": a line's or a pattern's age. */
export function ageText(ms: number, nowMs: number): string {
  const s = Math.max(0, Math.round((nowMs - ms) / 1000));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min`;
  if (s < 86_400) return `${Math.floor(s / 3600)} h`;
  return `${Math.floor(s / 86_400)} d`;
}

/** Deployments that run in several clusters, for the palette's "Logs: X across clusters". */
export function crossClusterDeployments(
  rows: readonly { cluster: string; namespace: string; name: string; kind: string }[],
): { namespace: string; name: string; clusters: string[] }[] {
  const by = new Map<string, { namespace: string; name: string; clusters: string[] }>();
  for (const r of rows) {
    if (r.kind.toLowerCase() !== 'deployment') continue;
    const k = `${r.namespace}\u0000${r.name}`;
    const e = by.get(k) ?? { namespace: r.namespace, name: r.name, clusters: [] };
    if (!e.clusters.includes(r.cluster)) e.clusters.push(r.cluster);
    by.set(k, e);
  }
  return [...by.values()].filter((e) => e.clusters.length > 1).sort((a, b) => a.name.localeCompare(b.name));
}
