//! Action executors (issue 6, BRIEF §8): the only code that writes to a
//! cluster or a cloud.
//!
//! Every executor follows the same order:
//! 1. the [`WriteGuard`] refuses in read-only mode, before anything else;
//! 2. the live objects are read and the plan (`cloudops_core::plan`) built;
//! 3. the caller shows the plan and gets the confirmation;
//! 4. an audit row `started` is appended *before* the write, and a row with
//!    the outcome after it, so a crash in between leaves a visible trace;
//! 5. a 409 (the object changed since the read) is re-read and retried
//!    once; a 403 names the verb and resource the identity lacks.

pub mod access_review;
pub mod capacity;
pub mod connect;
pub mod failover;
mod failover_ops;
pub mod failover_plan;
pub mod hpa;
pub mod nodepool;
pub mod rollout;
pub mod scale;

use cloudops_core::audit::{NewAuditEntry, Outcome};
use cloudops_core::store::{Store, StoreError};

/// Refuses writes in read-only mode (k9s's `readOnly`): set by the app's
/// setting, `--read-only` or `CLOUDOPS_READ_ONLY=1`. Checked by each
/// executor itself, so no UI path can bypass it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct WriteGuard {
    pub read_only: bool,
}

impl WriteGuard {
    pub fn check(&self, what: &str) -> Result<(), ActError> {
        if self.read_only {
            Err(ActError::ReadOnly {
                what: what.to_owned(),
            })
        } else {
            Ok(())
        }
    }
}

/// Who acts: the OS user and the cloud identity the cluster is reached
/// with. Both go into every audit row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub os_user: String,
    pub cloud_identity: String,
}

