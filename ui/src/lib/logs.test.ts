import { describe, expect, it } from 'vitest';
import {
  LOG_ROW_HEIGHT,
  LogBuffer,
  NO_FILTER,
  atBottom,
  clusterLabel,
  compileFilter,
  crossClusterDeployments,
  exportText,
  levelLabel,
  logWindow,
  showsCache,
  targetTitle,
} from './logs';
import { logRow } from '../test/logFixtures';

describe('LogBuffer', () => {
  it('keeps at most its cap, dropping the oldest and counting them', () => {
    const b = new LogBuffer(1000);
    for (let k = 0; k < 30; k++) b.append(Array.from({ length: 100 }, (_, i) => logRow(k * 100 + i)));
    expect(b.rows).toHaveLength(1000);
    expect(b.evicted).toBe(2000);
    expect(b.rows[0].line).toBe('order 2000 rejected: code 503');
    expect(b.rows[999].line).toBe('GET /items/2999 200');
  });

  it('keeps only the newest lines of a batch larger than the cap', () => {
    const b = new LogBuffer(10);
    b.append(Array.from({ length: 25 }, (_, i) => logRow(i)));
    expect(b.rows.map((r) => r.ts_ms)).toEqual(Array.from({ length: 10 }, (_, i) => 1_700_000_000_015 + i));
    expect(b.evicted).toBe(15);
  });

  it('updates the filtered view as lines arrive and as the oldest go', () => {
    const b = new LogBuffer(100);
    b.setFilter(compileFilter({ text: 'rejected', regex: false, pattern: null }).test);
    b.append(Array.from({ length: 100 }, (_, i) => logRow(i)));
    expect(b.view).toHaveLength(10);
    b.append(Array.from({ length: 50 }, (_, i) => logRow(100 + i)));
    // Lines 50..149 remain: errors at 50, 60, …, 140.
    expect(b.view.map((r) => r.line.split(' ')[1])).toEqual(['50', '60', '70', '80', '90', '100', '110', '120', '130', '140']);
    b.setFilter(compileFilter(NO_FILTER).test);
    expect(b.view).toHaveLength(100);
  });
});

describe('merging late streams by time', () => {
  it('puts a late batch of older lines in time order, in the rows and the filtered view', () => {
    const b = new LogBuffer(100);
    b.setFilter(compileFilter({ text: 'rejected', regex: false, pattern: null }).test);
    b.append([0, 2, 4, 6, 8, 10].map((i) => logRow(i * 5)));
    // A stream that connected late: its tail is older than what is shown.
    b.append([1, 3, 7, 11].map((i) => logRow(i * 5)));
    expect(b.rows.map((r) => r.ts_ms! - 1_700_000_000_000)).toEqual([0, 5, 10, 15, 20, 30, 35, 40, 50, 55]);
    // Every tenth line is an error ("rejected").
    expect(b.view.map((r) => r.ts_ms! - 1_700_000_000_000)).toEqual([0, 10, 20, 30, 40, 50]);
    // In-order batches still append.
    b.append([logRow(60)]);
    expect(b.rows.at(-1)!.ts_ms).toBe(1_700_000_000_060);
  });

  it('keeps markers after the line they followed', () => {
    const b = new LogBuffer(100);
    b.append([logRow(10), logRow(20)]);
    b.append([logRow(5), logRow(6, { kind: 'gap', ts_ms: null, line: 'gap' }), logRow(15)]);
    expect(b.rows.map((r) => `${r.kind}:${r.ts_ms === null ? '-' : r.ts_ms - 1_700_000_000_000}`)).toEqual([
      'line:5',
      'gap:-',
      'line:10',
      'line:15',
      'line:20',
    ]);
  });
});

describe('filters', () => {
  it('matches text case-insensitively in the line, pod or cluster', () => {
    const f = compileFilter({ text: 'CHECKOUT-3', regex: false, pattern: null });
    expect(f.test(logRow(3))).toBe(true);
    expect(f.test(logRow(4))).toBe(false);
  });

  it('matches a regular expression, and reports a bad one without filtering', () => {
    const f = compileFilter({ text: 'items/\\d+5 ', regex: true, pattern: null });
    expect(f.error).toBeNull();
    expect(f.test(logRow(15))).toBe(true);
    expect(f.test(logRow(16))).toBe(false);
    const bad = compileFilter({ text: '(unclosed', regex: true, pattern: null });
    expect(bad.error).not.toBeNull();
    expect(bad.test(logRow(16))).toBe(true);
  });

  it('a pattern keeps exactly its lines; markers stay under a text filter only', () => {
    const f = compileFilter({ text: '', regex: false, pattern: 'order <NUM> rejected: code <NUM>' });
    expect(f.test(logRow(20))).toBe(true);
    expect(f.test(logRow(21))).toBe(false);
    const gap = logRow(1, { kind: 'gap', line: 'lines may be missing here: container restarted', pattern: null });
    expect(f.test(gap)).toBe(false);
    expect(compileFilter({ text: 'zzz', regex: false, pattern: null }).test(gap)).toBe(true);
  });
});

