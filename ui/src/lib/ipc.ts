// Typed client for the Tauri commands. Every call rejects with a CommandError, never with a raw value,
// so screens can render message + hint without guessing the shape.
import { Channel, invoke, isTauri } from '@tauri-apps/api/core';
import { listen } from '@tauri-apps/api/event';
import type { AccountInput } from './bindings/AccountInput';
import type { ActionOutcome } from './bindings/ActionOutcome';
import type { ActionProgress } from './bindings/ActionProgress';
import type { AuditExportFormat } from './bindings/AuditExportFormat';
import type { AuditFilter } from './bindings/AuditFilter';
import type { AuditRow } from './bindings/AuditRow';
import type { RolloutPreview } from './bindings/RolloutPreview';
import type { ScalePreview } from './bindings/ScalePreview';
import type { AccountTestResult } from './bindings/AccountTestResult';
import type { AccountView } from './bindings/AccountView';
import type { Alert } from './bindings/Alert';
import type { Anomaly } from './bindings/Anomaly';
import type { AnomalyPage } from './bindings/AnomalyPage';
import type { AnomalyQuery } from './bindings/AnomalyQuery';
import type { AlertDetail } from './bindings/AlertDetail';
import type { AlertQuery } from './bindings/AlertQuery';
import type { AlertsChanged } from './bindings/AlertsChanged';
import type { AppInfo } from './bindings/AppInfo';
import type { Budget } from './bindings/Budget';
import type { BudgetsList } from './bindings/BudgetsList';
import type { BulkAlertOutcome } from './bindings/BulkAlertOutcome';
import type { ChartRef } from './bindings/ChartRef';
import type { ClusterDetail } from './bindings/ClusterDetail';
import type { CostView } from './bindings/CostView';
import type { CostViewRequest } from './bindings/CostViewRequest';
import type { FleetCostView } from './bindings/FleetCostView';
import type { CommandError } from './bindings/CommandError';
import type { DiscoveryFinished } from './bindings/DiscoveryFinished';
import type { DiscoveryProgress } from './bindings/DiscoveryProgress';
import type { ExportFormat } from './bindings/ExportFormat';
import type { CollectionFinished } from './bindings/CollectionFinished';
import type { ExportResult } from './bindings/ExportResult';
import type { FleetHealthView } from './bindings/FleetHealthView';
import type { FleetOverview } from './bindings/FleetOverview';
import type { HeatmapView } from './bindings/HeatmapView';
import type { Mode } from './bindings/Mode';
import type { RangeRequest } from './bindings/RangeRequest';
import type { ResourceKind } from './bindings/ResourceKind';
import type { SourceError } from './bindings/SourceError';
import type { WorkloadKey } from './bindings/WorkloadKey';
import type { WorkloadPage } from './bindings/WorkloadPage';
import type { WorkloadQuery } from './bindings/WorkloadQuery';
import type { WorkloadUsage } from './bindings/WorkloadUsage';
import type { CachedLogs } from './bindings/CachedLogs';
import type { ClusterEvent } from './bindings/ClusterEvent';
import type { LogBatch } from './bindings/LogBatch';
import type { LogFollowOptions } from './bindings/LogFollowOptions';
import type { LogFollowStarted } from './bindings/LogFollowStarted';
import type { LogTarget } from './bindings/LogTarget';
import type { LogExportFormat } from './bindings/LogExportFormat';
import type { PatternView } from './bindings/PatternView';
import type { NodePoolList } from './bindings/NodePoolList';
import type { NodePoolOutcome } from './bindings/NodePoolOutcome';
import type { NodePoolPreview } from './bindings/NodePoolPreview';
import type { NodePoolProgress } from './bindings/NodePoolProgress';
import type { FailoverGroup, FailoverPlanView, FailoverProgress, FailoverRun, HpaEditInput, HpaOutcome, HpaPreview, TrafficChoice } from './failover';

export type { ActionOutcome, ActionProgress, AuditRow, RolloutPreview, ScalePreview };
export type { NodePoolList, NodePoolOutcome, NodePoolPreview, NodePoolProgress };
export type { CachedLogs, ClusterEvent, LogBatch, LogFollowOptions, LogFollowStarted, LogTarget, PatternView };
export type { AccountInput, AccountTestResult, AccountView, AppInfo, CommandError, DiscoveryFinished, DiscoveryProgress, FleetOverview, Mode, SourceError };

