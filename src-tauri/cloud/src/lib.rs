//! Talks to the clouds and to the clusters (BRIEF §2, §4): the provider trait
//! with one implementation per cloud plus kubeconfig, provider-neutral cluster
//! access, the collectors that write into `cloudops_core::store`, the action
//! executors, and the retry/circuit-breaker layer.
//!
//! - `wire`: the provider payload models, proven against the official
//!   examples; the sandbox serves the same types.
//! - `providers`: the trait and its implementations.
//! - `resilience`: timeouts, retries and circuit breakers for every call.
//! - `rest`: JSON over HTTPS for the providers without an SDK.
//! - `discovery`: all accounts × scopes, concurrently, into the cache.

pub mod access;
pub mod ambient;
pub mod discovery;
pub mod error;
pub mod kubeconfig;
pub mod providers;
pub mod resilience;
pub mod rest;
pub mod time;
pub mod wire;

pub use error::ProviderError;
