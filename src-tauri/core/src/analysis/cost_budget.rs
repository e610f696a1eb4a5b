//! Monthly budgets per cloud, cluster or tag (issue 7 §3) and the alert
//! candidates they raise.
//!
//! Thresholds: 50 / 80 / 100 % of the month's budget by default (per budget,
//! three rising percentages).
//! - **Actual** month-to-date spend at or above a threshold fires at
//!   medium / high / critical.
//! - **Forecast** month-end spend fires only on the top two thresholds, at
//!   medium (80 %) and high (100 %): nearly every budget is forecast to use
//!   half of itself, so a forecast-50 % alert would fire every month; and a
//!   forecast is not yet money spent, so it stays one step below actual.
//!   The forecast's upper bound is not used: the point forecast is what the
//!   Cost screen shows next to the budget.
//!
//! Comparisons are `≥` (reaching 100 % of a budget is the event), unlike the
//! node thresholds' strict `>`.
//!
//! Candidates come in the shape of [`super::alerts::Firing`]: a `key`
//! (`cluster|budget/NAME|budget_actual`) that stays the same while the
//! condition holds, so the alert store folds repeats into one alert and
//! raises its severity as spend crosses the next threshold. Budgets over a
//! cloud or tag use the fleet's cluster id `""`. `analysis::budget_alerts`
//! turns these into `AlertRule::BudgetActual`/`BudgetForecast` firings,
//! adding the month and the budget's fingerprint to the key.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::anomaly::Severity;
use super::cost_forecast::MonthForecast;
use super::cost_series::{civil_from_day, DailyCost};

/// What a budget covers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case", tag = "kind")]
#[ts(export)]
pub enum BudgetScope {
    /// Every cloud and cluster.
    Fleet,
    /// `aws`, `gcp`, `azure` or `do`.
    Cloud {
        cloud: String,
    },
    Cluster {
        cluster_id: String,
    },
    /// Spend tagged `key=value` (a cost-allocation tag or label).
    Tag {
        key: String,
        value: String,
    },
}

impl BudgetScope {
    /// The cluster id a budget's alerts belong to: the cluster's, or the
    /// fleet's (`""`).
    pub fn alert_cluster_id(&self) -> &str {
        match self {
            BudgetScope::Cluster { cluster_id } => cluster_id,
            _ => "",
        }
    }

    pub fn describe(&self) -> String {
        match self {
            BudgetScope::Fleet => "the fleet".into(),
            BudgetScope::Cloud { cloud } => format!("cloud {cloud}"),
            BudgetScope::Cluster { cluster_id } => format!("cluster {cluster_id}"),
            BudgetScope::Tag { key, value } => format!("tag {key}={value}"),
        }
    }
}

pub const DEFAULT_THRESHOLDS_PCT: [f64; 3] = [50.0, 80.0, 100.0];

/// A monthly budget.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct Budget {
    /// The store's id; `None` before it is saved.
    #[ts(type = "number | null")]
    pub id: Option<i64>,
    pub name: String,
    pub scope: BudgetScope,
    /// Per calendar month, in `currency`.
    pub amount: f64,
    /// ISO 4217, e.g. `USD`.
    pub currency: String,
    /// Three rising percentages of `amount`.
    pub thresholds_pct: [f64; 3],
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum BudgetError {
    #[error("invalid budget: {0}")]
    Invalid(String),
    #[error("budget {budget} is in {budget_currency} but the spend is in {spend_currency}")]
    CurrencyMismatch {
        budget: String,
        budget_currency: String,
        spend_currency: String,
    },
    #[error("budget {budget}: the spend is not a number")]
    BadSpend { budget: String },
}

impl BudgetError {
    pub fn kind(&self) -> &'static str {
        match self {
            BudgetError::Invalid(_) => "invalid_budget",
            BudgetError::CurrencyMismatch { .. } => "budget_currency_mismatch",
            BudgetError::BadSpend { .. } => "bad_budget_spend",
        }
    }

    pub fn hint(&self) -> String {
        match self {
            BudgetError::Invalid(_) => "Give the budget a name, an amount above 0, a \
                 three-letter currency code and three rising thresholds (e.g. 50, 80, 100)."
                .into(),
            BudgetError::CurrencyMismatch { .. } => "Budgets are not converted between \
                 currencies: set the budget in the billing account's currency."
                .into(),
            BudgetError::BadSpend { .. } => {
                "Refresh the cost data: the cached spend for this scope is damaged.".into()
            }
        }
    }
}