/** Event names, as `src-tauri/app/src/fleet.rs` emits them. */
export const EVENT_DISCOVERY_PROGRESS = 'discovery-progress';
export const EVENT_DISCOVERY_FINISHED = 'discovery-finished';
export const EVENT_COLLECTION_FINISHED = 'collection-finished';
export const EVENT_ALERTS_CHANGED = 'alerts-changed';
/** As `src-tauri/app/src/commands/actions.rs` emits it while an apply follows its rollout. */
export const EVENT_ACTION_PROGRESS = 'action-progress';
/** As `src-tauri/app/src/commands/failover.rs` emits it for every step of a run or rollback, and at its end. */
export const EVENT_FAILOVER_PROGRESS = 'failover-progress';
/** `src-tauri/app/src/commands/nodepool.rs`: one per change seen while a resize is polled. */
export const EVENT_NODEPOOL_PROGRESS = 'nodepool-progress';

export function fleetOverview(): Promise<FleetOverview> {
  return call<FleetOverview>('fleet_overview');
}

/** Health scores of the fleet and each cluster (last hour), worst first, with reasons and 24 h history. */
export function fleetHealth(): Promise<FleetHealthView> {
  return call<FleetHealthView>('fleet_health');
}

export function appInfo(): Promise<AppInfo> {
  return call<AppInfo>('app_info');
}

/**
 * Asks the backend's discovery loop for a run now. Resolves at once; progress and the result arrive as
 * `discovery-progress` / `discovery-finished` events. Rejects with kind `offline` in offline mode.
 */
export function refreshFleet(): Promise<void> {
  return call<void>('refresh_fleet');
}

/** Settings → Accounts: the registered accounts (references only, never a secret). */
export function accountsList(): Promise<AccountView[]> {
  return call<AccountView[]>('accounts_list');
}

/**
 * Adds (or, with `replace`, edits) an account. A non-empty `secret` goes straight to the OS keyring; the
 * reply never carries it back. The first account turns a sandbox session live.
 */
export function accountSave(input: AccountInput): Promise<AccountView> {
  return call<AccountView>('account_save', { input });
}

/** Removes an account and its keyring entry. */
export function accountRemove(name: string): Promise<void> {
  return call<void>('account_remove', { name });
}

/** Discovers with one account, without touching the cache: what it finds, or why it fails. */
export function accountTest(name: string): Promise<AccountTestResult> {
  return call<AccountTestResult>('account_test', { name });
}

/** The Cluster screen for one cluster and range, read from the cache only (fast, works offline). */
export function clusterDetail(clusterId: string, range: RangeRequest, resource: ResourceKind): Promise<ClusterDetail> {
  return call<ClusterDetail>('cluster_detail', { clusterId, range, resource });
}

/** One service's latency heatmap (time × bucket) with its p50/p95/p99 lines. */
export function latencyHeatmap(clusterId: string, service: string, range: RangeRequest): Promise<HeatmapView> {
  return call<HeatmapView>('latency_heatmap', { clusterId, service, range });
}

/** One page of the cross-cluster Workloads table, plus the filtered total. */
export function workloadsPage(query: WorkloadQuery): Promise<WorkloadPage> {
  return call<WorkloadPage>('workloads_page', { query });
}

/** Latest CPU/memory for the given workloads (the UI asks only for the visible rows). */
export function workloadsUsage(keys: WorkloadKey[]): Promise<WorkloadUsage[]> {
  return call<WorkloadUsage[]>('workloads_usage', { keys });
}

/** Alerts from the cache, most recently seen first (the screen re-sorts worst first). */
export function alertsList(query: AlertQuery): Promise<Alert[]> {
  return call<Alert[]>('alerts_list', { query });
}

/** Acknowledges the open alerts among `ids` (1 to 500); each is audited. The reply lists what was skipped and why. */
export function alertsAcknowledge(ids: number[]): Promise<BulkAlertOutcome> {
  return call<BulkAlertOutcome>('alerts_acknowledge', { ids });
}

/** Resolves the open or acknowledged alerts among `ids` (1 to 500); each is audited. */
export function alertsResolve(ids: number[]): Promise<BulkAlertOutcome> {
  return call<BulkAlertOutcome>('alerts_resolve', { ids });
}

/** One alert with the timeline of its state changes (from the audit log). */
export function alertGet(id: number): Promise<AlertDetail> {
  return call<AlertDetail>('alert_get', { id });
}

/** Resolved alerts, most recently resolved first, a page at a time. */
export function alertsHistory(cluster: string | null, offset: number, limit: number): Promise<Alert[]> {
  return call<Alert[]>('alerts_history', { cluster, offset, limit });
}

