//! Talks to the clouds and to the clusters (BRIEF §2, §4): the provider trait
//! with one implementation per cloud plus kubeconfig, provider-neutral cluster
//! access, the collectors that write into `cloudops_core::store`, the action
//! executors, and the retry/circuit-breaker layer.
//!
//! `wire` holds the provider payload models, proven against the official
//! examples; the sandbox (issue 3) serves the same types. The layout is fixed
//! now so that later work lands where the architecture
//! map says; the modules arrive with their issues (providers and discovery:
//! issue 4; collectors: issue 5; executors: issue 6).

pub mod wire;
