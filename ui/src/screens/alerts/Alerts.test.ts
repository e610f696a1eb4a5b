import { render, screen, waitFor, within } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Alert } from '../../lib/bindings/Alert';
import { emit, resetEvents } from '../../test/events';
import { NOW } from '../../test/fixtures';

const core = vi.hoisted(() => ({ invoke: vi.fn(), isTauri: () => true }));
vi.mock('@tauri-apps/api/core', () => core);
vi.mock('@tauri-apps/api/event', () => import('../../test/events'));

import Alerts from './Alerts.svelte';

type Args = Record<string, unknown>;
const C1 = 'aws/prod/eu-west-1/payments';
const C2 = 'do/team/fra1/edge';

function alert(over: Partial<Alert>): Alert {
  return {
    id: 1,
    key: 'k',
    cluster_id: C1,
    subject: 'service/checkout',
    rule: 'service_p95',
    severity: 'medium',
    state: 'open',
    first_seen: NOW - 600,
    last_seen: NOW - 60,
    count: 1,
    value: 1.5,
    threshold: 1,
    message: 'p95 1.5 s in checkout on payments (threshold 1 s)',
    acknowledged_at: null,
    acknowledged_by: null,
    resolved_at: null,
    resolved_by: null,
    last_notified_at: null,
    escalations: 0,
    ...over,
  };
}

let db: Alert[];

function seed() {
  db = [
    alert({ id: 1, severity: 'medium', last_seen: NOW - 30 }),
    alert({ id: 2, severity: 'critical', cluster_id: C2, subject: 'node/n1', rule: 'node_cpu', value: 97, threshold: 95, message: 'CPU 97% on n1', count: 4 }),
    alert({ id: 3, severity: 'high', state: 'acknowledged', acknowledged_by: 'alice', acknowledged_at: NOW - 100 }),
  ];
}

function backend(fail: Partial<Record<string, unknown>> = {}) {
  core.invoke.mockImplementation(async (cmd: string, args: Args) => {
    if (cmd in fail) throw fail[cmd];
    if (cmd === 'alerts_list') {
      const q = args.query as { state: string | null };
      return db.filter((a) => q.state === null || a.state === q.state);
    }
    if (cmd === 'alerts_history') return db.filter((a) => a.state === 'resolved').slice(args.offset as number, (args.offset as number) + (args.limit as number));
    if (cmd === 'alerts_acknowledge' || cmd === 'alerts_resolve') {
      const ack = cmd === 'alerts_acknowledge';
      const changed: Alert[] = [];
      const skipped: { id: number; kind: string; message: string }[] = [];
      for (const id of args.ids as number[]) {
        const a = db.find((x) => x.id === id)!;
        if (ack ? a.state !== 'open' : a.state === 'resolved') {
          skipped.push({ id, kind: 'x', message: `alert ${id} is already ${a.state}` });
          continue;
        }
        if (ack) Object.assign(a, { state: 'acknowledged', acknowledged_by: 'sre', acknowledged_at: NOW });
        else Object.assign(a, { state: 'resolved', resolved_by: 'sre', resolved_at: NOW });
        changed.push({ ...a });
      }
      return { changed, skipped };
    }
    if (cmd === 'alert_get') {
      const a = db.find((x) => x.id === args.id)!;
      return {
        alert: a,
        timeline: [
          { at: a.first_seen, what: 'opened', actor: 'cloudops', audit_id: null },
          ...(a.acknowledged_by ? [{ at: a.acknowledged_at, what: 'acknowledged', actor: a.acknowledged_by, audit_id: 11 }] : []),
        ],
      };
    }
    throw { kind: 'not_found', message: `no command ${cmd}`, hint: '' };
  });
}

const callsOf = (cmd: string) => core.invoke.mock.calls.filter(([c]) => c === cmd).map(([, a]) => a as Args);
const rowIds = () => screen.getAllByTestId('alert-row').map((r) => Number(r.dataset.alertId));

