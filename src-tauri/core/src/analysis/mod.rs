//! Analysis over metric series (BRIEF §5): anomaly detection and its
//! evaluation on the NAB fixtures (BRIEF §9 A1); latency quantiles and the
//! heatmap matrix from histogram bucket increases (BRIEF §9 A2); health
//! scores, threshold alerts, anomalies on the cached series with their
//! probable causes, and what runs after every collection pass (`pass`).
//! Cost (issue 7): allocation to workloads and namespaces, the month-end
//! forecast and its backtest, budgets, cost anomalies and savings
//! suggestions, all pure functions over plain inputs (`cost_*`).

pub mod alerts;
pub mod anomaly;
pub mod anomaly_eval;
pub mod budget_alerts;
pub mod causes;
pub mod cost_allocation;
pub mod cost_anomaly;
pub mod cost_budget;
pub mod cost_forecast;
pub mod cost_series;
pub mod cost_suggestions;
pub mod health;
pub mod hpa;
pub mod log_alerts;
pub mod logs;
pub mod nab;
pub mod pass;
pub mod quantile;
pub mod versions;
pub mod workload_usage;