/** Anomalies from the cache matching `query`, most recently seen first (at most 1000 a page). */
export function anomaliesList(query: AnomalyQuery): Promise<AnomalyPage> {
  return call<AnomalyPage>('anomalies_list', { query });
}

/** One anomaly by id, with all its probable causes. */
export function anomalyGet(id: number): Promise<Anomaly> {
  return call<Anomaly>('anomaly_get', { id });
}

/** Writes a chart to the user's Downloads folder; resolves with the path written. */
export function chartExport(chart: ChartRef, format: ExportFormat): Promise<ExportResult> {
  return call<ExportResult>('chart_export', { chart, format });
}

/** Window event the Alerts screen fires after an acknowledge or resolve (the nav badge re-reads its count). */
export const ALERTS_ACTED = 'cloudops:alerts-acted';

/** Window event the Accounts section fires after a save or a removal (the mode may have changed). */
export const ACCOUNTS_CHANGED = 'cloudops:accounts-changed';

/** Reads the live deployment and plans scaling it; the token applies exactly this preview (5 minutes). */
export function scalePreview(cluster: string, namespace: string, deployment: string, replicas: number): Promise<ScalePreview> {
  return call<ScalePreview>('scale_preview', { cluster, namespace, deployment, replicas });
}

/** Applies a scale preview; a scale to zero needs the deployment's name in `typedConfirmation`. */
export function scaleApply(token: string, typedConfirmation: string | null): Promise<ActionOutcome> {
  return call<ActionOutcome>('scale_apply', { token, typedConfirmation });
}

export function rolloutPreview(
  cluster: string,
  namespace: string,
  deployment: string,
  action: 'restart' | 'undo',
): Promise<RolloutPreview> {
  return call<RolloutPreview>('rollout_preview', { cluster, namespace, deployment, action });
}

export function rolloutApply(token: string): Promise<ActionOutcome> {
  return call<ActionOutcome>('rollout_apply', { token });
}

/** The audit log, newest first, at most `limit` rows. */
export function auditLog(limit: number): Promise<AuditRow[]> {
  return call<AuditRow[]>('audit_log', { limit });
}

/** Writes the filtered audit log into Downloads (never over a file). */
export function auditExport(filter: AuditFilter, format: AuditExportFormat): Promise<ExportResult> {
  return call<ExportResult>('audit_export', { filter, format });
}

/** The Cost screen's data, from the cache (works offline). */
export function costView(request: CostViewRequest): Promise<CostView> {
  return call<CostView>('cost_view', { request });
}

/** The Fleet screen's cost: month to date per cluster and per currency with the forecast, from the cache. */
export function fleetCost(): Promise<FleetCostView> {
  return call<FleetCostView>('fleet_cost');
}

/** The months the Cost screen's picker offers: the current one, then earlier ones with cost in the cache. */
export function costMonths(): Promise<string[]> {
  return call<string[]>('cost_months');
}

/** Writes the month's daily cost rows as CSV into Downloads (never over a file). */
export function costExport(month: string, cluster: string | null): Promise<ExportResult> {
  return call<ExportResult>('cost_export', { month, cluster });
}

/** Every budget with this month's spend, forecast and status, from the cache. */
export function budgetsList(): Promise<BudgetsList> {
  return call<BudgetsList>('budgets_list');
}

/** Saves a new budget (id null) or replaces one; resolves to its id. Audited; the budget alerts are re-checked. */
export function budgetSet(budget: Budget): Promise<number> {
  return call<number>('budget_set', { budget });
}

/** Deletes the budget named `name`; false when there was none. Audited; its alerts resolve. */
export function budgetDelete(name: string): Promise<boolean> {
  return call<boolean>('budget_delete', { name });
}

export function readOnlyGet(): Promise<boolean> {
  return call<boolean>('read_only_get');
}

/** Persists read-only mode (audited); resolves with the new value. */
export function readOnlySet(enabled: boolean): Promise<boolean> {
  return call<boolean>('read_only_set', { enabled });
}

/** Calls `cb` for every `action-progress` event. Returns the unlisten function. */
/**
 * Follows logs: batches (every ~100 ms or 500 lines, with the dropped count and gap markers) arrive on
 * `onBatch` until the last one (`done`) or `logsStop(stream_id)`.
 */
