//! Analysis over metric series (BRIEF §5): anomaly detection and its
//! evaluation on the NAB fixtures (BRIEF §9 A1).

pub mod anomaly;
pub mod health;
pub mod nab;
