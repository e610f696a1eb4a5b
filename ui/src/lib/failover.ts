// The failover wizard's types, as `src-tauri/app/src/commands/failover.rs` sends them (hand-written:
// the plan types live in cloudops-core without ts-rs), and the live view's step bookkeeping.
import type { CommandError } from './bindings/CommandError';

export interface WorkloadRef {
  cluster_id: string;
  namespace: string;
  deployment: string;
}
export interface FailoverGroup {
  key: string;
  members: { workload: WorkloadRef; origin: string }[];
}
export interface HpaBounds {
  min: number;
  max: number;
}
export interface Candidate {
  cluster_id: string;
  provider: string;
  region: string;
  health: number | null;
  fits: boolean;
  room: number;
  diversity: string;
  pod_hourly_price: number | null;
  refused: string | null;
}
export interface FailoverPlan {
  group: string;
  source: WorkloadRef;
  target: WorkloadRef;
  source_provider: string;
  target_provider: string;
  crosses_cloud: boolean;
  source_replicas: number;
  source_ready: number;
  target_replicas: number;
  target_ready: number;
  replicas_to_move: number;
  target_after: number;
  source_floor: number;
  baseline_ready: number;
  fit: { fits: boolean; summary: string };
  source_health: number | null;
  target_health: number | null;
  cost: { hourly: number | null; note: string | null };
  target_hpa: { before: HpaBounds; after: HpaBounds } | null;
  source_hpa: { before: HpaBounds; after: HpaBounds } | null;
  candidates: Candidate[];
  why: string[];
  refusal: string | null;
  warnings: string[];
  typed_confirmation: string | null;
}
export interface FailoverPlanView {
  token: string | null;
  plan: FailoverPlan;
  unreachable: { cluster: string; kind: string; error: string }[];
  traffic_note: string;
  expires_at_ms: number;
}
export type StepName = 'preflight' | 'raise_target' | 'wait_ready' | 'traffic' | 'drain_source' | 'verify';
export type StepStatus = 'running' | 'done' | 'failed' | 'skipped' | 'rolled_back' | string;
export interface StepRow {
  step: StepName;
  status: StepStatus;
  started_ms: number;
  ended_ms: number | null;
  detail: unknown;
}
export interface FailoverRun {
  id: number;
  group: string;
  source_cluster: string;
  target_cluster: string;
  state: string;
  step: StepName | null;
  created_ms: number;
  updated_ms: number;
  error: string | null;
  steps: StepRow[];
}
export type FailoverEvent =
  | { event: 'step_started'; step: StepName }
  | { event: 'step_finished'; step: StepName; status: StepStatus }
  | { event: 'target_ready'; ready: number; wanted: number }
  | { event: 'source_scaled'; replicas: number }
  | { event: 'aborted'; reason: string }
  | { event: 'traffic_confirmation'; prompt: string };
export interface WatchStats {
  samples: number;
  rate_hz: number;
  read_errors: number;
  min_total_ready: number | null;
  baseline_ready: number;
  violation: string | null;
}
export interface FailoverProgress {
  run_id: number;
  mode: 'run' | 'rollback';
  event: FailoverEvent | null;
  report: { run_id: number; state: string; watch: WatchStats } | null;
  error: CommandError | null;
}

export const STEPS: { step: StepName; label: string }[] = [
  { step: 'preflight', label: 'Preflight' },
  { step: 'raise_target', label: 'Raise the target' },
  { step: 'wait_ready', label: 'Wait until the target is ready' },
  { step: 'traffic', label: 'Traffic' },
  { step: 'drain_source', label: 'Drain the source' },
  { step: 'verify', label: 'Verify' },
];

/** What the live view shows: each step's status, the last ready count, the end. */
export interface LiveRun {
  status: Partial<Record<StepName, StepStatus>>;
  ready: { ready: number; wanted: number } | null;
  sourceReplicas: number | null;
  aborted: string | null;
  /** The question of a manual traffic step while the run waits for Confirm or Abort. */
  trafficPrompt: string | null;
  finished: FailoverProgress['report'];
  error: CommandError | null;
}

/** What the app does at the traffic step (a hook command is CLI-only). */
export type TrafficChoice = 'skip' | 'manual';

export function emptyLive(): LiveRun {
  return { status: {}, ready: null, sourceReplicas: null, aborted: null, trafficPrompt: null, finished: null, error: null };
}

/** Folds one progress event into the live view (pure: returns a new value). */
export function applyProgress(live: LiveRun, p: FailoverProgress): LiveRun {
  const next: LiveRun = { ...live, status: { ...live.status } };
  const e = p.event;
  if (e === null) {
    next.finished = p.report;
    next.error = p.error;
    next.trafficPrompt = null;
  } else if (e.event === 'step_started') next.status[e.step] = 'running';
  else if (e.event === 'step_finished') {
    next.status[e.step] = e.status;
    if (e.step === 'traffic') next.trafficPrompt = null;
  } else if (e.event === 'traffic_confirmation') next.trafficPrompt = e.prompt;
  else if (e.event === 'target_ready') next.ready = { ready: e.ready, wanted: e.wanted };
  else if (e.event === 'source_scaled') next.sourceReplicas = e.replicas;
  else if (e.event === 'aborted') next.aborted = e.reason;
  return next;
}

/** A run that can continue, and one that can be rolled back (the backend checks it again). */
export function canResume(run: FailoverRun): boolean {
  return run.state === 'running' || run.state === 'failed' || run.state === 'aborted';
}
export function canRollback(run: FailoverRun): boolean {
  return run.state !== 'rolled_back';
}

/** The HPA fields the app reads and writes (`cloudops_core::plan::hpa`). */
export interface HpaSettings {
  min: number;
  max: number;
  cpu_percent: number | null;
  memory_percent: number | null;
  scale_up: { percent: number; period_secs: number } | null;
  scale_down: { percent: number; period_secs: number } | null;
  scale_down_stabilization_secs: number | null;
}
export interface HpaPlan {
  target: WorkloadRef;
  name: string;
  action: 'create' | 'edit';
  before: HpaSettings | null;
  after: HpaSettings;
  changes: { field: string; before: string; after: string }[];
  replicas: number;
  warnings: string[];
}
export interface HpaPreview {
  token: string;
  plan: HpaPlan;
  expires_at_ms: number;
}
export interface HpaOutcome {
  target: WorkloadRef;
  name: string;
  action: string;
  audit_ids: number[];
}
export interface HpaEditInput {
  min: number | null;
  max: number | null;
  cpuPercent: number | null;
  memoryPercent: number | null;
}

/** An optional whole number in [lo, hi] from a text field: '' is "keep", anything else invalid is undefined. */
export function optionalInt(text: string, lo: number, hi: number): number | null | undefined {
  const t = text.trim();
  if (t === '') return null;
  if (!/^\d+$/.test(t)) return undefined;
  const n = Number(t);
  return n >= lo && n <= hi ? n : undefined;
}
