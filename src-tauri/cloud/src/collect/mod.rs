//! Collectors (BRIEF §5): what connected clusters and their Prometheus
//! report, turned into samples and cluster state for the cache.

pub mod prometheus;
