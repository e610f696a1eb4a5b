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
//! | kubeconfig | the files' users (token, exec plugin, client certificate) | `KUBECONFIG` files, or `$HOME/.kube/config` when it exists | the files' servers |
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
        gcp::GcpProvider, kubeconfig::KubeconfigProvider, Provider,
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

/// "A cloud is configured": one of [`CONFIG_VARS`] is set, or the user has
/// kubeconfig clusters (`KUBECONFIG` names a file, or `$HOME/.kube/config`
/// exists). Reads only through `var`, so a map without HOME and KUBECONFIG
/// (the in-process sandbox) never looks at the user's files.
pub fn configured(var: &dyn Fn(&str) -> Option<String>) -> bool {
    let set = |k: &str| var(k).is_some_and(|v| !v.trim().is_empty());
    let var = |k: &str| var(k).filter(|v| !v.trim().is_empty());
    CONFIG_VARS.iter().any(|k| set(k))
        || crate::kubeconfig::configured(&var)
        || matches!(crate::doctl::token(&var), Ok(Some(_)))
        || azure_signed_in(&var)
}

/// Is the user signed in to Azure without a static token: a service
/// principal in the environment, a managed identity asked for, or an Azure
/// CLI profile (`$AZURE_CONFIG_DIR` or `~/.azure`). Reads only through `var`.
pub fn azure_signed_in(var: &dyn Fn(&str) -> Option<String>) -> bool {
    use crate::azure_credential::{CLIENT_SECRET_VAR, MANAGED_IDENTITY_VAR};
    let set = |k: &str| var(k).is_some_and(|v| !v.trim().is_empty());
    if set(CLIENT_SECRET_VAR) || set(MANAGED_IDENTITY_VAR) {
        return true;
    }
    let dir = match var("AZURE_CONFIG_DIR").filter(|d| !d.trim().is_empty()) {
        Some(d) => std::path::PathBuf::from(d),
        None => match var("HOME").filter(|h| !h.trim().is_empty()) {
            Some(h) => std::path::Path::new(&h).join(".azure"),
            None => return false,
        },
    };
    dir.join("azureProfile.json").is_file()
}

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
    // doctl's convention: the variable first, then `doctl auth init`'s file.
    let do_token = match var(crate::providers::digitalocean::TOKEN_VAR) {
        Some(t) => Some(t),
        None => match crate::doctl::token(&|k: &str| var(k)) {
            Ok(t) => t,
            Err(e) => {
                out.errors.push(SourceError {
                    provider: ProviderKind::DigitalOcean,
                    account: AMBIENT_ACCOUNT.into(),
                    scope: String::new(),
                    kind: "config".into(),
                    message: e.to_string(),
                    hint: "Run `doctl auth init` again, or set DIGITALOCEAN_ACCESS_TOKEN.".into(),
                });
                None
            }
        },
    };
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
    if let Some(token) = do_token {
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
    } else if azure_signed_in(&|k: &str| var(k)) {
        // No static token: the azure_identity chain (service principal from
        // the environment, managed identity when asked, else `az login`).
        let endpoint = var(crate::providers::azure::ENDPOINT_VAR);
        add(
            ProviderKind::Azure,
            crate::azure_credential::ArmCredential::from_vars(
                &|k: &str| var(k),
                shared.http.clone(),
            )
            .and_then(|credential| {
                AzureProvider::with_credential(
                    AMBIENT_ACCOUNT,
                    endpoint.as_deref(),
                    list(var("CLOUDOPS_AZURE_SUBSCRIPTIONS")),
                    credential,
                    shared.http.clone(),
                    shared.policy.clone(),
                    shared.breakers.clone(),
                )
            })
            .map(|p| Arc::new(p) as Arc<dyn Provider>),
        );
    }
    if let Some(p) = KubeconfigProvider::from_vars(AMBIENT_ACCOUNT, &|k: &str| var(k)) {
        out.providers.push(Arc::new(p));
    }
    out
}