impl Budget {
    pub fn new(name: &str, scope: BudgetScope, amount: f64, currency: &str) -> Budget {
        Budget {
            id: None,
            name: name.to_owned(),
            scope,
            amount,
            currency: currency.to_ascii_uppercase(),
            thresholds_pct: DEFAULT_THRESHOLDS_PCT,
        }
    }

    pub fn validate(&self) -> Result<(), BudgetError> {
        let bad = |m: String| Err(BudgetError::Invalid(m));
        if self.name.trim().is_empty() {
            return bad("the name is empty".into());
        }
        if !self.amount.is_finite() || self.amount <= 0.0 {
            return bad(format!(
                "{}: amount {} must be above 0",
                self.name, self.amount
            ));
        }
        if self.currency.len() != 3 || !self.currency.bytes().all(|b| b.is_ascii_uppercase()) {
            return bad(format!(
                "{}: currency {:?} is not a three-letter code",
                self.name, self.currency
            ));
        }
        let t = self.thresholds_pct;
        if t.iter().any(|v| !v.is_finite() || *v <= 0.0) || t[0] >= t[1] || t[1] >= t[2] {
            return bad(format!(
                "{}: thresholds {t:?} must be rising percentages above 0",
                self.name
            ));
        }
        let empty = match &self.scope {
            BudgetScope::Fleet => false,
            BudgetScope::Cloud { cloud } => cloud.trim().is_empty(),
            BudgetScope::Cluster { cluster_id } => cluster_id.trim().is_empty(),
            BudgetScope::Tag { key, .. } => key.trim().is_empty(),
        };
        if empty {
            return bad(format!("{}: the scope names nothing", self.name));
        }
        Ok(())
    }
}

/// The spend a budget is checked against, for its month.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BudgetSpend {
    /// `YYYY-MM`.
    pub month: String,
    pub actual_to_date: f64,
    /// The month-end point forecast, when there is one.
    pub forecast_total: Option<f64>,
    pub currency: String,
}