beforeEach(() => {
  core.invoke.mockReset();
  resetEvents();
  vi.spyOn(Date, 'now').mockReturnValue(NOW * 1000);
  seed();
  backend();
});

afterEach(() => vi.restoreAllMocks());

async function setup() {
  const user = userEvent.setup();
  render(Alerts);
  await screen.findAllByTestId('alert-row');
  return user;
}

describe('Alerts screen', () => {
  it('lists open and acknowledged alerts worst first with severity word, value, count and age', async () => {
    await setup();
    expect(rowIds()).toEqual([2, 3, 1]);
    const first = screen.getAllByTestId('alert-row')[0];
    expect(first).toHaveTextContent(/Critical.*edge · fra1.*node\/n1.*Node CPU/);
    expect(first).toHaveTextContent('97% / 95%');
    expect(first).toHaveTextContent('4');
    expect(first).toHaveTextContent('10 min ago');
    expect(screen.getByTestId('alerts-count')).toHaveTextContent('3 alerts');
    expect(callsOf('alerts_list').map((a) => (a.query as { state: string }).state).sort()).toEqual(['acknowledged', 'open']);
  });

  it('filters by severity, cluster and text', async () => {
    const user = await setup();
    await user.selectOptions(screen.getByTestId('filter-severity'), 'high');
    expect(rowIds()).toEqual([2, 3]);
    await user.selectOptions(screen.getByTestId('filter-severity'), '');
    await user.selectOptions(screen.getByTestId('filter-cluster'), C1);
    expect(rowIds()).toEqual([3, 1]);
    await user.type(screen.getByTestId('alerts-filter'), 'medium');
    expect(rowIds()).toEqual([1]);
  });

  it('moves with j/k, selects with Space and Shift+Space, acknowledges the selection with a', async () => {
    const user = await setup();
    screen.getAllByTestId('alert-row')[0].focus();
    await user.keyboard(' ');
    await user.keyboard('jj');
    await user.keyboard('{Shift>} {/Shift}');
    expect(screen.getByTestId('alerts-count')).toHaveTextContent('3 selected');
    await user.keyboard('k');
    expect(document.activeElement).toBe(screen.getAllByTestId('alert-row')[1]);
    await user.keyboard('a');
    await waitFor(() => expect(callsOf('alerts_acknowledge')).toHaveLength(1));
    // Only open alerts are sent: 3 is acknowledged already.
    expect(callsOf('alerts_acknowledge')[0].ids).toEqual([2, 1]);
    expect(await screen.findByTestId('alerts-status')).toHaveTextContent('2 acknowledged');
    await waitFor(() =>
      expect(screen.getAllByTestId('alert-state').map((s) => s.textContent)).toEqual(['acknowledged', 'acknowledged', 'acknowledged']),
    );
  });

  it('asks before resolving several alerts, resolves one at once', async () => {
    const user = await setup();
    // Nothing selected: the toolbar has nothing to act on.
    expect(screen.getByTestId('bulk-resolve')).toBeDisabled();
    expect(screen.getByTestId('bulk-acknowledge')).toBeDisabled();
    await user.click(screen.getByTestId('select-all'));
    expect(screen.getByTestId('alerts-count')).toHaveTextContent('3 selected');
    await user.click(screen.getByTestId('bulk-resolve'));
    const dialog = screen.getByTestId('confirm-resolve');
    expect(dialog).toHaveAttribute('role', 'dialog');
    expect(dialog).toHaveTextContent('Resolve 3 alerts?');
    expect(dialog).toHaveTextContent('2 clusters');
    expect(callsOf('alerts_resolve')).toHaveLength(0);
    await user.keyboard('{Escape}');
    expect(screen.queryByTestId('confirm-resolve')).toBeNull();
    expect(callsOf('alerts_resolve')).toHaveLength(0);

    await user.click(screen.getByTestId('bulk-resolve'));
    await user.click(screen.getByTestId('confirm-resolve-yes'));
    await waitFor(() => expect(callsOf('alerts_resolve')).toEqual([{ ids: [2, 3, 1] }]));
    expect(await screen.findByTestId('alerts-empty')).toBeInTheDocument();

    // One alert: `r` on its row resolves without a dialog.
    seed();
    emit('alerts-changed', { evaluated_at: NOW, clusters: 1, opened: 3, folded: 0, escalated: 0, resolved: 0, notify: [] });
    await screen.findAllByTestId('alert-row');
    screen.getAllByTestId('alert-row')[2].focus();
    await user.keyboard('r');
    expect(screen.queryByTestId('confirm-resolve')).toBeNull();
    await waitFor(() => expect(callsOf('alerts_resolve').at(-1)).toEqual({ ids: [1] }));
  });

  it('opens the detail with Enter: value vs threshold, who acknowledged, the timeline', async () => {
    const user = await setup();
    screen.getAllByTestId('alert-row')[1].focus();
    await user.keyboard('{Enter}');
    const detail = await screen.findByTestId('alert-detail');
    expect(detail).toHaveTextContent('Service p95 latency · service/checkout');
    expect(within(detail).getByTestId('alert-detail-value')).toHaveTextContent('1.5 s against a threshold of 1 s');
    expect(within(detail).getByTestId('alert-acknowledged-by')).toHaveTextContent('by alice');
    const steps = within(screen.getByTestId('alert-timeline')).getAllByRole('listitem');
    expect(steps.map((s) => s.textContent)).toEqual([expect.stringContaining('Opened'), expect.stringContaining('audit #11')]);
    expect(within(detail).getByTestId('detail-acknowledge')).toBeDisabled();
    await user.keyboard('{Escape}');
    expect(screen.queryByTestId('alert-detail')).toBeNull();
  });

  it('reads again on alerts-changed', async () => {
    await setup();
    db.push(alert({ id: 9, severity: 'critical', last_seen: NOW }));
    emit('alerts-changed', { evaluated_at: NOW, clusters: 1, opened: 1, folded: 0, escalated: 0, resolved: 0, notify: [] });
    await waitFor(() => expect(rowIds()).toEqual([9, 2, 3, 1]));
  });

  it('pages through resolved history', async () => {
    for (let i = 0; i < 60; i++) db.push(alert({ id: 100 + i, state: 'resolved', resolved_at: NOW - i }));
    const user = await setup();
    await user.selectOptions(screen.getByTestId('filter-state'), 'resolved');
    await waitFor(() => expect(rowIds()).toHaveLength(50));
    expect(callsOf('alerts_history').at(-1)).toEqual({ cluster: null, offset: 0, limit: 51 });
    await user.click(screen.getByTestId('history-older'));
    await waitFor(() => expect(rowIds()).toHaveLength(10));
    expect(callsOf('alerts_history').at(-1)).toEqual({ cluster: null, offset: 50, limit: 51 });
    expect(screen.getByTestId('history-older')).toBeDisabled();
  });

  it('names the clusters and says what to try when an action fails', async () => {
    backend({ alerts_acknowledge: { kind: 'cache_busy', message: 'The cache is busy', hint: 'Close the other cloudops process and try again.' } });
    const user = await setup();
    screen.getAllByTestId('alert-row')[0].focus();
    await user.keyboard('a');
    const panel = await screen.findByTestId('error-panel');
    expect(panel).toHaveTextContent('Could not acknowledge 1 alert on edge · fra1');
    expect(panel).toHaveTextContent('Close the other cloudops process');
  });

  it('shows a read error with its hint and a retry', async () => {
    backend({ alerts_list: { kind: 'cache_not_a_database', message: 'cache.sqlite3 is not a database', hint: 'Restore a backup.' } });
    render(Alerts);
    const panel = await screen.findByTestId('error-panel');
    expect(panel).toHaveTextContent('Could not read the alerts from the cache');
    expect(panel).toHaveTextContent('Restore a backup.');
  });
});
