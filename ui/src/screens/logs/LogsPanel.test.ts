import { fireEvent, render, screen, waitFor } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import axe from 'axe-core';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { LogBatch } from '../../lib/bindings/LogBatch';
import type { LogTarget } from '../../lib/bindings/LogTarget';
import type { PatternView } from '../../lib/bindings/PatternView';
import { resetEvents } from '../../test/events';
import { logRow } from '../../test/logFixtures';

// A stand-in for Tauri's Channel: the test delivers batches through `onmessage`.
class FakeChannel {
  onmessage: (b: LogBatch) => void = () => {};
}
const core = vi.hoisted(() => ({ invoke: vi.fn(), isTauri: () => true, Channel: undefined as unknown }));
core.Channel = FakeChannel;
vi.mock('@tauri-apps/api/core', () => core);
vi.mock('@tauri-apps/api/event', () => import('../../test/events'));

import LogsPanel from './LogsPanel.svelte';

const TARGET: LogTarget = {
  clusters: ['aws/prod/eu-west-1/c0', 'gcp/p/europe-west1/c1', 'azure/s/westeurope/c2'],
  namespace: 'shop',
  deployment: 'checkout',
  pod: null,
  container: null,
};
const TEMPLATE = 'order <NUM> rejected: code <NUM>';

function pattern(count: number): PatternView {
  return {
    cluster_id: '',
    level: 'error',
    template: TEMPLATE,
    count,
    first_seen_ms: Date.now() - 60_000,
    last_seen_ms: Date.now() - 5_000,
    sample: 'order 10 rejected: code 503',
    pods: ['checkout-0', 'checkout-1'],
    clusters: TARGET.clusters,
  };
}

let channel: FakeChannel | null = null;

function live() {
  channel = null;
  core.invoke.mockImplementation(async (cmd: string, args: Record<string, unknown>) => {
    if (cmd === 'logs_follow') {
      channel = args.onBatch as FakeChannel;
      return { stream_id: 7, streams: 9, clusters: TARGET.clusters, skipped: [] };
    }
    if (cmd === 'logs_stop') return true;
    throw { kind: 'unexpected', message: cmd, hint: '' };
  });
}

function send(from: number, n: number, extra: Partial<LogBatch> = {}) {
  channel!.onmessage({
    stream_id: 7,
    rows: Array.from({ length: n }, (_, i) => logRow(from + i)),
    dropped: 0,
    patterns: null,
    done: false,
    ...extra,
  });
}

async function violations(): Promise<string[]> {
  const result = await axe.run(document.body, { rules: { 'color-contrast': { enabled: false } } });
  return result.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
}

beforeEach(() => {
  core.invoke.mockReset();
  resetEvents();
});

