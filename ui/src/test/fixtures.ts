import type { Anomaly } from '../lib/bindings/Anomaly';
import type { ClusterDetail } from '../lib/bindings/ClusterDetail';
import type { ClusterSummary } from '../lib/bindings/ClusterSummary';
import type { HeatmapView } from '../lib/bindings/HeatmapView';
import type { FleetOverview } from '../lib/bindings/FleetOverview';
import type { AppInfo } from '../lib/bindings/AppInfo';
import type { DiscoveryStatus } from '../lib/bindings/DiscoveryStatus';
import type { SourceError } from '../lib/bindings/SourceError';

export const NOW = 1_763_800_000; // a fixed "now" in unix seconds

export function cluster(over: Partial<ClusterSummary> = {}): ClusterSummary {
  return {
    id: 'aws/prod/eu-west-1/checkout',
    provider: 'aws',
    account: 'prod',
    name: 'checkout',
    region: 'eu-west-1',
    version: '1.31',
    status: 'ACTIVE',
    endpoint: 'https://example.eks.amazonaws.com',
    node_pools: [
      { name: 'general', count: 3, min: 1, max: 6, machine_type: 'm6i.large' },
      { name: 'spot', count: 2, min: 0, max: 10, machine_type: 'm6i.xlarge' },
    ],
    collected_at: NOW - 120,
    gone_at: null,
    ...over,
  };
}

export const CLUSTERS: ClusterSummary[] = [
  cluster(),
  cluster({
    id: 'gcp/shop-prod/europe-west1/payments',
    provider: 'gcp',
    account: 'shop-prod',
    name: 'payments',
    region: 'europe-west1',
    version: '1.30.5-gke.1',
    status: 'RUNNING',
    node_pools: [{ name: 'default-pool', count: 4, min: null, max: null, machine_type: 'e2-standard-4' }],
  }),
  cluster({
    id: 'azure/sub-1/westeurope/search',
    provider: 'azure',
    account: 'sub-1',
    name: 'search',
    region: 'westeurope',
    version: null,
    status: 'Succeeded',
    node_pools: [],
    collected_at: NOW - 3 * 3600,
  }),
  cluster({
    id: 'do/team/fra1/edge',
    provider: 'do',
    account: 'team',
    name: 'edge',
    region: 'fra1',
    version: '1.31.1-do.0',
    status: 'running',
    node_pools: [{ name: 'pool-1', count: 1, min: 1, max: 3, machine_type: 's-2vcpu-4gb' }],
  }),
];

export function overview(
  clusters: ClusterSummary[] = CLUSTERS,
  lastDiscovery: DiscoveryStatus | null = null,
): FleetOverview {
  return {
    clusters,
    cache: { path: '/home/sre/.local/share/cloudops/cache.sqlite', schema_version: 3, size_bytes: 1_572_864 },
    last_discovery: lastDiscovery,
  };
}

export const SOURCE_ERRORS: SourceError[] = [
  {
    provider: 'gcp',
    account: 'shop-prod',
    scope: 'gcp/shop-prod',
    kind: 'unauthorized',
    message: 'GKE refused the token for project shop-prod (401)',
    hint: 'Run `gcloud auth application-default login`, or set CLOUDOPS_GCP_ACCESS_TOKEN.',
  },
  {
    provider: 'aws',
    account: 'prod',
    scope: 'aws/ap-south-1',
    kind: 'throttled',
    message: 'EKS ListClusters in ap-south-1 was throttled (429) after 4 attempts',
    hint: 'Wait a minute and refresh; lower the number of regions if it keeps happening.',
  },
];

/** A finished discovery run, 3 minutes before NOW. */
export function discoveryStatus(errors: SourceError[] = [], clusterCount = 4): DiscoveryStatus {
  return {
    started_ms: (NOW - 185) * 1000,
    finished_ms: (NOW - 180) * 1000,
    cluster_count: clusterCount,
    errors,
  };
}

export const APP_INFO: AppInfo = {
  version: '0.1.0',
  data_dir: '/home/sre/.local/share/cloudops',
  cache: overview().cache,
  mode: 'live',
};

/** A small heatmap: 4 columns of 60 s over a 400 × 200 plot at (50, 20), 2 rows. */
export function heatmapView(over: Partial<HeatmapView> = {}): HeatmapView {
  return {
    svg: '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 500 260" data-testid="heatmap-svg"><rect x="50" y="20" width="400" height="200"/></svg>',
    width: 500,
    height: 260,
    plot: { x: 50, y: 20, width: 400, height: 200 },
    columns: [0, 1, 2, 3].map((i) => ({ start: NOW - 240 + i * 60, end: NOW - 180 + i * 60 })),
    rows: ['node-a', 'node-b'],
    values: [
      [10, 20],
      [30, null],
      [50, 60],
      [70, 80],
    ],
    value_unit: '% of allocatable',
    lines: [],
    ...over,
  };
}

export function latencyView(): HeatmapView {
  return heatmapView({
    rows: ['≤ 1 s', '≤ 100 ms'],
    value_unit: 'requests',
    values: [
      [1, 40],
      [2, 38],
      [0, 41],
      [5, 30],
    ],
    lines: [
      { name: 'p50', q: 0.5, values: [0.021, 0.022, 0.02, 0.03] },
      { name: 'p95', q: 0.95, values: [0.08, 0.09, 0.07, 0.2] },
      { name: 'p99', q: 0.99, values: [0.2, 0.4, 0.09, 0.9] },
    ],
  });
}

export function clusterDetail(over: Partial<ClusterDetail> = {}): ClusterDetail {
  return {
    cluster: cluster(),
    range: { start: NOW - 3600, end: NOW, step: 60 },
    age: { collected_at: NOW - 120, interval_secs: 60, stale: false, reason: null },
    nodes: [
      { name: 'ip-10-0-1-12', pool: 'general', ready: true, cpu_pct: 42.5, memory_pct: 71, disk_pct: 93.2 },
      { name: 'ip-10-0-1-13', pool: 'spot', ready: false, cpu_pct: null, memory_pct: 5.25, disk_pct: 10 },
    ],
    resource: 'cpu',
    resource_heatmap: heatmapView(),
    services: [
      { service: 'checkout-api', requests_per_sec: 12.5, error_pct: 0.4, p50: 0.021, p95: 0.09, p99: 0.41 },
      { service: 'payments', requests_per_sec: 3, error_pct: 12, p50: 0.0005, p95: 1.2, p99: 2.5 },
    ],
    services_note: null,
    ...over,
  };
}

/** A high p95 anomaly on service checkout-api, open, inside the heatmapView() span (NOW-240..NOW). */
export function anomaly(over: Partial<Anomaly> = {}): Anomaly {
  return {
    id: 1,
    cluster_id: CLUSTERS[0].id,
    subject: 'service/checkout-api',
    metric: 'p95_seconds',
    started_at: NOW - 210,
    last_seen: NOW - 90,
    ended_at: null,
    severity: 'high',
    peak_score: 6.25,
    value: 0.412,
    baseline: 0.09,
    causes: [
      { kind: 'rollout', detail: 'deployment shop/checkout-api is rolling out (2 of 4 replicas updated)', at: NOW - 220, weight: 0.9 },
      { kind: 'open_alert', detail: 'alert "p95 above 300 ms" is open on checkout-api', at: NOW - 200, weight: 0.5 },
    ],
    state: 'open',
    ...over,
  };
}
