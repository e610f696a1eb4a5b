import { describe, expect, it } from 'vitest';
import type { SourceError } from './bindings/SourceError';
import {
  applyProgress,
  errorFromEvent,
  failureError,
  mergeSourceErrors,
  progressTotals,
  scopeNoun,
  sourceDiagnostics,
  type SourceProgress,
} from './discovery';
import { SOURCE_ERRORS } from '../test/fixtures';

describe('applyProgress', () => {
  it('builds one entry per provider × account, in the order they report', () => {
    let s: SourceProgress[] = [];
    s = applyProgress(s, { event: 'planned', provider: 'aws', account: 'prod', scopes: 3 });
    s = applyProgress(s, { event: 'planned', provider: 'aws', account: 'dev', scopes: 1 });
    s = applyProgress(s, { event: 'scope_done', provider: 'aws', account: 'prod', scope: 'aws/eu-west-1', clusters: 2, millis: 5 });
    s = applyProgress(s, { event: 'scope_done', provider: 'aws', account: 'prod', scope: 'aws/us-east-1', clusters: 1, millis: 5 });
    s = applyProgress(s, {
      event: 'scope_failed',
      provider: 'aws',
      account: 'prod',
      scope: 'aws/ap-south-1',
      kind: 'timeout',
      message: 'm',
    });
    expect(s).toEqual([
      { provider: 'aws', account: 'prod', planned: 3, done: 2, failed: 1, clusters: 3, last: 'aws/ap-south-1' },
      { provider: 'aws', account: 'dev', planned: 1, done: 0, failed: 0, clusters: 0, last: null },
    ]);
  });

  it('records an account-wide failure (no scope) without a plan', () => {
    const s = applyProgress([], { event: 'scope_failed', provider: 'azure', account: 'a', scope: '', kind: 'unauthorized', message: 'm' });
    expect(s).toEqual([{ provider: 'azure', account: 'a', planned: null, done: 0, failed: 1, clusters: 0, last: null }]);
  });

  it('does not mutate its input, and ignores an event kind it does not know', () => {
    const before: SourceProgress[] = [{ provider: 'do', account: 't', planned: 1, done: 0, failed: 0, clusters: 0, last: null }];
    const after = applyProgress(before, { event: 'scope_done', provider: 'do', account: 't', scope: 'all regions', clusters: 1, millis: 1 });
    expect(before[0].done).toBe(0);
    expect(after[0].done).toBe(1);
    const unknown = { event: 'cancelled', provider: 'do', account: 't' } as unknown as Parameters<typeof applyProgress>[1];
    expect(applyProgress(after, unknown)).toEqual(after);
  });
});

describe('progressTotals', () => {
  it('sums planned, finished (done + failed), failed and clusters', () => {
    expect(
      progressTotals([
        { provider: 'aws', account: 'p', planned: 3, done: 2, failed: 1, clusters: 5, last: null },
        { provider: 'gcp', account: 'g', planned: null, done: 0, failed: 0, clusters: 0, last: null },
      ]),
    ).toEqual({ sources: 2, planned: 3, finished: 3, failed: 1, clusters: 5 });
  });
});

describe('scopeNoun', () => {
  it('names the scopes of each provider', () => {
    expect(scopeNoun('aws', 12)).toBe('regions');
    expect(scopeNoun('aws', 1)).toBe('region');
    expect(scopeNoun('gcp', 2)).toBe('projects');
    expect(scopeNoun('azure', 1)).toBe('subscription');
    expect(scopeNoun('do', 1)).toBe('scope');
    expect(scopeNoun('something-new', 3)).toBe('scopes');
  });
});

describe('mergeSourceErrors', () => {
  const live: SourceError = errorFromEvent({
    event: 'scope_failed',
    provider: 'gcp',
    account: 'shop-prod',
    scope: 'gcp/shop-prod',
    kind: 'unauthorized',
    message: 'live message',
  });

  it('prefers the cached error (it has the hint) over the same live one', () => {
    const merged = mergeSourceErrors(SOURCE_ERRORS, [live]);
    expect(merged).toHaveLength(2);
    expect(merged.find((e) => e.provider === 'gcp')?.hint).toMatch(/gcloud/);
  });

  it('adds live errors the cache does not know and sorts by provider, account and scope', () => {
    const other = { ...live, provider: 'azure' as const, account: 'sub', scope: 's' };
    const merged = mergeSourceErrors(SOURCE_ERRORS, [other]);
    expect(merged.map((e) => e.provider)).toEqual(['aws', 'azure', 'gcp']);
    expect(merged[1].hint).toBe('');
  });
});

describe('sourceDiagnostics', () => {
  it('carries where, what and what to try', () => {
    expect(sourceDiagnostics({ ...SOURCE_ERRORS[1], account: '', scope: '', hint: '' })).toBe(
      [
        'provider: aws',
        'account: (none)',
        'scope: (account-wide)',
        'kind: throttled',
        'message: EKS ListClusters in ap-south-1 was throttled (429) after 4 attempts',
        'hint: (none)',
      ].join('\n'),
    );
  });
});

describe('failureError', () => {
  it('splits "what — what to try"', () => {
    expect(failureError('cache is locked — close the other window')).toEqual({
      kind: 'discovery',
      message: 'cache is locked',
      hint: 'close the other window',
    });
  });

  it('keeps a message without a hint whole', () => {
    expect(failureError('no provider: add an account')).toEqual({ kind: 'discovery', message: 'no provider: add an account', hint: '' });
  });
});
