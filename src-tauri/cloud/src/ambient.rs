//! Providers from the ambient environment (issue 4, BRIEF §7): with no
//! account entered, the variables a script, a test or the user's shell
//! already has are enough to discover:
//!
//! | cloud | credentials | scopes | endpoint override |
//! |---|---|---|---|
//! | AWS | aws-config chain (`AWS_*`, profiles, SSO) | `CLOUDOPS_AWS_REGIONS` | `AWS_ENDPOINT_URL(_EKS)` |
//! | GCP | `CLOUDOPS_GCP_ACCESS_TOKEN` or ADC | `CLOUDOPS_GCP_PROJECTS` | `CLOUDOPS_GKE_ENDPOINT` |
//! | Azure | `CLOUDOPS_AZURE_ACCESS_TOKEN` | `CLOUDOPS_AZURE_SUBSCRIPTIONS` or all | `CLOUDOPS_ARM_ENDPOINT` |
//! | DigitalOcean | `DIGITALOCEAN_ACCESS_TOKEN` | the account | `CLOUDOPS_DO_ENDPOINT` |
//!
//! A cloud whose variables are absent is simply not configured; one whose
//! variables are wrong (a bad endpoint URL) becomes a source error, so the
//! other clouds still run.

use std::sync::Arc;

use cloudops_core::model::{Provider as ProviderKind, SourceError};

use crate::{
    error::ProviderError,
    providers::{
        aws::AwsProvider, azure::AzureProvider, digitalocean::DigitalOceanProvider,
        gcp::GcpProvider, Provider,
    },
    resilience::{Breakers, CallPolicy},
};

/// Variables whose presence means "a cloud is configured": with none of
/// them (and no account entered), the app opens on the sandbox.
pub const CONFIG_VARS: &[&str] = &[
    "CLOUDOPS_AWS_REGIONS",
    "AWS_PROFILE",
    "AWS_ACCESS_KEY_ID",
    "CLOUDOPS_GCP_PROJECTS",
    "CLOUDOPS_AZURE_ACCESS_TOKEN",
    "DIGITALOCEAN_ACCESS_TOKEN",
];

/// The account name ambient providers report.
pub const AMBIENT_ACCOUNT: &str = "env";

/// What every provider shares: one HTTP client, one policy, one set of
/// breakers (so the UI shows every endpoint's state in one place).
#[derive(Clone)]
pub struct Shared {
    pub http: reqwest::Client,
    pub policy: CallPolicy,
    pub breakers: Arc<Breakers>,
}

impl Shared {
    pub fn new(policy: CallPolicy) -> Result<Self, ProviderError> {
        Ok(Shared {
            http: crate::rest::http_client()?,
            policy,
            breakers: Arc::new(Breakers::default()),
        })
    }
}

#[derive(Default)]
pub struct Ambient {
    pub providers: Vec<Arc<dyn Provider>>,
    /// Clouds that are configured but unusable, as source errors.
    pub errors: Vec<SourceError>,
}

fn list(v: Option<String>) -> Vec<String> {
    v.map(|s| {
        s.split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect()
    })
    .unwrap_or_default()
}

fn config_error(provider: ProviderKind, e: &ProviderError) -> SourceError {
    SourceError {
        provider,
        account: AMBIENT_ACCOUNT.into(),
        scope: String::new(),
        kind: e.kind().into(),
        message: e.to_string(),
        hint: e.hint(),
    }
}

/// Builds the providers the environment configures. `var` reads one
/// variable (the process environment, or a map in tests and for the
/// in-process sandbox).
pub async fn from_env(var: &(dyn Fn(&str) -> Option<String> + Sync), shared: &Shared) -> Ambient {
    let var = |k: &str| var(k).filter(|v| !v.trim().is_empty());
    let mut out = Ambient::default();
    let mut add = |kind: ProviderKind, built: Result<Arc<dyn Provider>, ProviderError>| match built
    {
        Ok(p) => out.providers.push(p),
        Err(e) => out.errors.push(config_error(kind, &e)),
    };

    let aws_configured = ["CLOUDOPS_AWS_REGIONS", "AWS_PROFILE", "AWS_ACCESS_KEY_ID"]
        .iter()
        .any(|k| var(k).is_some());
    if aws_configured {
        let profile = var("AWS_PROFILE");
        let regions = var("CLOUDOPS_AWS_REGIONS").map(|r| list(Some(r)));
        add(
            ProviderKind::Aws,
            AwsProvider::ambient_with(
                AMBIENT_ACCOUNT,
                &|k: &str| var(k),
                profile.as_deref(),
                regions,
                shared.policy.clone(),
                shared.breakers.clone(),
            )
            .await
            .map(|p| Arc::new(p) as Arc<dyn Provider>),
        );
    }
    if var("CLOUDOPS_GCP_PROJECTS").is_some() {
        add(
            ProviderKind::Gcp,
            GcpProvider::from_vars(
                AMBIENT_ACCOUNT,
                |k: &str| var(k),
                shared.policy.clone(),
                shared.breakers.clone(),
            )
            .map(|p| Arc::new(p) as Arc<dyn Provider>),
        );
    }
    if let Some(token) = var(crate::providers::digitalocean::TOKEN_VAR) {
        let endpoint = var(crate::providers::digitalocean::ENDPOINT_VAR);
        add(
            ProviderKind::DigitalOcean,
            DigitalOceanProvider::new(
                AMBIENT_ACCOUNT,
                endpoint.as_deref(),
                token,
                shared.http.clone(),
                shared.policy.clone(),
                shared.breakers.clone(),
            )
            .map(|p| Arc::new(p) as Arc<dyn Provider>),
        );
    }
    if let Some(token) = var(crate::providers::azure::TOKEN_VAR) {
        let endpoint = var(crate::providers::azure::ENDPOINT_VAR);
        add(
            ProviderKind::Azure,
            AzureProvider::new(
                AMBIENT_ACCOUNT,
                endpoint.as_deref(),
                list(var("CLOUDOPS_AZURE_SUBSCRIPTIONS")),
                token,
                shared.http.clone(),
                shared.policy.clone(),
                shared.breakers.clone(),
            )
            .map(|p| Arc::new(p) as Arc<dyn Provider>),
        );
    }
    out
}