impl Actor {
    pub fn audit_name(&self) -> String {
        format!("{} via {}", self.os_user, self.cloud_identity)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ActError {
    #[error("read-only mode: {what} was refused")]
    ReadOnly { what: String },
    #[error("{what} was not found in {cluster}")]
    NotFound { cluster: String, what: String },
    #[error("{cluster} refused {verb} on {resource}: {message}")]
    Forbidden {
        cluster: String,
        verb: String,
        resource: String,
        message: String,
    },
    #[error("{what} in {cluster} changed while it was being written, twice: {message}")]
    Conflict {
        cluster: String,
        what: String,
        message: String,
    },
    #[error("{what} in {cluster} changed since the preview: {detail}")]
    ChangedSincePreview {
        cluster: String,
        what: String,
        detail: String,
    },
    #[error("the cluster {cluster} rejected {what}: {message}")]
    Rejected {
        cluster: String,
        what: String,
        message: String,
    },
    #[error("cannot reach {cluster} for {what}: {detail}")]
    Unreachable {
        cluster: String,
        what: String,
        detail: String,
    },
    #[error("no cluster {cluster} among the {known} discovered")]
    UnknownCluster { cluster: String, known: usize },
    #[error("cannot connect to {cluster}: {source}")]
    Connect {
        cluster: String,
        #[source]
        source: crate::error::ProviderError,
    },
    #[error(transparent)]
    Plan(#[from] cloudops_core::plan::scale::ScalePlanError),
    #[error(transparent)]
    HpaPlan(#[from] cloudops_core::plan::hpa::HpaPlanError),
    #[error(transparent)]
    FailoverPlan(#[from] cloudops_core::plan::failover::FailoverPlanError),
    #[error("the failover is refused: {reason}")]
    FailoverRefused { reason: String },
    #[error("the failover was aborted: the ready replicas fell below their count before the run: {detail}")]
    InvariantViolated { detail: String },
    #[error("there is no failover run {id}")]
    RunNotFound { id: i64 },
    #[error("failover run {id} cannot go on: {detail}")]
    RunState { id: i64, detail: String },
    #[error("timed out waiting for {what} in {cluster}: {detail}")]
    Timeout {
        cluster: String,
        what: String,
        detail: String,
    },
    #[error("the traffic step failed: {detail}")]
    TrafficStep { detail: String },
    #[error("cannot record the failover's state: {0}")]
    State(#[source] StoreError),
    #[error("cannot write the audit log: {0}")]
    Audit(#[from] StoreError),
}

impl ActError {
    pub fn kind(&self) -> &'static str {
        match self {
            ActError::ReadOnly { .. } => "read_only",
            ActError::NotFound { .. } => "not_found",
            ActError::Forbidden { .. } => "forbidden",
            ActError::Conflict { .. } => "conflict",
            ActError::ChangedSincePreview { .. } => "changed_since_preview",
            ActError::Rejected { .. } => "rejected",
            ActError::Unreachable { .. } => "unreachable",
            ActError::UnknownCluster { .. } => "unknown_cluster",
            ActError::Connect { source, .. } => source.kind(),
            ActError::Plan(_) => "invalid_plan",
            ActError::HpaPlan(_) => "invalid_plan",
            ActError::FailoverPlan(e) => e.kind(),
            ActError::FailoverRefused { .. } => "failover_refused",
            ActError::InvariantViolated { .. } => "invariant_violated",
            ActError::RunNotFound { .. } => "unknown_run",
            ActError::RunState { .. } => "invalid_run_state",
            ActError::Timeout { .. } => "timeout",
            ActError::TrafficStep { .. } => "traffic_step_failed",
            ActError::State(e) => e.kind(),
            ActError::Audit(_) => "audit",
        }
    }

    pub fn hint(&self) -> String {
        match self {
            ActError::ReadOnly { .. } => "Turn read-only mode off in Settings (or drop \
                 --read-only / CLOUDOPS_READ_ONLY) if you mean to change the cluster."
                .into(),
            ActError::NotFound { .. } => "Check the namespace and name (`cloudops workloads \
                 --cluster ID`); the object may have been deleted."
                .into(),
            ActError::Forbidden { verb, resource, .. } => format!(
                "Your identity lacks `{verb}` on `{resource}` in this cluster: ask its admin for \
                 a role that grants it, or use an account that has it."
            ),
            ActError::Conflict { .. } | ActError::ChangedSincePreview { .. } => {
                "Someone (or a controller such as an HPA) changed the object meanwhile: review \
                 the new preview and confirm again."
                    .into()
            }
            ActError::Rejected { .. } => {
                "The API server refused the change as invalid; the message says which field.".into()
            }
            ActError::Unreachable { .. } => {
                "Check the network or VPN to the cluster; nothing was changed if the write did \
                 not reach it (the audit log shows the attempt)."
                    .into()
            }
            ActError::UnknownCluster { .. } => "List the ids with `cloudops clusters` (or the \
                 Fleet screen); a cluster whose account failed to answer is missing until it does."
                .into(),
            ActError::Connect { source, .. } => source.hint(),
            ActError::Plan(_) => "Pick a value in range.".into(),
            ActError::HpaPlan(_) => {
                "Use 1 <= --min <= --max, and targets between 1 and 1000 %.".into()
            }
            ActError::FailoverPlan(e) => e.hint(),
            ActError::FailoverRefused { .. } => "Nothing was changed. Pick another target \
                 (--to), add nodes to this one, or wait until it is healthy, then plan again."
                .into(),
            ActError::InvariantViolated { .. } => "The drain stopped and the source was \
                 restored. Find why ready replicas dropped (`cloudops failover status RUN_ID`), \
                 then resume or roll back."
                .into(),
            ActError::RunNotFound { .. } => "List the runs with `cloudops failover status`.".into(),
            ActError::RunState { .. } => "See `cloudops failover status RUN_ID`: a completed \
                 or rolled-back run is finished; start a new one with `failover run`."
                .into(),
            ActError::Timeout { .. } => "The run stopped where it was and is recorded as \
                 failed: `cloudops failover resume RUN_ID` waits again, `rollback` undoes."
                .into(),
            ActError::TrafficStep { .. } => "Fix the hook (or switch traffic by hand), then \
                 `cloudops failover resume RUN_ID`; or `rollback`."
                .into(),
            ActError::State(e) => e.hint(),
            ActError::Audit(e) => e.hint(),
        }
    }
}

/// A kube error on `verb resource` as an [`ActError`].
pub(crate) fn from_kube(
    cluster: &str,
    verb: &str,
    resource: &str,
    what: &str,
    e: kube::Error,
) -> ActError {
    match e {
        kube::Error::Api(status) => match status.code {
            401 | 403 => ActError::Forbidden {
                cluster: cluster.to_owned(),
                verb: verb.to_owned(),
                resource: resource.to_owned(),
                message: status.message.clone(),
            },
            404 => ActError::NotFound {
                cluster: cluster.to_owned(),
                what: what.to_owned(),
            },
            409 => ActError::Conflict {
                cluster: cluster.to_owned(),
                what: what.to_owned(),
                message: status.message.clone(),
            },
            _ => ActError::Rejected {
                cluster: cluster.to_owned(),
                what: what.to_owned(),
                message: status.message.clone(),
            },
        },
        other => ActError::Unreachable {
            cluster: cluster.to_owned(),
            what: what.to_owned(),
            detail: other.to_string(),
        },
    }
}

/// Appends one audit row.
pub(crate) fn audit(
    store: &Store,
    actor: &Actor,
    action: &str,
    target: &str,
    detail: serde_json::Value,
    outcome: Outcome,
) -> Result<i64, ActError> {
    Ok(store.append_audit(&NewAuditEntry {
        actor: actor.audit_name(),
        action: action.to_owned(),
        target: target.to_owned(),
        detail,
        outcome,
    })?)
}
