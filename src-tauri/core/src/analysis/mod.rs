//! Analysis over metric series (BRIEF §5): anomaly detection and its
//! evaluation on the NAB fixtures (BRIEF §9 A1); latency quantiles and the
//! heatmap matrix from histogram bucket increases (BRIEF §9 A2).

pub mod alerts;
pub mod anomaly;
pub mod health;
pub mod hpa;
pub mod logs;
pub mod nab;
pub mod quantile;
pub mod versions;
