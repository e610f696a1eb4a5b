//! The CloudOps domain, free of network and UI code so that it builds and
//! tests without webkit (BRIEF §3). Collectors in `cloudops-cloud` write into
//! the [`store`]; every view, in the app and in the CLI, reads from it.

pub mod analysis;
pub mod audit;
pub mod charts;
pub mod cost;
pub mod metrics;
pub mod model;
pub mod names;
pub mod plan;
pub mod store;
pub mod views;

pub use model::{CacheInfo, ClusterSummary, FleetOverview, NodePoolSummary, Provider};
pub use store::{Store, StoreError};
