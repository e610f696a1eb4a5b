//! Action planning (issue 6, BRIEF §8): what a scale or failover would
//! change, and whether the target can hold it, computed before anything is
//! written. Executors live in `cloudops-cloud`; this module has no network.

pub mod drain;
pub mod failover;
pub mod fit;
pub mod hpa;
pub mod nodepool;
pub mod scale;
