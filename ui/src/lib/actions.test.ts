import { describe, expect, it } from 'vitest';
import type { AuditRow } from './bindings/AuditRow';
import type { ScalePlan } from './bindings/ScalePlan';
import {
  actionable,
  actionForKey,
  auditActions,
  canConfirmScale,
  filterAudit,
  parseReplicas,
  progressFraction,
} from './actions';

function plan(from: number, to: number, typed: string | null = null): ScalePlan {
  return {
    target: { cluster_id: 'aws/prod/eu-west-1/pay', namespace: 'shop', deployment: 'web' },
    from,
    to,
    ready: from,
    changes: from === to ? [] : [{ field: 'spec.replicas', before: String(from), after: String(to) }],
    fit: null,
    hpa: null,
    warnings: [],
    typed_confirmation: typed,
  };
}

function row(id: number, action: string, outcome: string, target: string, detail = '{}'): AuditRow {
  return { id, at_ms: id * 1000, actor: 'sre via aws account prod', action, outcome, target, detail };
}

describe('the action dialog', () => {
  it('confirms a change, never a no-op, and a zero scale only with the exact name typed', () => {
    expect(canConfirmScale(plan(2, 3), '')).toBe(true);
    expect(canConfirmScale(plan(3, 3), '')).toBe(false);
    const zero = plan(2, 0, 'web');
    expect(canConfirmScale(zero, '')).toBe(false);
    expect(canConfirmScale(zero, 'we')).toBe(false);
    expect(canConfirmScale(zero, 'Web')).toBe(false);
    expect(canConfirmScale(zero, 'web')).toBe(true);
  });

  it('accepts whole replica counts from 0 to 10000 only', () => {
    expect(parseReplicas('0')).toBe(0);
    expect(parseReplicas(' 12 ')).toBe(12);
    expect(parseReplicas('10000')).toBe(10000);
    for (const bad of ['', '-1', '1.5', '10001', 'abc', '1e3']) expect(parseReplicas(bad)).toBeNull();
  });

  it('maps row keys to actions and acts on deployments only', () => {
    expect(actionForKey('s')).toBe('scale');
    expect(actionForKey('r')).toBe('restart');
    expect(actionForKey('u')).toBe('undo');
    expect(actionForKey('x')).toBeNull();
    expect(actionable('Deployment')).toBe(true);
    expect(actionable('StatefulSet')).toBe(false);
  });

  it('measures progress against the target, zero included', () => {
    expect(progressFraction(1, 4)).toBe(0.25);
    expect(progressFraction(5, 4)).toBe(1);
    expect(progressFraction(0, 0)).toBe(1);
    expect(progressFraction(2, 0)).toBe(0);
  });
});

describe('the audit filters', () => {
  const rows = [
    row(3, 'scale_deployment', 'succeeded', 'aws/prod/eu/pay/shop/web', '{"to":3}'),
    row(2, 'scale_deployment', 'started', 'aws/prod/eu/pay/shop/web'),
    row(1, 'rollout_restart', 'failed', 'gcp/dev/eu/edge/kube-system/coredns'),
    row(0, 'read_only_set', 'succeeded', 'app/settings'),
  ];
  const ids = (f: Parameters<typeof filterAudit>[1]) => filterAudit(rows, f).map((r) => r.id);

  it('matches everything when empty, and keeps the order', () => {
    expect(ids({ action: null, outcome: null, text: null })).toEqual([3, 2, 1, 0]);
  });

  it('filters by action, outcome and text, together', () => {
    expect(ids({ action: 'scale_deployment', outcome: null, text: null })).toEqual([3, 2]);
    expect(ids({ action: null, outcome: 'succeeded', text: null })).toEqual([3, 0]);
    expect(ids({ action: 'scale_deployment', outcome: 'succeeded', text: null })).toEqual([3]);
    expect(ids({ action: null, outcome: null, text: 'COREDNS' })).toEqual([1]);
    expect(ids({ action: null, outcome: null, text: '"to":3' })).toEqual([3]);
    expect(ids({ action: 'rollout_restart', outcome: 'succeeded', text: null })).toEqual([]);
  });

  it('lists the distinct actions for the menu', () => {
    expect(auditActions(rows)).toEqual(['read_only_set', 'rollout_restart', 'scale_deployment']);
  });
});