describe('rendering helpers', () => {
  it('labels levels with an icon and a word', () => {
    expect(levelLabel({ kind: 'line', level: 'error' })).toMatchObject({ icon: '✖', word: 'ERROR' });
    expect(levelLabel({ kind: 'line', level: 'warn' })).toMatchObject({ word: 'WARN' });
    expect(levelLabel({ kind: 'line', level: 'info' })).toMatchObject({ word: 'INFO' });
    expect(levelLabel({ kind: 'line', level: 'unknown' })).toMatchObject({ word: 'LOG' });
    expect(levelLabel({ kind: 'gap', level: 'warn' })).toMatchObject({ word: 'GAP' });
  });

  it('shortens cluster ids to provider/name', () => {
    expect(clusterLabel('aws/prod/eu-west-1/payments')).toBe('aws/payments');
    expect(clusterLabel('kind-local')).toBe('kind-local');
  });

  it('windows the rows around the viewport only', () => {
    expect(logWindow(0, 440, 50_000, 0)).toEqual({ first: 0, last: 20 });
    const w = logWindow(10_000 * LOG_ROW_HEIGHT, 440, 50_000, 10);
    expect(w).toEqual({ first: 9990, last: 10_030 });
    expect(logWindow(0, 440, 0)).toEqual({ first: 0, last: 0 });
    expect(atBottom(49_980 * LOG_ROW_HEIGHT, 440, 50_000)).toBe(true);
    expect(atBottom(0, 440, 50_000)).toBe(false);
  });

  it('exports plain lines and JSON lines', () => {
    const rows = [logRow(10), logRow(11, { kind: 'gap', line: 'lines may be missing here: restarted', ts_ms: null })];
    const log = exportText(rows, 'log').split('\n');
    expect(log[0]).toBe('2023-11-14T22:13:20.010Z [aws/prod/eu-west-1/c1/checkout-0/app] ERROR order 10 rejected: code 503');
    expect(log[1]).toContain('GAP lines may be missing');
    const json = exportText(rows, 'jsonl').trim().split('\n').map((l) => JSON.parse(l));
    expect(json[0]).toEqual({
      ts: '2023-11-14T22:13:20.010Z',
      cluster: 'aws/prod/eu-west-1/c1',
      pod: 'checkout-0',
      container: 'app',
      level: 'error',
      line: 'order 10 rejected: code 503',
    });
    expect(json[1]).toMatchObject({ event: 'gap', ts: null });
  });

  it('titles the target and finds deployments across clusters', () => {
    expect(targetTitle({ clusters: ['a/b/c/d', 'e/f/g/h'], namespace: 'shop', deployment: 'checkout', pod: null, container: null })).toBe(
      'checkout across 2 clusters',
    );
    expect(targetTitle({ clusters: ['a/b/c/d'], namespace: 'shop', deployment: null, pod: 'p-1', container: null })).toBe('p-1 in a/d');
    const found = crossClusterDeployments([
      { cluster: 'x', namespace: 'shop', name: 'checkout', kind: 'Deployment' },
      { cluster: 'y', namespace: 'shop', name: 'checkout', kind: 'Deployment' },
      { cluster: 'y', namespace: 'shop', name: 'cart', kind: 'Deployment' },
      { cluster: 'x', namespace: 'db', name: 'pg', kind: 'StatefulSet' },
      { cluster: 'y', namespace: 'db', name: 'pg', kind: 'StatefulSet' },
    ]);
    expect(found).toEqual([{ namespace: 'shop', name: 'checkout', clusters: ['x', 'y'] }]);
    expect(showsCache('cluster_unreachable')).toBe(true);
    expect(showsCache('offline')).toBe(true);
    expect(showsCache('invalid_argument')).toBe(false);
  });
});
