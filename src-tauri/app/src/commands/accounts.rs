//! Settings → Accounts: thin commands over `cloudops_cloud::accounts`.
//! Secrets travel webview → backend once, on save, straight into the
//! keyring; no reply ever carries one back (R5).

use cloudops_cloud::{
    accounts::{self, Account, AccountsError, AccountsFile},
    ambient::Shared,
    providers::gcp::BillingExport,
    resilience::CallPolicy,
    sources,
};
use cloudops_core::{model::SourceError, ClusterSummary, Provider};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use tauri::State;
use ts_rs::TS;

use super::CommandError;
use crate::state::AppState;

/// The longest secret we accept: a GCP service-account JSON is ~2.5 KiB.
const MAX_SECRET_BYTES: usize = 16 * 1024;

impl From<AccountsError> for CommandError {
    fn from(e: AccountsError) -> Self {
        CommandError {
            kind: e.kind().to_owned(),
            message: e.to_string(),
            hint: e.hint(),
        }
    }
}

/// An account as the Settings screen shows it: references only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct AccountView {
    pub name: String,
    pub provider: Provider,
    pub profile: Option<String>,
    pub regions: Vec<String>,
    pub projects: Vec<String>,
    pub subscriptions: Vec<String>,
    pub endpoint: Option<String>,
    pub kubeconfig: Option<String>,
    /// GCP: the billing export table, `PROJECT.DATASET.TABLE` (opt-in
    /// GKE actuals).
    pub billing_export: Option<String>,
    /// The keyring holds a secret for it (never shown).
    pub has_secret: bool,
}

impl From<Account> for AccountView {
    fn from(a: Account) -> Self {
        AccountView {
            name: a.name,
            provider: a.provider,
            profile: a.profile,
            regions: a.regions,
            projects: a.projects,
            subscriptions: a.subscriptions,
            endpoint: a.endpoint,
            kubeconfig: a.kubeconfig,
            billing_export: a.billing_export.map(|b| b.path()),
            has_secret: a.keyring,
        }
    }
}

/// What the account form sends. Unknown fields are refused.
#[derive(Debug, Clone, Deserialize, TS)]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct AccountInput {
    pub name: String,
    pub provider: Provider,
    #[serde(default)]
    pub profile: Option<String>,
    #[serde(default)]
    pub regions: Vec<String>,
    #[serde(default)]
    pub projects: Vec<String>,
    #[serde(default)]
    pub subscriptions: Vec<String>,
    #[serde(default)]
    pub endpoint: Option<String>,
    #[serde(default)]
    pub kubeconfig: Option<String>,
    /// GCP: the billing export table, `PROJECT.DATASET.TABLE`; empty for
    /// none.
    #[serde(default)]
    pub billing_export: Option<String>,
    /// Goes to the keyring; `None` or empty keeps the stored one on edit.
    #[serde(default)]
    pub secret: Option<String>,
    /// Edit an existing account instead of adding one.
    #[serde(default)]
    pub replace: bool,
}

fn blank_to_none(v: Option<String>) -> Option<String> {
    v.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty())
}

fn clean_list(v: Vec<String>) -> Vec<String> {
    v.into_iter()
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .collect()
}

/// What "Test connection" found.
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct AccountTestResult {
    pub account: String,
    pub ok: bool,
    pub millis: u32,
    pub clusters: Vec<ClusterSummary>,
    pub errors: Vec<SourceError>,
}

#[tauri::command]
pub async fn accounts_list(state: State<'_, AppState>) -> Result<Vec<AccountView>, CommandError> {
    let path = AccountsFile::path_in(state.base_dir());
    state
        .blocking(move || {
            Ok(AccountsFile::load(&path)?
                .accounts
                .into_iter()
                .map(AccountView::from)
                .collect())
        })
        .await
}

#[tauri::command]
pub async fn account_save(
    state: State<'_, AppState>,
    input: AccountInput,
) -> Result<AccountView, CommandError> {
    let secret = blank_to_none(input.secret);
    if secret.as_ref().is_some_and(|s| s.len() > MAX_SECRET_BYTES) {
        return Err(CommandError {
            kind: "invalid_input".into(),
            message: format!("the secret is longer than {MAX_SECRET_BYTES} bytes"),
            hint: "Paste only the token or key itself.".into(),
        });
    }
    let billing_export = match blank_to_none(input.billing_export) {
        Some(table) => Some(BillingExport::parse(&table).map_err(|e| CommandError {
            kind: "invalid_input".into(),
            message: format!("billing export: {e}"),
            hint: "Give the export table as PROJECT.DATASET.TABLE.".into(),
        })?),
        None => None,
    };
    let account = Account {
        name: input.name.trim().to_owned(),
        provider: input.provider,
        profile: blank_to_none(input.profile),
        regions: clean_list(input.regions),
        projects: clean_list(input.projects),
        subscriptions: clean_list(input.subscriptions),
        endpoint: blank_to_none(input.endpoint),
        kubeconfig: blank_to_none(input.kubeconfig),
        keyring: false,
        billing_export,
    };
    // Field errors come back before any keyring prompt.
    account.validate()?;
    let path = AccountsFile::path_in(state.base_dir());
    let slot = state.secrets_slot();
    let replace = input.replace;
    let saved = state
        .blocking(move || {
            let secret = secret.map(SecretString::from);
            Ok(accounts::save_account(
                &path,
                || slot.get(),
                account,
                secret.as_ref(),
                replace,
            )?)
        })
        .await?;
    tracing::info!(account = %saved.name, provider = %saved.provider, "account saved");
    // The first account ends the demo: discover the real fleet now.
    state.leave_sandbox();
    state.refresh_signal().notify_one();
    Ok(saved.into())
}

#[tauri::command]
pub async fn account_remove(state: State<'_, AppState>, name: String) -> Result<(), CommandError> {
    let path = AccountsFile::path_in(state.base_dir());
    let slot = state.secrets_slot();
    let removed = state
        .blocking(move || Ok(accounts::remove_account(&path, || slot.get(), &name)?))
        .await?;
    tracing::info!(account = %removed.name, "account removed");
    state.refresh_signal().notify_one();
    Ok(())
}

/// Discovers with one account, without touching the cache.
#[tauri::command]
pub async fn account_test(
    state: State<'_, AppState>,
    name: String,
) -> Result<AccountTestResult, CommandError> {
    if state.mode() == crate::fleet::Mode::Offline {
        return Err(CommandError::offline());
    }
    let dir = state.base_dir().to_path_buf();
    let slot = state.secrets_slot();
    let wanted = name.clone();
    let resolved = state
        .blocking(move || Ok(sources::load_account(&dir, &wanted, || slot.get())?))
        .await?;
    let shared = Shared::new(CallPolicy::default()).map_err(|e| CommandError {
        kind: e.kind().into(),
        message: e.to_string(),
        hint: e.hint(),
    })?;
    let env = state.env();
    let lookup = move |k: &str| env(k);
    let probe = sources::probe(resolved, &lookup, &shared).await;
    Ok(AccountTestResult {
        account: name,
        ok: probe.ok(),
        millis: u32::try_from(probe.millis).unwrap_or(u32::MAX),
        clusters: probe.clusters,
        errors: probe.errors,
    })
}
