//! Failover runs as a persisted state machine (issue 6, BRIEF §8), and the
//! groups the user defines by hand.
//!
//! The executor writes a step's row as `running` *before* it starts the
//! step and as `done`/`failed`/`skipped` after it ends. A crash mid-step
//! leaves the row `running`: [`FailoverRun::next_step`] is then that step,
//! and the executor re-runs it (every step is written to be idempotent:
//! absolute replica counts, waits that re-read).

use rusqlite::{params, OptionalExtension};
use serde::{Deserialize, Serialize};

use super::cluster_state::{WorkloadQuery, MAX_WORKLOAD_PAGE};
use super::{now_ms, Store, StoreError};
use crate::plan::failover::CachedDeployment;
use crate::plan::scale::WorkloadRef;

/// The steps, in the order they run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FailoverStep {
    Preflight,
    RaiseTarget,
    WaitReady,
    Traffic,
    DrainSource,
    Verify,
}

impl FailoverStep {
    pub const ALL: [FailoverStep; 6] = [
        FailoverStep::Preflight,
        FailoverStep::RaiseTarget,
        FailoverStep::WaitReady,
        FailoverStep::Traffic,
        FailoverStep::DrainSource,
        FailoverStep::Verify,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            FailoverStep::Preflight => "preflight",
            FailoverStep::RaiseTarget => "raise_target",
            FailoverStep::WaitReady => "wait_ready",
            FailoverStep::Traffic => "traffic",
            FailoverStep::DrainSource => "drain_source",
            FailoverStep::Verify => "verify",
        }
    }

    pub fn parse(s: &str) -> Option<FailoverStep> {
        Self::ALL.into_iter().find(|x| x.as_str() == s)
    }
}

/// Where a run is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunState {
    /// Started, or interrupted (a crash leaves it so): `resume` continues.
    Running,
    Completed,
    /// A step failed; `resume` retries it, `rollback` undoes.
    Failed,
    /// The invariant watcher stopped it and restored the source.
    Aborted,
    RollingBack,
    RolledBack,
}

impl RunState {
    pub fn as_str(self) -> &'static str {
        match self {
            RunState::Running => "running",
            RunState::Completed => "completed",
            RunState::Failed => "failed",
            RunState::Aborted => "aborted",
            RunState::RollingBack => "rolling_back",
            RunState::RolledBack => "rolled_back",
        }
    }

    pub fn parse(s: &str) -> Option<RunState> {
        [
            RunState::Running,
            RunState::Completed,
            RunState::Failed,
            RunState::Aborted,
            RunState::RollingBack,
            RunState::RolledBack,
        ]
        .into_iter()
        .find(|x| x.as_str() == s)
    }
}

/// A step's row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepStatus {
    Running,
    Done,
    Skipped,
    Failed,
    RolledBack,
}

