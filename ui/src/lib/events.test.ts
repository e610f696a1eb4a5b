import { describe, expect, it } from 'vitest';
import type { ClusterEvent } from './bindings/ClusterEvent';
import { eventTypeLabel, timeline } from './events';

function ev(over: Partial<ClusterEvent>): ClusterEvent {
  return {
    namespace: 'shop',
    involved_kind: 'Pod',
    involved_name: 'checkout-1',
    reason: 'BackOff',
    event_type: 'Warning',
    message: 'Back-off restarting failed container',
    count: 1,
    first_seen: 100,
    last_seen: 200,
    ...over,
  };
}

describe('events timeline', () => {
  it('sorts most recent first and folds repeats of one object and reason', () => {
    const t = timeline(
      [
        ev({ reason: 'Scheduled', event_type: 'Normal', last_seen: 50, first_seen: 50 }),
        ev({ count: 3, last_seen: 300, message: 'newest message' }),
        ev({ count: 2, first_seen: 10, last_seen: 150 }),
      ],
      false,
    );
    expect(t.map((e) => e.reason)).toEqual(['BackOff', 'Scheduled']);
    expect(t[0]).toMatchObject({ count: 5, first_seen: 10, last_seen: 300, message: 'newest message' });
  });

  it('keeps warnings only when asked', () => {
    const t = timeline([ev({}), ev({ reason: 'Pulled', event_type: 'Normal' })], true);
    expect(t.map((e) => e.reason)).toEqual(['BackOff']);
  });

  it('labels the type with an icon and a word', () => {
    expect(eventTypeLabel({ event_type: 'Warning' })).toEqual({ icon: '⚠', word: 'Warning' });
    expect(eventTypeLabel({ event_type: 'Normal' })).toEqual({ icon: '●', word: 'Normal' });
  });
});
