import { describe, expect, it } from 'vitest';
import { buildCommands, fuzzyScore, matchCommands } from './palette';

const commands = buildCommands();
const titles = (q: string) => matchCommands(q, commands).map((c) => c.title);

describe('buildCommands', () => {
  it('has a "Go to" command for every screen plus reload, focus filter and failover', () => {
    expect(commands.map((c) => c.title)).toEqual([
      'Go to Fleet',
      'Go to Clusters',
      'Go to Workloads',
      'Go to Alerts',
      'Go to Cost',
      'Go to Actions',
      'Go to Settings',
      'Reload fleet',
      'Refresh fleet (discover now)',
      'Focus filter',
      'Failover…',
    ]);
  });

  it('drops "Refresh fleet" when discovery cannot run (offline mode)', () => {
    expect(buildCommands({ canRefresh: false }).some((c) => c.id === 'refresh-fleet')).toBe(false);
    expect(buildCommands().find((c) => c.id === 'refresh-fleet')?.action).toEqual({ type: 'refresh-fleet' });
  });

  it('drops "Focus filter" when the screen has no filter', () => {
    expect(buildCommands({ hasFilter: false }).some((c) => c.id === 'focus-filter')).toBe(false);
  });
});

describe('fuzzyScore', () => {
  it('ranks exact > prefix > word start > substring > subsequence', () => {
    const exact = fuzzyScore('cost', 'cost')!;
    const prefix = fuzzyScore('go', 'go to cost')!;
    const word = fuzzyScore('cost', 'go to cost')!;
    const sub = fuzzyScore('ost', 'go to cost')!;
    const seq = fuzzyScore('gtc', 'go to cost')!;
    expect(exact).toBeGreaterThan(prefix);
    expect(prefix).toBeGreaterThan(word);
    expect(word).toBeGreaterThan(sub);
    expect(sub).toBeGreaterThan(seq);
    expect(seq).toBeGreaterThan(0);
  });

  it('is case-insensitive and rejects non-subsequences', () => {
    expect(fuzzyScore('CLU', 'Go to Clusters')).not.toBeNull();
    expect(fuzzyScore('xyz', 'Go to Clusters')).toBeNull();
    expect(fuzzyScore('sc', 'Go to Clusters')).toBeNull(); // letters out of order
  });
});

describe('matchCommands', () => {
  it('returns every command in list order for an empty query', () => {
    expect(titles('')).toEqual(commands.map((c) => c.title));
    expect(titles('   ')).toHaveLength(commands.length);
  });

  it('puts the obvious command first', () => {
    expect(titles('clu')[0]).toBe('Go to Clusters');
    expect(titles('set')[0]).toBe('Go to Settings');
    expect(titles('RELOAD')[0]).toBe('Reload fleet');
    expect(titles('filter')[0]).toBe('Focus filter');
    expect(titles('fleet')[0]).toBe('Go to Fleet');
  });

  it('matches subsequences such as "gtw" for Go to Workloads', () => {
    expect(titles('gtw')[0]).toBe('Go to Workloads');
  });

  it('needs every term to match', () => {
    expect(titles('go work')).toEqual(['Go to Workloads']);
    expect(titles('go zzz')).toEqual([]);
  });

  it('uses keywords, but below title hits', () => {
    expect(titles('audit')).toEqual(['Go to Actions']);
    // The title hit ranks above the screen whose keyword it is.
    expect(titles('failover')).toEqual(['Failover…', 'Go to Actions']);
    // "refresh" is a keyword of Reload fleet but the title of the discovery command, which wins.
    expect(titles('refresh')).toEqual(['Refresh fleet (discover now)', 'Reload fleet']);
    expect(titles('discover')[0]).toBe('Refresh fleet (discover now)');
  });

  it('returns nothing for nonsense', () => {
    expect(titles('qqqq')).toEqual([]);
  });
});

describe(': aliases (k9s style)', () => {
  it('lists only screen jumps for a bare colon', () => {
    expect(titles(':')).toEqual(commands.filter((c) => c.alias).map((c) => c.title));
    expect(titles(':')).not.toContain('Reload fleet');
  });

  it.each([
    [':fleet', 'Go to Fleet'],
    [':clusters', 'Go to Clusters'],
    [':workloads', 'Go to Workloads'],
    [':alerts', 'Go to Alerts'],
    [':cost', 'Go to Cost'],
    [':actions', 'Go to Actions'],
    [':settings', 'Go to Settings'],
  ])('%s jumps to %s', (q, title) => {
    expect(titles(q)[0]).toBe(title);
  });

  it('resolves prefixes: :cl is Clusters, :co is Cost, :a lists Alerts before Actions', () => {
    expect(titles(':cl')).toEqual(['Go to Clusters']);
    expect(titles(':co')).toEqual(['Go to Cost']);
    expect(titles(':a')).toEqual(['Go to Alerts', 'Go to Actions']);
  });

  it('ignores case and surrounding spaces', () => {
    expect(titles('  :SET ')[0]).toBe('Go to Settings');
  });

  it('returns nothing for an unknown alias', () => {
    expect(titles(':pods')).toEqual([]);
  });
});

describe('open cluster commands', () => {
  const withClusters = buildCommands({
    clusters: [
      { id: 'aws/prod/eu-west-1/checkout', name: 'checkout', provider: 'aws', account: 'prod', region: 'eu-west-1' },
      { id: 'gcp/shop/europe-west1/payments', name: 'payments', provider: 'gcp', account: 'shop', region: 'europe-west1' },
    ],
  });

  it('offers one "Open cluster" command per cluster, after the screens', () => {
    const open = withClusters.filter((c) => c.action.type === 'open-cluster');
    expect(open.map((c) => [c.title, c.hint])).toEqual([
      ['Open cluster checkout', 'EKS · eu-west-1'],
      ['Open cluster payments', 'GKE · europe-west1'],
    ]);
    expect(open[1].action).toEqual({ type: 'open-cluster', clusterId: 'gcp/shop/europe-west1/payments' });
  });

  it('finds a cluster by name or provider badge, but not through `:` aliases', () => {
    expect(matchCommands('payments', withClusters)[0].title).toBe('Open cluster payments');
    expect(matchCommands('open gke', withClusters)[0].title).toBe('Open cluster payments');
    expect(matchCommands(':payments', withClusters)).toEqual([]);
  });
});

describe('logs entries', () => {
  it('offers "Logs: X across clusters" for deployments in several clusters', () => {
    const cmds = buildCommands({ deployments: [{ namespace: 'shop', name: 'checkout', clusters: ['a', 'b', 'c'] }] });
    const [first] = matchCommands('logs checkout', cmds);
    expect(first.title).toBe('Logs: checkout across clusters');
    expect(first.action).toEqual({ type: 'open-logs', clusters: ['a', 'b', 'c'], namespace: 'shop', deployment: 'checkout' });
    expect(buildCommands().some((c) => c.action.type === 'open-logs')).toBe(false);
  });
});
