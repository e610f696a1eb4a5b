//! Budgets in the alert system (issue 7 §3): after every cost refresh, each
//! saved budget is checked against the cached spend of the current month
//! (`views::cost::current_budget_checks`, the same figures the Cost screen
//! shows) and its firings go through the alert store like a metric
//! threshold's: deduplicated, notified, acknowledged, resolved.
//!
//! - **Thresholds** are the budget's own (`Budget::thresholds_pct`, 50/80/100
//!   by default), never `alert-rules.json`: the rules file has no budget
//!   entries (`AlertRule::CONFIGURABLE`).
//! - **Dedup**: one alert per (budget, month, rule). Its key is
//!   `cluster|budget/NAME|rule|YYYY-MM|fingerprint`; the severity is the
//!   level reached, so crossing 50 % then 80 % opens one alert and then
//!   raises it (a notification when it reaches high/critical), and a
//!   refresh at the same level only folds. Cost refreshes come hours apart,
//!   so the dedup window here is a month, not the metric pass's minutes.
//! - **Resolution**: the month is in the key, so a new month opens new
//!   alerts and the old month's are resolved; the fingerprint covers the
//!   budget's scope, amount, currency and thresholds, so an edited (or
//!   deleted, or renamed) budget resolves its alerts and re-raises at the
//!   right level. A budget that could not be checked this time (no spend
//!   yet, a currency mismatch) keeps the alerts of its current month: not
//!   seeing a condition is not seeing it clear.
//! - The metric pass never resolves these alerts
//!   (`AlertRule::owned_by_metric_pass`), like the log alerts.

use std::collections::HashSet;

use super::alerts::{AlertRule, Firing};
use super::cost_budget::{Budget, BudgetFiring, BudgetRule, BudgetScope};
use crate::store::{AlertChanges, AlertPolicy, Store};
use crate::views::cost::{current_budget_checks, BudgetCheck};
use crate::views::ViewError;

/// Long enough that a month's alert always folds (cost refreshes are hours
/// apart); the month in the key ends it.
pub const BUDGET_DEDUP_WINDOW_SECS: i64 = 32 * 86_400;

pub const BUDGET_RULES: [AlertRule; 2] = [AlertRule::BudgetActual, AlertRule::BudgetForecast];

impl From<BudgetRule> for AlertRule {
    fn from(r: BudgetRule) -> AlertRule {
        match r {
            BudgetRule::BudgetActual => AlertRule::BudgetActual,
            BudgetRule::BudgetForecast => AlertRule::BudgetForecast,
        }
    }
}

/// FNV-1a over what defines a budget's alerts (std's hasher may change
/// between Rust releases, and this is part of a stored key).
pub fn budget_fingerprint(b: &Budget) -> String {
    let scope = match &b.scope {
        BudgetScope::Fleet => "fleet".to_owned(),
        BudgetScope::Cloud { cloud } => format!("cloud\u{0}{cloud}"),
        BudgetScope::Cluster { cluster_id } => format!("cluster\u{0}{cluster_id}"),
        BudgetScope::Tag { key, value } => format!("tag\u{0}{key}\u{0}{value}"),
    };
    let text = format!(
        "{}\u{0}{scope}\u{0}{}\u{0}{}\u{0}{:?}",
        b.name, b.amount, b.currency, b.thresholds_pct
    );
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in text.bytes() {
        h ^= u64::from(byte);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("{:08x}", h & 0xffff_ffff)
}

/// The alert key of a budget firing in `month` (module docs).
pub fn budget_alert_key(f: &BudgetFiring, month: &str, fingerprint: &str) -> String {
    format!("{}|{month}|{fingerprint}", f.key)
}

/// The month (`YYYY-MM`) and fingerprint a budget alert's key ends with.
fn key_month_and_fingerprint(key: &str) -> Option<(&str, &str)> {
    let mut parts = key.rsplitn(3, '|');
    let fingerprint = parts.next()?;
    let month = parts.next()?;
    Some((month, fingerprint))
}

fn to_firing(f: &BudgetFiring, month: &str, fingerprint: &str) -> Firing {
    Firing {
        key: budget_alert_key(f, month, fingerprint),
        cluster_id: f.cluster_id.clone(),
        subject: f.subject.clone(),
        rule: f.rule.into(),
        severity: f.severity,
        value: f.value,
        threshold: f.threshold,
        message: f.message.clone(),
    }
}

/// What one budget evaluation did.
#[derive(Debug)]
pub struct BudgetPass {
    pub month: String,
    pub checks: Vec<BudgetCheck>,
    pub changes: AlertChanges,
}

/// Checks every budget against the month holding `now` and folds the
/// firings into the alerts (module docs). `cloudops refresh`, `cloudops
/// budget set|rm` and the app (after each cost refresh and each budget
/// edit) all call this. `policy` gives the escalation timing; its dedup
/// window is replaced by [`BUDGET_DEDUP_WINDOW_SECS`].
pub fn evaluate_budgets(
    store: &mut Store,
    now: i64,
    policy: &AlertPolicy,
) -> Result<BudgetPass, ViewError> {
    let (month, checks) = current_budget_checks(store, now)?;
    let mut firings = Vec::new();
    // Budgets whose current alerts stay even though they did not fire:
    // unchanged, but not checkable this time.
    let mut unchecked: HashSet<(String, String)> = HashSet::new();
    for c in &checks {
        let fp = budget_fingerprint(&c.budget);
        match &c.status {
            Ok(s) => firings.extend(s.firings.iter().map(|f| to_firing(f, &month, &fp))),
            Err(_) => {
                unchecked.insert((c.budget.name.clone(), fp));
            }
        }
    }
    let budget_policy = AlertPolicy {
        dedup_window: BUDGET_DEDUP_WINDOW_SECS,
        ..*policy
    };
    let mut changes = store.apply_firings(now, &[], &firings, &budget_policy)?;
    let fired: HashSet<&str> = firings.iter().map(|f| f.key.as_str()).collect();
    let stale: Vec<i64> = store
        .active_alerts_of_rules(&BUDGET_RULES)?
        .into_iter()
        .filter(|a| !fired.contains(a.key.as_str()))
        .filter(|a| {
            let name = a.subject.strip_prefix("budget/").unwrap_or(&a.subject);
            match key_month_and_fingerprint(&a.key) {
                Some((m, fp)) => {
                    m != month || !unchecked.contains(&(name.to_owned(), fp.to_owned()))
                }
                // A key this code did not write: nothing keeps it open.
                None => true,
            }
        })
        .map(|a| a.id)
        .collect();
    changes
        .resolved
        .extend(store.resolve_by_system(&stale, now)?);
    Ok(BudgetPass {
        month,
        checks,
        changes,
    })
}

#[cfg(test)]
#[path = "budget_alerts_tests.rs"]
mod tests;