impl StepStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            StepStatus::Running => "running",
            StepStatus::Done => "done",
            StepStatus::Skipped => "skipped",
            StepStatus::Failed => "failed",
            StepStatus::RolledBack => "rolled_back",
        }
    }

    pub fn parse(s: &str) -> Option<StepStatus> {
        [
            StepStatus::Running,
            StepStatus::Done,
            StepStatus::Skipped,
            StepStatus::Failed,
            StepStatus::RolledBack,
        ]
        .into_iter()
        .find(|x| x.as_str() == s)
    }

    /// The step need not run again.
    pub fn is_complete(self) -> bool {
        matches!(self, StepStatus::Done | StepStatus::Skipped)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepRow {
    pub step: FailoverStep,
    pub status: StepStatus,
    pub started_ms: i64,
    pub ended_ms: Option<i64>,
    /// What the step observed or did (the preflight's baseline, the
    /// sample count...).
    pub detail: serde_json::Value,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FailoverRun {
    pub id: i64,
    pub group: String,
    pub source_cluster: String,
    pub target_cluster: String,
    /// The plan and the run's options, as the executor stored them.
    pub plan: serde_json::Value,
    pub state: RunState,
    /// The step last started.
    pub step: Option<FailoverStep>,
    pub created_ms: i64,
    pub updated_ms: i64,
    pub error: Option<String>,
    /// In step order.
    pub steps: Vec<StepRow>,
}

impl FailoverRun {
    pub fn step_row(&self, step: FailoverStep) -> Option<&StepRow> {
        self.steps.iter().find(|s| s.step == step)
    }

    /// The first step that is not done or skipped: where `resume` starts.
    /// `None` when every step is complete.
    pub fn next_step(&self) -> Option<FailoverStep> {
        FailoverStep::ALL.into_iter().find(|s| {
            !self
                .step_row(*s)
                .is_some_and(|row| row.status.is_complete())
        })
    }

    /// Steps that started (whatever their status), in order: what a
    /// rollback must consider undoing.
    pub fn started_steps(&self) -> Vec<FailoverStep> {
        self.steps
            .iter()
            .filter(|s| s.status != StepStatus::RolledBack)
            .map(|s| s.step)
            .collect()
    }
}

fn corrupt(col: usize, what: &str, value: &str) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(
        col,
        rusqlite::types::Type::Text,
        format!("unknown failover {what} {value:?}").into(),
    )
}

impl Store {
    /// Cached deployments as (cluster, namespace, name): all of them, or
    /// those named `ns/name`, paged through. Failover groups are built from
    /// these (the CLI's and the app's alike).
    pub fn cached_deployments(
        &self,
        only: Option<(&str, &str)>,
    ) -> Result<Vec<CachedDeployment>, StoreError> {
        let mut out = Vec::new();
        let mut offset = 0;
        loop {
            let page = self.workloads(&WorkloadQuery {
                namespace: only.map(|(ns, _)| ns.to_owned()),
                search: only.map(|(_, name)| name.to_owned()),
                offset,
                limit: MAX_WORKLOAD_PAGE,
                ..Default::default()
            })?;
            let n = page.rows.len() as u32;
            out.extend(
                page.rows
                    .into_iter()
                    .filter(|r| {
                        r.kind == "Deployment" && only.is_none_or(|(_, name)| r.name == name)
                    })
                    .map(|r| (r.cluster, r.namespace, r.name)),
            );
            offset += n;
            if n == 0 || u64::from(offset) >= page.total {
                return Ok(out);
            }
        }
    }

    /// Records a new run in state `running` with no step started; returns
    /// its id.
    pub fn create_failover_run(
        &self,
        group: &str,
        source_cluster: &str,
        target_cluster: &str,
        plan: &serde_json::Value,
    ) -> Result<i64, StoreError> {
        let now = now_ms();
        self.conn()
            .execute(
                "INSERT INTO failover_runs (group_key, source_cluster, target_cluster, plan_json,
                     state, step, created_ms, updated_ms, error)
                 VALUES (?1, ?2, ?3, ?4, 'running', NULL, ?5, ?5, NULL)",
                params![group, source_cluster, target_cluster, plan.to_string(), now],
            )
            .map_err(|e| self.err(e))?;
        Ok(self.conn().last_insert_rowid())
    }

    /// Marks `step` running (written before the step does anything), and
    /// the run `running` at that step.
    pub fn failover_step_started(&self, run: i64, step: FailoverStep) -> Result<(), StoreError> {
        let now = now_ms();
        let tx = self
            .conn()
            .unchecked_transaction()
            .map_err(|e| self.err(e))?;
        tx.execute(
            "INSERT INTO failover_steps (run_id, step, status, started_ms, ended_ms, detail_json)
             VALUES (?1, ?2, 'running', ?3, NULL, '{}')
             ON CONFLICT (run_id, step) DO UPDATE SET status = 'running',
                 started_ms = excluded.started_ms, ended_ms = NULL",
            params![run, step.as_str(), now],
        )
        .map_err(|e| self.err(e))?;
        let n = tx
            .execute(
                "UPDATE failover_runs SET step = ?2, state = 'running', error = NULL,
                     updated_ms = ?3 WHERE id = ?1",
                params![run, step.as_str(), now],
            )
            .map_err(|e| self.err(e))?;
        if n == 0 {
            return Err(StoreError::InvalidInput {
                detail: format!("there is no failover run {run}"),
            });
        }
        tx.commit().map_err(|e| self.err(e))
    }

    /// Records how `step` ended, with what it observed.
    pub fn failover_step_finished(
        &self,
        run: i64,
        step: FailoverStep,
        status: StepStatus,
        detail: &serde_json::Value,
    ) -> Result<(), StoreError> {
        let now = now_ms();
        let tx = self
            .conn()
            .unchecked_transaction()
            .map_err(|e| self.err(e))?;
        let n = tx
            .execute(
                "UPDATE failover_steps SET status = ?3, ended_ms = ?4, detail_json = ?5
                 WHERE run_id = ?1 AND step = ?2",
                params![run, step.as_str(), status.as_str(), now, detail.to_string()],
            )
            .map_err(|e| self.err(e))?;
        if n == 0 {
            return Err(StoreError::InvalidInput {
                detail: format!("failover run {run} never started {}", step.as_str()),
            });
        }
        tx.execute(
            "UPDATE failover_runs SET updated_ms = ?2 WHERE id = ?1",
            params![run, now],
        )
        .map_err(|e| self.err(e))?;
        tx.commit().map_err(|e| self.err(e))
    }

    /// Sets the run's state (and its error, cleared with `None`).
    pub fn set_failover_state(
        &self,
        run: i64,
        state: RunState,
        error: Option<&str>,
    ) -> Result<(), StoreError> {
        let n = self
            .conn()
            .execute(
                "UPDATE failover_runs SET state = ?2, error = ?3, updated_ms = ?4 WHERE id = ?1",
                params![run, state.as_str(), error, now_ms()],
            )
            .map_err(|e| self.err(e))?;
        if n == 0 {
            return Err(StoreError::InvalidInput {
                detail: format!("there is no failover run {run}"),
            });
        }
        Ok(())
    }

    /// One run with its steps.
    pub fn failover_run(&self, id: i64) -> Result<Option<FailoverRun>, StoreError> {
        let run = self
            .conn()
            .query_row(
                "SELECT id, group_key, source_cluster, target_cluster, plan_json, state, step,
                        created_ms, updated_ms, error
                 FROM failover_runs WHERE id = ?1",
                [id],
                run_of_row,
            )
            .optional()
            .map_err(|e| self.err(e))?;
        let Some(mut run) = run else {
            return Ok(None);
        };
        run.steps = self.failover_steps(id)?;
        Ok(Some(run))
    }

    /// The newest `limit` runs, newest first, with their steps.
    pub fn failover_runs(&self, limit: u32) -> Result<Vec<FailoverRun>, StoreError> {
        let ids: Vec<i64> = {
            let mut stmt = self
                .conn()
                .prepare_cached("SELECT id FROM failover_runs ORDER BY id DESC LIMIT ?1")
                .map_err(|e| self.err(e))?;
            let rows = stmt
                .query_map([limit], |r| r.get(0))
                .map_err(|e| self.err(e))?;
            rows.collect::<Result<_, _>>().map_err(|e| self.err(e))?
        };
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            out.extend(self.failover_run(id)?);
        }
        Ok(out)
    }

    fn failover_steps(&self, run: i64) -> Result<Vec<StepRow>, StoreError> {
        let mut stmt = self
            .conn()
            .prepare_cached(
                "SELECT step, status, started_ms, ended_ms, detail_json
                 FROM failover_steps WHERE run_id = ?1",
            )
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([run], |r| {
                let step: String = r.get(0)?;
                let status: String = r.get(1)?;
                let detail: String = r.get(4)?;
                Ok(StepRow {
                    step: FailoverStep::parse(&step).ok_or_else(|| corrupt(0, "step", &step))?,
                    status: StepStatus::parse(&status)
                        .ok_or_else(|| corrupt(1, "step status", &status))?,
                    started_ms: r.get(2)?,
                    ended_ms: r.get(3)?,
                    detail: serde_json::from_str(&detail)
                        .unwrap_or(serde_json::Value::String(detail)),
                })
            })
            .map_err(|e| self.err(e))?;
        let mut steps: Vec<StepRow> = rows.collect::<Result<_, _>>().map_err(|e| self.err(e))?;
        steps.sort_by_key(|s| s.step);
        Ok(steps)
    }

    /// Adds (or replaces) a member of a user-defined group.
    pub fn add_failover_group_member(
        &self,
        group: &str,
        member: &WorkloadRef,
    ) -> Result<(), StoreError> {
        if crate::plan::failover::parse_group_key(group).is_none() {
            return Err(StoreError::InvalidInput {
                detail: format!("a group is named NAMESPACE/DEPLOYMENT, not {group:?}"),
            });
        }
        self.conn()
            .execute(
                "INSERT OR REPLACE INTO failover_groups
                     (group_key, cluster_id, namespace, deployment, added_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![
                    group,
                    member.cluster_id,
                    member.namespace,
                    member.deployment,
                    now_ms()
                ],
            )
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    /// Removes a member; `false` when it was not there.
    pub fn remove_failover_group_member(
        &self,
        group: &str,
        cluster_id: &str,
    ) -> Result<bool, StoreError> {
        let n = self
            .conn()
            .execute(
                "DELETE FROM failover_groups WHERE group_key = ?1 AND cluster_id = ?2",
                params![group, cluster_id],
            )
            .map_err(|e| self.err(e))?;
        Ok(n > 0)
    }

    /// Every user-defined member, as `(group key, workload)`.
    pub fn failover_group_members(&self) -> Result<Vec<(String, WorkloadRef)>, StoreError> {
        let mut stmt = self
            .conn()
            .prepare_cached(
                "SELECT group_key, cluster_id, namespace, deployment FROM failover_groups
                 ORDER BY group_key, cluster_id",
            )
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([], |r| {
                Ok((
                    r.get(0)?,
                    WorkloadRef {
                        cluster_id: r.get(1)?,
                        namespace: r.get(2)?,
                        deployment: r.get(3)?,
                    },
                ))
            })
            .map_err(|e| self.err(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.err(e))
    }
}

fn run_of_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<FailoverRun> {
    let plan: String = r.get(4)?;
    let state: String = r.get(5)?;
    let step: Option<String> = r.get(6)?;
    Ok(FailoverRun {
        id: r.get(0)?,
        group: r.get(1)?,
        source_cluster: r.get(2)?,
        target_cluster: r.get(3)?,
        plan: serde_json::from_str(&plan).unwrap_or(serde_json::Value::String(plan)),
        state: RunState::parse(&state).ok_or_else(|| corrupt(5, "state", &state))?,
        step: match step {
            Some(s) => Some(FailoverStep::parse(&s).ok_or_else(|| corrupt(6, "step", &s))?),
            None => None,
        },
        created_ms: r.get(7)?,
        updated_ms: r.get(8)?,
        error: r.get(9)?,
        steps: Vec::new(),
    })
}