export function logsFollow(target: LogTarget, options: LogFollowOptions, onBatch: (b: LogBatch) => void): Promise<LogFollowStarted> {
  if (!isTauri()) return call<LogFollowStarted>('logs_follow');
  const channel = new Channel<LogBatch>();
  channel.onmessage = onBatch;
  return call<LogFollowStarted>('logs_follow', { target, options, onBatch: channel });
}

export function logsStop(streamId: number): Promise<boolean> {
  return call<boolean>('logs_stop', { streamId });
}

/** Writes the Logs panel's lines (rendered as `format`) into Downloads; never over an existing file. */
export function logsExport(name: string, format: LogExportFormat, text: string): Promise<ExportResult> {
  return call<ExportResult>('logs_export', { name, format, text });
}

/** The target's cached lines (the newest `limit`) and its clusters' cached patterns, with their time. */
export function logsCached(target: LogTarget, limit: number): Promise<CachedLogs> {
  return call<CachedLogs>('logs_cached', { target, limit });
}

/** Cached error patterns of a cluster (null: the fleet, merged), seen within `sinceSeconds`. */
export function logsPatterns(cluster: string | null, sinceSeconds: number | null): Promise<PatternView[]> {
  return call<PatternView[]>('logs_patterns', { cluster, sinceSeconds });
}

/** The cluster's events as last collected, folded by object and reason, most recent first. */
export function clusterEvents(clusterId: string): Promise<ClusterEvent[]> {
  return call<ClusterEvent[]>('cluster_events', { clusterId });
}

export function onActionProgress(cb: (p: ActionProgress) => void): () => void {
  return subscribe<ActionProgress>(EVENT_ACTION_PROGRESS, cb);
}

/** Calls `cb` for every `discovery-progress` event. Returns the unlisten function. */
export function onDiscoveryProgress(cb: (p: DiscoveryProgress) => void): () => void {
  return subscribe<DiscoveryProgress>(EVENT_DISCOVERY_PROGRESS, cb);
}

/** Calls `cb` when a discovery run ends (the cache already holds its result). Returns the unlisten function. */
export function onDiscoveryFinished(cb: (f: DiscoveryFinished) => void): () => void {
  return subscribe<DiscoveryFinished>(EVENT_DISCOVERY_FINISHED, cb);
}

/** Calls `cb` after each collection pass (the cache already holds it, and its health scores). Returns the unlisten function. */
export function onCollectionFinished(cb: (f: CollectionFinished) => void): () => void {
  return subscribe<CollectionFinished>(EVENT_COLLECTION_FINISHED, cb);
}

/** Calls `cb` after the alert rules ran on a pass (the cache already holds the alerts). Returns the unlisten function. */
export function onAlertsChanged(cb: (c: AlertsChanged) => void): () => void {
  return subscribe<AlertsChanged>(EVENT_ALERTS_CHANGED, cb);
}

/**
 * `listen` is async, but components want a synchronous cleanup: this hands back one at once and unlistens
 * as soon as the registration lands. Without a backend (plain browser) it is a no-op; a refused
 * registration is logged, never thrown, so a screen still renders from the cache.
 */
function subscribe<T>(event: string, cb: (payload: T) => void): () => void {
  if (!isTauri()) return () => {};
  let stopped = false;
  let unlisten: (() => unknown) | null = null;
  const release = (fn: () => unknown) => {
    try {
      // Tauri's unlisten returns a promise; a window that is going away may reject it.
      Promise.resolve(fn()).catch(() => {});
    } catch {
      // Already gone.
    }
  };
  try {
    listen<T>(event, (e) => {
      if (!stopped) cb(e.payload);
    }).then(
      (fn) => {
        if (typeof fn !== 'function') return;
        if (stopped) release(fn);
        else unlisten = fn;
      },
      (err: unknown) => console.warn(`Cannot listen to ${event}:`, toCommandError(err).message),
    );
  } catch (err) {
    console.warn(`Cannot listen to ${event}:`, toCommandError(err).message);
  }
  return () => {
    stopped = true;
    if (unlisten) release(unlisten);
    unlisten = null;
  };
}

async function call<T>(command: string, args?: Record<string, unknown>): Promise<T> {
  // Without this check a plain browser (`npm run dev`) fails deep inside the API with a TypeError.
  if (!isTauri()) {
    throw {
      kind: 'no_backend',
      message: `The desktop backend is not available, so "${command}" could not run.`,
      hint: 'Open the UI through the desktop app (`make run`), not in a plain browser.',
    } satisfies CommandError;
  }
  try {
    return await invoke<T>(command, args);
  } catch (e) {
    throw toCommandError(e);
  }
}

