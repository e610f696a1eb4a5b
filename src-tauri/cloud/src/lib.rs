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
//! - `merge`: one cluster found by a cloud and in a kubeconfig, by endpoint.

pub mod access;
pub mod accounts;
pub mod act;
pub mod ambient;
pub mod azure_credential;
pub mod collect;
pub mod cost;
pub mod discovery;
pub mod doctl;
pub mod error;
pub mod kubeconfig;
pub mod logs;
pub mod merge;
pub mod providers;
pub mod resilience;
pub mod rest;
pub mod secrets;
pub mod sources;
pub mod time;
pub mod wire;

pub use error::ProviderError;