describe('LogsPanel', () => {
  it('keeps the DOM bounded with 50,000 lines, caps the buffer and says what was dropped', async () => {
    live();
    render(LogsPanel, { props: { target: TARGET, onclose: () => {} } });
    await waitFor(() => expect(channel).not.toBeNull());
    expect(core.invoke).toHaveBeenCalledWith('logs_follow', expect.objectContaining({ target: TARGET }));
    // 60,000 lines in batches of 500, as the backend sends them.
    for (let k = 0; k < 120; k++) send(k * 500, 500, { dropped: k === 119 ? 1234 : 0 });
    await waitFor(() => expect(screen.getByTestId('logs-count').textContent).toBe('50,000 of 50,000 lines'));
    const rows = screen.getAllByTestId('log-row');
    expect(rows.length).toBeGreaterThan(10);
    expect(rows.length).toBeLessThan(80);
    // Following: the last line is on screen.
    expect(rows.at(-1)!.textContent).toContain('GET /items/59999 200');
    const dropped = screen.getByTestId('logs-dropped').textContent!.replace(/\s+/g, ' ');
    expect(dropped).toContain('11,234 dropped');
    expect(dropped).toContain('1,234 while the view was behind');
    expect(dropped).toContain('10,000 past the 50,000-line buffer');
  });

  it('renders levels as an icon and a word, with cluster and pod labels', async () => {
    live();
    render(LogsPanel, { props: { target: TARGET, onclose: () => {} } });
    await waitFor(() => expect(channel).not.toBeNull());
    send(0, 3);
    const rows = await screen.findAllByTestId('log-row');
    expect(rows[0].dataset.level).toBe('error');
    expect(rows[0].textContent).toContain('✖ ERROR');
    expect(rows[0].textContent).toContain('aws/c0 checkout-0');
    expect(rows[1].textContent).toContain('● INFO');
    expect(rows[1].textContent).toContain('aws/c1 checkout-1');
    expect(await violations()).toEqual([]);
  });

  it('filters by text and by regex, and a pattern click shows only its lines', async () => {
    live();
    const user = userEvent.setup();
    render(LogsPanel, { props: { target: TARGET, onclose: () => {} } });
    await waitFor(() => expect(channel).not.toBeNull());
    send(0, 100, { patterns: [pattern(10)] });
    await waitFor(() => expect(screen.getByTestId('logs-count').textContent).toBe('100 of 100 lines'));

    await user.type(screen.getByTestId('logs-filter'), 'checkout-3');
    await waitFor(() => expect(screen.getByTestId('logs-count').textContent).toBe('20 of 100 lines'));
    for (const r of screen.getAllByTestId('log-row')) expect(r.textContent).toContain('checkout-3');
    // New lines are filtered as they arrive.
    send(100, 10);
    await waitFor(() => expect(screen.getByTestId('logs-count').textContent).toBe('22 of 110 lines'));

    await user.clear(screen.getByTestId('logs-filter'));
    await user.click(screen.getByTestId('logs-regex'));
    await user.type(screen.getByTestId('logs-filter'), 'items/\\d*7 200');
    await waitFor(() => expect(screen.getByTestId('logs-count').textContent).toBe('11 of 110 lines'));
    await user.clear(screen.getByTestId('logs-filter'));
    await user.type(screen.getByTestId('logs-filter'), '(');
    expect(await screen.findByTestId('logs-filter-error')).toBeTruthy();
    await user.clear(screen.getByTestId('logs-filter'));

    const pick = screen.getByTestId('log-pattern-pick');
    expect(screen.getByTestId('log-pattern-count').textContent).toBe('10');
    await user.click(pick);
    expect(pick.getAttribute('aria-pressed')).toBe('true');
    await waitFor(() => expect(screen.getByTestId('logs-count').textContent).toBe('11 of 110 lines'));
    for (const r of screen.getAllByTestId('log-row')) expect(r.textContent).toMatch(/ERROR .*order \d+ rejected/);
    expect(screen.getByTestId('logs-pattern-chip').textContent).toContain(TEMPLATE);
    // Clicking again clears it.
    await user.click(pick);
    await waitFor(() => expect(screen.getByTestId('logs-count').textContent).toBe('110 of 110 lines'));
    expect(await violations()).toEqual([]);
  });

  it('pauses (lines wait) and resumes; copies the selected lines from the keyboard', async () => {
    live();
    const user = userEvent.setup();
    const writeText = vi.fn(async () => {});
    Object.defineProperty(navigator, 'clipboard', { value: { writeText }, configurable: true });
    render(LogsPanel, { props: { target: TARGET, onclose: () => {} } });
    await waitFor(() => expect(channel).not.toBeNull());
    send(0, 5);
    await user.click(screen.getByTestId('logs-pause'));
    send(5, 5);
    await waitFor(() => expect(screen.getByTestId('logs-status').textContent).toContain('paused, 5 waiting'));
    expect(screen.getByTestId('logs-count').textContent).toBe('5 of 5 lines');
    await user.click(screen.getByTestId('logs-pause'));
    await waitFor(() => expect(screen.getByTestId('logs-count').textContent).toBe('10 of 10 lines'));

    const list = screen.getByTestId('log-list');
    list.focus();
    await user.keyboard('{Home}{Shift>}{ArrowDown}{/Shift}');
    expect(screen.getByTestId('logs-follow')).not.toBeChecked();
    await user.keyboard('{Control>}c{/Control}');
    await waitFor(() => expect(writeText).toHaveBeenCalled());
    const copied = (writeText.mock.calls[0] as unknown as [string])[0].split('\n');
    expect(copied).toHaveLength(2);
    expect(copied[0]).toContain('ERROR order 0 rejected');
    expect(copied[1]).toContain('INFO GET /items/1 200');
  });

  it('offline, shows the cached lines and patterns with their age', async () => {
    const now = Date.now();
    core.invoke.mockImplementation(async (cmd: string) => {
      if (cmd === 'logs_follow')
        throw { kind: 'offline', message: 'The app runs offline (--offline).', hint: 'Restart without --offline.' };
      if (cmd === 'logs_cached')
        return {
          rows: [logRow(1, { ts_ms: now - 180_000 }), logRow(10, { ts_ms: now - 120_000 })],
          patterns: [pattern(1)],
          newest_ms: now - 120_000,
          now_ms: now,
        };
      throw { kind: 'unexpected', message: cmd, hint: '' };
    });
    render(LogsPanel, { props: { target: TARGET, onclose: () => {} } });
    expect((await screen.findByTestId('logs-offline')).textContent).toContain('newest 2 min old');
    expect(screen.getByTestId('logs-error').textContent).toContain('runs offline');
    expect(screen.getAllByTestId('log-row')).toHaveLength(2);
    expect(screen.getAllByTestId('log-pattern')).toHaveLength(1);
    expect(screen.getByTestId('log-pattern').textContent).toContain('5 s ago');
    expect(core.invoke).toHaveBeenCalledWith('logs_cached', { target: TARGET, limit: 50_000 });
    expect(await violations()).toEqual([]);
  });

  it('exports the lines through the backend into Downloads and says where', async () => {
    live();
    const exported: Record<string, unknown>[] = [];
    const base = core.invoke.getMockImplementation()!;
    core.invoke.mockImplementation(async (cmd: string, args: Record<string, unknown>) => {
      if (cmd === 'logs_export') {
        exported.push(args);
        return { path: '/home/sre/Downloads/logs-checkout-1.jsonl', bytes: 10 };
      }
      return base(cmd, args);
    });
    render(LogsPanel, { props: { target: TARGET, onclose: () => {} } });
    await waitFor(() => expect(channel).not.toBeNull());
    send(0, 3);
    await waitFor(() => expect(screen.getByTestId('logs-count').textContent).toBe('3 of 3 lines'));
    await fireEvent.click(screen.getByTestId('logs-export-jsonl'));
    await waitFor(() => expect(screen.getByText(/Exported 3 lines to \/home\/sre\/Downloads/)).toBeTruthy());
    expect(exported).toHaveLength(1);
    expect(exported[0].name).toBe('checkout');
    expect(exported[0].format).toBe('jsonl');
    const lines = String(exported[0].text).trim().split('\n');
    expect(lines).toHaveLength(3);
    expect(() => lines.map((l) => JSON.parse(l))).not.toThrow();
    // A refusal is said, with its hint.
    core.invoke.mockImplementation(async (cmd: string, args: Record<string, unknown>) => {
      if (cmd === 'logs_export') throw { kind: 'no_export_dir', message: 'There is no Downloads folder.', hint: 'Set HOME.' };
      return base(cmd, args);
    });
    await fireEvent.click(screen.getByTestId('logs-export-log'));
    await waitFor(() => expect(screen.getByText(/Could not export: There is no Downloads folder. Set HOME./)).toBeTruthy());
  });

  it('stops the stream when it closes, and Esc closes it', async () => {
    live();
    const onclose = vi.fn();
    const { unmount } = render(LogsPanel, { props: { target: TARGET, onclose } });
    await waitFor(() => expect(screen.getByTestId('logs-status').textContent).toContain('Live'));
    await fireEvent.keyDown(screen.getByTestId('log-list'), { key: 'Escape' });
    expect(onclose).toHaveBeenCalled();
    unmount();
    expect(core.invoke).toHaveBeenCalledWith('logs_stop', { streamId: 7 });
  });
});