/** Turns whatever a rejection carries into a CommandError. */
export function toCommandError(e: unknown): CommandError {
  if (typeof e === 'string') return { kind: 'unknown', message: e, hint: '' };
  if (e instanceof Error) return { kind: 'unknown', message: e.message || e.name, hint: '' };
  if (e !== null && typeof e === 'object') {
    const o = e as Record<string, unknown>;
    if (typeof o.message === 'string') {
      return {
        kind: typeof o.kind === 'string' && o.kind !== '' ? o.kind : 'unknown',
        message: o.message,
        hint: typeof o.hint === 'string' ? o.hint : '',
      };
    }
    return { kind: 'unknown', message: safeJson(e), hint: '' };
  }
  return { kind: 'unknown', message: e === undefined || e === null ? 'Unknown error' : String(e), hint: '' };
}

/** The text behind "Copy diagnostics": only what the backend chose to tell us, so no secrets. */
export function diagnosticsText(err: CommandError): string {
  return `kind: ${err.kind}\nmessage: ${err.message}\nhint: ${err.hint || '(none)'}`;
}

function safeJson(v: unknown): string {
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}

/** Failover groups: deployments cached in two clusters or more, plus the user's. */
export function failoverGroups(): Promise<FailoverGroup[]> {
  return call<FailoverGroup[]>('failover_groups');
}

/** The plan (ranked when `to` is null) and a one-shot token; no token when the plan refuses. */
export function failoverPlan(group: string, from: string, to: string | null, floor: number): Promise<FailoverPlanView> {
  return call<FailoverPlanView>('failover_plan', { group, from, to, floor });
}

/**
 * Starts the planned run; resolves with its id, the steps follow as `failover-progress` events. With `manual`
 * traffic the run pauses at the traffic step until `failoverTrafficConfirm` answers.
 */
export function failoverRun(token: string, typedConfirmation: string | null, traffic: TrafficChoice = 'skip'): Promise<number> {
  return call<number>('failover_run', { token, typedConfirmation, traffic });
}

/** Answers a run paused at its manual traffic step: confirmed goes on to the drain, false fails the step safely. */
export function failoverTrafficConfirm(runId: number, confirmed: boolean): Promise<boolean> {
  return call<boolean>('failover_traffic_confirm', { runId, confirmed });
}

/** Running and past runs, newest first, with their steps. */
export function failoverRuns(limit: number): Promise<FailoverRun[]> {
  return call<FailoverRun[]>('failover_runs', { limit });
}

export function failoverResume(runId: number): Promise<number> {
  return call<number>('failover_resume', { runId });
}

export function failoverRollback(runId: number): Promise<number> {
  return call<number>('failover_rollback', { runId });
}

export function onFailoverProgress(cb: (p: FailoverProgress) => void): () => void {
  return subscribe<FailoverProgress>(EVENT_FAILOVER_PROGRESS, cb);
}

/** Plans an HPA change; all nulls is "Make autoscaled" (the defaults for a new HPA). */
export function hpaPreview(cluster: string, namespace: string, deployment: string, edit: HpaEditInput): Promise<HpaPreview> {
  return call<HpaPreview>('hpa_preview', { cluster, namespace, deployment, ...edit });
}

export function hpaApply(token: string): Promise<HpaOutcome> {
  return call<HpaOutcome>('hpa_apply', { token });
}

/** The cluster's node pools: the cloud's own answer when it is reachable, else the cache's (`source` says which). */
export function nodepoolList(cluster: string): Promise<NodePoolList> {
  return call<NodePoolList>('nodepool_list', { cluster });
}

/** Reads the pool from the cloud and plans resizing it; the token applies exactly this preview (5 minutes). */
export function nodepoolPreview(cluster: string, pool: string, count: number): Promise<NodePoolPreview> {
  return call<NodePoolPreview>('nodepool_preview', { cluster, pool, count });
}

/** Sends the resize and follows it; a pool going to 0 needs its name in `typedConfirmation`. */
export function nodepoolApply(token: string, typedConfirmation: string | null): Promise<NodePoolOutcome> {
  return call<NodePoolOutcome>('nodepool_apply', { token, typedConfirmation });
}

export function onNodepoolProgress(cb: (p: NodePoolProgress) => void): () => void {
  return subscribe<NodePoolProgress>(EVENT_NODEPOOL_PROGRESS, cb);
}
