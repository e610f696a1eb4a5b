//! Proves `cloudops_cloud::wire` against the official payloads in
//! `shared/fixtures/` (BRIEF §6): the sandbox serves these models, so they
//! must be the clouds' shapes and not merely our own.
//!
//! - `arm`: the AKS x-ms-examples (ARM responses and PUT request bodies).
//! - `doks`: the examples of the DigitalOcean OpenAPI fragments.
//! - `gke`: the GKE discovery document's schemas and method paths (Google
//!   publishes no example payloads).

mod access;
mod act_failover;
mod act_scale;
mod aks_provider;
mod arm;
mod azure_cli_credential;
mod bad_rollout_scenario;
mod collect;
mod cost_aws;
mod cost_bigquery;
mod cost_fixtures;
mod cost_refresh;
mod cost_sandbox;
mod doks;
mod doks_provider;
mod eks_provider;
mod endpoint_probe;
mod faults;
mod fixture_server;
mod gke;
mod gke_partial;
mod gke_provider;
mod kubeconfig_provider;
mod logs;
mod moto;
mod prometheus_client;
mod support;