impl BudgetSpend {
    /// The spend of a month-end forecast of the budget's scope (see
    /// [`daily_spend`]): its actual (plus any filled gap) and point total.
    pub fn from_forecast(f: &MonthForecast, currency: &str) -> BudgetSpend {
        let (y, m, _) = civil_from_day(f.month_first_day);
        BudgetSpend {
            month: format!("{y:04}-{m:02}"),
            actual_to_date: f.actual_to_date,
            forecast_total: Some(f.total),
            currency: currency.to_owned(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BudgetRule {
    BudgetActual,
    BudgetForecast,
}

impl BudgetRule {
    pub fn as_str(self) -> &'static str {
        match self {
            BudgetRule::BudgetActual => "budget_actual",
            BudgetRule::BudgetForecast => "budget_forecast",
        }
    }
}

/// One budget alert candidate, field for field an `alerts::Firing` but for
/// the rule (see the module docs).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BudgetFiring {
    pub key: String,
    pub cluster_id: String,
    /// `budget/NAME`.
    pub subject: String,
    pub rule: BudgetRule,
    pub severity: Severity,
    /// Percent of the budget.
    pub value: f64,
    /// The threshold crossed, percent.
    pub threshold: f64,
    pub message: String,
}

/// Where a budget stands.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BudgetStatus {
    pub budget: Budget,
    pub month: String,
    pub actual_to_date: f64,
    pub actual_pct: f64,
    pub forecast_total: Option<f64>,
    pub forecast_pct: Option<f64>,
    pub firings: Vec<BudgetFiring>,
}

fn money(v: f64, currency: &str) -> String {
    format!("{v:.2} {currency}")
}

/// Checks one budget against its spend (module docs).
pub fn evaluate(budget: &Budget, spend: &BudgetSpend) -> Result<BudgetStatus, BudgetError> {
    budget.validate()?;
    if !spend.currency.eq_ignore_ascii_case(&budget.currency) {
        return Err(BudgetError::CurrencyMismatch {
            budget: budget.name.clone(),
            budget_currency: budget.currency.clone(),
            spend_currency: spend.currency.clone(),
        });
    }
    if !spend.actual_to_date.is_finite() || spend.forecast_total.is_some_and(|f| !f.is_finite()) {
        return Err(BudgetError::BadSpend {
            budget: budget.name.clone(),
        });
    }
    let pct = |v: f64| 100.0 * v / budget.amount;
    let actual_pct = pct(spend.actual_to_date);
    let forecast_pct = spend.forecast_total.map(pct);
    let [t50, t80, t100] = budget.thresholds_pct;
    let subject = format!("budget/{}", budget.name);
    let cluster_id = budget.scope.alert_cluster_id().to_owned();
    let mut firings = Vec::new();
    let mut fire = |rule: BudgetRule, value: f64, steps: &[(f64, Severity)], amount: f64| {
        // The highest threshold reached.
        let Some(&(threshold, severity)) = steps.iter().rev().find(|(t, _)| value >= *t) else {
            return;
        };
        let what = match rule {
            BudgetRule::BudgetActual => "spent",
            BudgetRule::BudgetForecast => "forecast to spend",
        };
        firings.push(BudgetFiring {
            key: format!("{cluster_id}|{subject}|{}", rule.as_str()),
            cluster_id: cluster_id.clone(),
            subject: subject.clone(),
            rule,
            severity,
            value,
            threshold,
            message: format!(
                "{} ({}) {what} {} in {}: {value:.0} % of its {} budget (threshold {threshold:.0} %)",
                budget.name,
                budget.scope.describe(),
                money(amount, &budget.currency),
                spend.month,
                money(budget.amount, &budget.currency),
            ),
        });
    };
    fire(
        BudgetRule::BudgetActual,
        actual_pct,
        &[
            (t50, Severity::Medium),
            (t80, Severity::High),
            (t100, Severity::Critical),
        ],
        spend.actual_to_date,
    );
    if let (Some(p), Some(f)) = (forecast_pct, spend.forecast_total) {
        fire(
            BudgetRule::BudgetForecast,
            p,
            &[(t80, Severity::Medium), (t100, Severity::High)],
            f,
        );
    }
    Ok(BudgetStatus {
        budget: budget.clone(),
        month: spend.month.clone(),
        actual_to_date: spend.actual_to_date,
        actual_pct,
        forecast_total: spend.forecast_total,
        forecast_pct,
        firings,
    })
}

/// One day of cost of one cluster, as the cost cache holds it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScopedDailyCost {
    pub cloud: String,
    pub cluster_id: String,
    pub tags: BTreeMap<String, String>,
    pub day: i64,
    pub amount: f64,
    pub currency: String,
}

impl BudgetScope {
    pub fn covers(&self, row: &ScopedDailyCost) -> bool {
        match self {
            BudgetScope::Fleet => true,
            BudgetScope::Cloud { cloud } => row.cloud.eq_ignore_ascii_case(cloud),
            BudgetScope::Cluster { cluster_id } => &row.cluster_id == cluster_id,
            BudgetScope::Tag { key, value } => row.tags.get(key) == Some(value),
        }
    }
}

/// The daily totals of the rows a budget covers, in its currency; rows in
/// another currency are an error (never added up as if they were the same).
pub fn daily_spend(
    budget: &Budget,
    rows: &[ScopedDailyCost],
) -> Result<Vec<DailyCost>, BudgetError> {
    let mut by_day: BTreeMap<i64, f64> = BTreeMap::new();
    for r in rows.iter().filter(|r| budget.scope.covers(r)) {
        if !r.currency.eq_ignore_ascii_case(&budget.currency) {
            return Err(BudgetError::CurrencyMismatch {
                budget: budget.name.clone(),
                budget_currency: budget.currency.clone(),
                spend_currency: r.currency.clone(),
            });
        }
        *by_day.entry(r.day).or_default() += r.amount;
    }
    Ok(by_day
        .into_iter()
        .map(|(day, amount)| DailyCost { day, amount })
        .collect())
}

#[cfg(test)]
#[path = "cost_budget_tests.rs"]
mod tests;
