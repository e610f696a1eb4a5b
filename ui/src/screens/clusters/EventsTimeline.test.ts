import { render, screen, waitFor } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import axe from 'axe-core';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { ClusterEvent } from '../../lib/bindings/ClusterEvent';
import { closeLogs, logsPanel } from '../../lib/logsPanel.svelte';
import { emit, resetEvents } from '../../test/events';

const core = vi.hoisted(() => ({ invoke: vi.fn(), isTauri: () => true }));
vi.mock('@tauri-apps/api/core', () => core);
vi.mock('@tauri-apps/api/event', () => import('../../test/events'));

import EventsTimeline from './EventsTimeline.svelte';

const NOW = 1_700_000_000;
const ID = 'aws/prod/eu-west-1/payments';

function ev(over: Partial<ClusterEvent>): ClusterEvent {
  return {
    namespace: 'shop',
    involved_kind: 'Pod',
    involved_name: 'checkout-7d9f-x2k4p',
    reason: 'BackOff',
    event_type: 'Warning',
    message: 'Back-off restarting failed container app',
    count: 12,
    first_seen: NOW - 900,
    last_seen: NOW - 120,
    ...over,
  };
}

beforeEach(() => {
  core.invoke.mockReset();
  resetEvents();
  closeLogs();
});

describe('EventsTimeline', () => {
  it('lists events most recent first with type as icon and word, object, reason, count; filters warnings', async () => {
    let events = [
      ev({ reason: 'ScalingReplicaSet', event_type: 'Normal', involved_kind: 'Deployment', involved_name: 'checkout', count: 1, last_seen: NOW - 3000, message: 'Scaled up replica set checkout-7d9f to 3' }),
      ev({}),
    ];
    core.invoke.mockImplementation(async (cmd: string, args: { clusterId: string }) => {
      expect(cmd).toBe('cluster_events');
      expect(args.clusterId).toBe(ID);
      return events;
    });
    const user = userEvent.setup();
    render(EventsTimeline, { props: { clusterId: ID, now: NOW } });
    const items = await screen.findAllByTestId('cluster-event');
    expect(items).toHaveLength(2);
    expect(items[0].textContent).toContain('⚠ Warning');
    expect(items[0].textContent).toContain('BackOff');
    expect(items[0].textContent).toContain('Pod shop/checkout-7d9f-x2k4p');
    expect(items[0].textContent).toContain('×12');
    expect(items[0].textContent).toContain('2 min ago');
    expect(items[1].textContent).toContain('● Normal');
    expect(items[1].textContent).toContain('Deployment shop/checkout');

    await user.click(screen.getByTestId('events-warnings-only'));
    expect(screen.getAllByTestId('cluster-event')).toHaveLength(1);
    const r = await axe.run(document.body, { rules: { 'color-contrast': { enabled: false } } });
    expect(r.violations.map((v) => v.id)).toEqual([]);

    // A pod's event opens its logs.
    await user.click(screen.getByTestId('event-pod-logs'));
    expect(logsPanel.target).toEqual({ clusters: [ID], namespace: 'shop', pod: 'checkout-7d9f-x2k4p', deployment: null, container: null });

    // Re-read after a collection pass.
    events = [ev({ reason: 'FailedScheduling', last_seen: NOW - 10 })];
    emit('collection-finished', { clusters: 1 });
    await waitFor(() => expect(screen.getAllByTestId('cluster-event')[0].textContent).toContain('FailedScheduling'));
  });

  it('says when there are no events', async () => {
    core.invoke.mockResolvedValue([]);
    render(EventsTimeline, { props: { clusterId: ID, now: NOW } });
    expect((await screen.findByTestId('events-empty')).textContent).toContain('No events collected yet');
  });
});
