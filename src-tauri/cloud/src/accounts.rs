//! The accounts the user registered (BRIEF §4): `accounts.toml` in the data
//! dir. It holds references only — which profile, project, subscription,
//! regions, endpoint — and whether the keyring has a secret for the account.
//! Secrets themselves live only in the keyring ([`crate::secrets`]).
//!
//! The file is written atomically (a temporary file, fsync, rename), so a
//! crash mid-save leaves either the old list or the new one, never half.

use std::{
    collections::HashMap,
    io::Write,
    path::{Path, PathBuf},
    sync::Arc,
};

use cloudops_core::model::{Provider as ProviderKind, SourceError};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use crate::{
    ambient::Shared,
    error::ProviderError,
    providers::{
        aws::AwsProvider, azure::AzureProvider, digitalocean::DigitalOceanProvider,
        gcp::GcpProvider, kubeconfig::KubeconfigProvider, Provider,
    },
    rest,
    secrets::{Secrets, SecretsError},
};

/// The file name inside the data dir.
pub const FILE_NAME: &str = "accounts.toml";

/// One registered account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    /// Unique; also the keyring entry's key and the `account` of its clusters.
    pub name: String,
    pub provider: ProviderKind,
    /// AWS: the profile in `~/.aws/config` (SSO works through it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<String>,
    /// AWS: the regions to list (default: the profile's region).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub regions: Vec<String>,
    /// GCP: the projects to list.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub projects: Vec<String>,
    /// Azure: the subscriptions (default: every one the token can see).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub subscriptions: Vec<String>,
    /// An API endpoint override (sovereign clouds, proxies, the sandbox).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
    /// kubeconfig: the file (default: `KUBECONFIG` or `~/.kube/config`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kubeconfig: Option<String>,
    /// The keyring holds a secret for this account. Never the secret itself.
    #[serde(default)]
    pub keyring: bool,
    /// GCP: the Cloud Billing export table in BigQuery (opt-in); GKE cost
    /// is read from it instead of estimated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub billing_export: Option<crate::providers::gcp::BillingExport>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountsFile {
    #[serde(default, rename = "account")]
    pub accounts: Vec<Account>,
}

#[derive(Debug, thiserror::Error)]
pub enum AccountsError {
    #[error("cannot read {path}: {detail}")]
    Read { path: PathBuf, detail: String },
    #[error("{path} is not a valid accounts file: {detail}")]
    Parse { path: PathBuf, detail: String },
    #[error("cannot write {path}: {detail}")]
    Write { path: PathBuf, detail: String },
    #[error("invalid account: {field}: {detail}")]
    Invalid { field: String, detail: String },
    #[error("an account named {0:?} already exists")]
    Duplicate(String),
    #[error("no account named {0:?}")]
    Unknown(String),
    #[error(transparent)]
    Secrets(#[from] SecretsError),
}

impl AccountsError {
    pub fn kind(&self) -> &'static str {
        match self {
            AccountsError::Read { .. } | AccountsError::Write { .. } => "io",
            AccountsError::Parse { .. } => "bad_accounts_file",
            AccountsError::Invalid { .. } => "invalid_input",
            AccountsError::Duplicate(_) => "duplicate",
            AccountsError::Unknown(_) => "not_found",
            AccountsError::Secrets(e) => e.kind(),
        }
    }

    pub fn hint(&self) -> String {
        match self {
            AccountsError::Read { .. } | AccountsError::Write { .. } => {
                "Check that the data directory exists and is writable by you.".into()
            }
            AccountsError::Parse { path, .. } => format!(
                "Fix or remove {} (it holds no secrets; accounts can be added again).",
                path.display()
            ),
            AccountsError::Invalid { .. } => "Correct the field and save again.".into(),
            AccountsError::Duplicate(_) => {
                "Pick another name, or edit the existing account.".into()
            }
            AccountsError::Unknown(_) => "List the accounts to see their names.".into(),
            AccountsError::Secrets(e) => e.hint(),
        }
    }
}

fn invalid(field: impl Into<String>, detail: impl Into<String>) -> AccountsError {
    AccountsError::Invalid {
        field: field.into(),
        detail: detail.into(),
    }
}

fn check_list(
    field: &str,
    items: &[String],
    ok: impl Fn(char) -> bool,
) -> Result<(), AccountsError> {
    for item in items {
        if item.is_empty() || item.len() > 128 || !item.chars().all(&ok) {
            return Err(invalid(field, format!("{item:?} is not a valid value")));
        }
    }
    Ok(())
}

impl Account {
    /// A blank account of one provider.
    pub fn new(name: impl Into<String>, provider: ProviderKind) -> Self {
        Account {
            name: name.into(),
            provider,
            profile: None,
            regions: Vec::new(),
            projects: Vec::new(),
            subscriptions: Vec::new(),
            endpoint: None,
            kubeconfig: None,
            keyring: false,
            billing_export: None,
        }
    }

    /// Checks the fields, whatever their source (the CLI, IPC, a hand-edited
    /// file): names, list items and the endpoint URL.
    pub fn validate(&self) -> Result<(), AccountsError> {
        let name = &self.name;
        if name.is_empty() || name.len() > 64 {
            return Err(invalid("name", "must be 1 to 64 characters"));
        }
        if !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        {
            return Err(invalid(
                "name",
                format!("{name:?} may use only letters, digits, '-', '_' and '.'"),
            ));
        }
        if name == crate::ambient::AMBIENT_ACCOUNT {
            return Err(invalid(
                "name",
                "\"env\" is reserved for the environment's own credentials",
            ));
        }
        if let Some(p) = &self.profile {
            check_list("profile", std::slice::from_ref(p), |c| {
                c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '@' | '+' | '=' | ',')
            })?;
        }
        check_list("regions", &self.regions, |c| {
            c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'
        })?;
        check_list("projects", &self.projects, |c| {
            c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | ':' | '.')
        })?;
        check_list("subscriptions", &self.subscriptions, |c| {
            c.is_ascii_hexdigit() || c == '-'
        })?;
        if let Some(e) = &self.endpoint {
            rest::parse_endpoint(self.provider, "endpoint", e)
                .map_err(|err| invalid("endpoint", err.to_string()))?;
        }
        if let Some(k) = &self.kubeconfig {
            if k.trim().is_empty() || k.contains('\0') {
                return Err(invalid("kubeconfig", "must be a file path"));
            }
        }
        if let Some(export) = &self.billing_export {
            if self.provider != ProviderKind::Gcp {
                return Err(invalid(
                    "billing_export",
                    "only a GCP account reads a BigQuery billing export",
                ));
            }
            export
                .validate()
                .map_err(|e| invalid("billing_export", e.to_string()))?;
        }
        match self.provider {
            ProviderKind::Gcp if self.projects.is_empty() => Err(invalid(
                "projects",
                "a GCP account needs at least one project",
            )),
            _ => Ok(()),
        }
    }
}

impl AccountsFile {
    pub fn path_in(data_dir: &Path) -> PathBuf {
        data_dir.join(FILE_NAME)
    }

    /// The file's accounts; a missing file is an empty list.
    pub fn load(path: &Path) -> Result<Self, AccountsError> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Self::default()),
            Err(e) => {
                return Err(AccountsError::Read {
                    path: path.to_owned(),
                    detail: e.to_string(),
                })
            }
        };
        let file: AccountsFile = toml::from_str(&text).map_err(|e| AccountsError::Parse {
            path: path.to_owned(),
            detail: e.to_string(),
        })?;
        for a in &file.accounts {
            a.validate().map_err(|e| AccountsError::Parse {
                path: path.to_owned(),
                detail: format!("account {:?}: {e}", a.name),
            })?;
        }
        Ok(file)
    }

    /// Writes atomically, readable by the user only.
    pub fn save(&self, path: &Path) -> Result<(), AccountsError> {
        let write_err = |detail: String| AccountsError::Write {
            path: path.to_owned(),
            detail,
        };
        let text = toml::to_string(self).map_err(|e| write_err(e.to_string()))?;
        let dir = path.parent().unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir).map_err(|e| write_err(e.to_string()))?;
        let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(|e| write_err(e.to_string()))?;
        let body = format!(
            "# CloudOps Console accounts. References only: secrets live in the OS keyring.\n{text}"
        );
        tmp.write_all(body.as_bytes())
            .and_then(|()| tmp.as_file().sync_all())
            .map_err(|e| write_err(e.to_string()))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o600))
                .map_err(|e| write_err(e.to_string()))?;
        }
        tmp.persist(path)
            .map_err(|e| write_err(e.error.to_string()))?;
        Ok(())
    }

    pub fn get(&self, name: &str) -> Option<&Account> {
        self.accounts.iter().find(|a| a.name == name)
    }

    /// Adds a new account, or replaces the one with the same name when
    /// `replace` is set.
    pub fn upsert(&mut self, account: Account, replace: bool) -> Result<(), AccountsError> {
        account.validate()?;
        match self.accounts.iter_mut().find(|a| a.name == account.name) {
            Some(_) if !replace => Err(AccountsError::Duplicate(account.name)),
            Some(existing) => {
                *existing = account;
                Ok(())
            }
            None => {
                self.accounts.push(account);
                Ok(())
            }
        }
    }

    pub fn remove(&mut self, name: &str) -> Result<Account, AccountsError> {
        let at = self
            .accounts
            .iter()
            .position(|a| a.name == name)
            .ok_or_else(|| AccountsError::Unknown(name.to_owned()))?;
        Ok(self.accounts.remove(at))
    }
}

/// Saves an account and its secret: the secret first, so that the file
/// never points at a keyring entry that does not exist. With `secret` None
/// an edited account keeps its stored secret. `open_keyring` is called only
/// when there is a secret to store.
pub fn save_account(
    path: &Path,
    open_keyring: impl FnOnce() -> Result<Secrets, SecretsError>,
    mut account: Account,
    secret: Option<&SecretString>,
    replace: bool,
) -> Result<Account, AccountsError> {
    let mut file = AccountsFile::load(path)?;
    account.validate()?;
    if !replace && file.get(&account.name).is_some() {
        return Err(AccountsError::Duplicate(account.name));
    }
    let had_secret = file.get(&account.name).is_some_and(|a| a.keyring);
    match secret.filter(|s| !s.expose_secret().trim().is_empty()) {
        Some(s) => {
            open_keyring()?.set(&account.name, s.expose_secret().trim())?;
            account.keyring = true;
        }
        None => account.keyring = had_secret,
    }
    file.upsert(account.clone(), replace)?;
    file.save(path)?;
    Ok(account)
}

/// Removes the account from the file and its secret from the keyring
/// (`open_keyring` is called only when it has one).
pub fn remove_account(
    path: &Path,
    open_keyring: impl FnOnce() -> Result<Secrets, SecretsError>,
    name: &str,
) -> Result<Account, AccountsError> {
    let mut file = AccountsFile::load(path)?;
    let removed = file.remove(name)?;
    if removed.keyring {
        open_keyring()?.delete(name)?;
    }
    file.save(path)?;
    Ok(removed)
}

/// An account with its secret read from the keyring: reading blocks, so it
/// happens on a blocking thread before the async provider set-up.
pub struct Resolved {
    pub account: Account,
    pub secret: Result<Option<SecretString>, SecretsError>,
}

/// Reads every account's secret. Blocking.
pub fn resolve(accounts: &[Account], secrets: Option<&Secrets>) -> Vec<Resolved> {
    accounts
        .iter()
        .map(|a| Resolved {
            account: a.clone(),
            secret: if a.keyring {
                match secrets {
                    Some(s) => s.get(&a.name).map(|o| o.map(SecretString::from)),
                    None => Err(SecretsError::NoKeyring {
                        secret_service: "not opened".into(),
                        keyutils: "not opened".into(),
                    }),
                }
            } else {
                Ok(None)
            },
        })
        .collect()
}

fn config_error(account: &Account, kind: &str, message: String, hint: String) -> SourceError {
    SourceError {
        provider: account.provider,
        account: account.name.clone(),
        scope: String::new(),
        kind: kind.into(),
        message,
        hint,
    }
}

/// Builds one provider per resolved account. Accounts that cannot be built
/// (no secret where one is needed, a keyring that refuses) become source
/// errors, so the others still run. `env` is the process environment: an
/// account's own fields take precedence, and the credential variables an
/// account does not set are masked so that one account never borrows
/// another's credentials.
pub async fn providers(
    resolved: Vec<Resolved>,
    env: &(dyn Fn(&str) -> Option<String> + Sync),
    shared: &Shared,
) -> (Vec<Arc<dyn Provider>>, Vec<SourceError>) {
    let mut built: Vec<Arc<dyn Provider>> = Vec::new();
    let mut errors = Vec::new();
    for Resolved { account, secret } in resolved {
        let secret = match secret {
            Ok(s) => s,
            Err(e) => {
                errors.push(config_error(
                    &account,
                    e.kind(),
                    format!("account {}: {e}", account.name),
                    e.hint(),
                ));
                continue;
            }
        };
        match build_one(&account, secret.as_ref(), env, shared).await {
            Ok(p) => built.push(p),
            Err(e) => {
                let text = e.to_string();
                let message = if text.contains(&format!("account {}", account.name)) {
                    text
                } else {
                    format!("{text} (account {})", account.name)
                };
                errors.push(config_error(&account, e.kind(), message, e.hint()));
            }
        }
    }
    (built, errors)
}

/// `~/x` → `$HOME/x`, as a shell would for the path the user typed.
fn expand_home(path: &str, env: &(dyn Fn(&str) -> Option<String> + Sync)) -> std::path::PathBuf {
    match (path.strip_prefix("~/"), env("HOME")) {
        (Some(rest), Some(home)) => Path::new(&home).join(rest),
        _ => std::path::PathBuf::from(path),
    }
}

fn need_secret(account: &Account, what: &str) -> ProviderError {
    ProviderError::Config {
        provider: account.provider,
        detail: format!(
            "account {} has no {what} in the keyring; edit the account and enter it",
            account.name
        ),
    }
}

async fn build_one(
    account: &Account,
    secret: Option<&SecretString>,
    env: &(dyn Fn(&str) -> Option<String> + Sync),
    shared: &Shared,
) -> Result<Arc<dyn Provider>, ProviderError> {
    let endpoint = account.endpoint.as_deref();
    let secret = secret.map(|s| s.expose_secret().to_owned());
    match account.provider {
        ProviderKind::DigitalOcean => {
            let token = secret.ok_or_else(|| need_secret(account, "API token"))?;
            Ok(Arc::new(DigitalOceanProvider::new(
                account.name.clone(),
                endpoint,
                token,
                shared.http.clone(),
                shared.policy.clone(),
                shared.breakers.clone(),
            )?))
        }
        ProviderKind::Azure => {
            let token = secret.ok_or_else(|| need_secret(account, "ARM access token"))?;
            Ok(Arc::new(AzureProvider::new(
                account.name.clone(),
                endpoint,
                account.subscriptions.clone(),
                token,
                shared.http.clone(),
                shared.policy.clone(),
                shared.breakers.clone(),
            )?))
        }
        ProviderKind::Gcp => {
            // The GCP provider reads its settings as variables; the account's
            // own values shadow the environment's.
            let mut own: HashMap<&str, Option<String>> = HashMap::new();
            own.insert(
                crate::providers::gcp::PROJECTS_VAR,
                Some(account.projects.join(",")),
            );
            own.insert(crate::providers::gcp::TOKEN_VAR, secret);
            own.insert(
                crate::providers::gcp::ENDPOINT_VAR,
                account.endpoint.clone(),
            );
            // The account's own export, or none: never the environment's.
            own.insert(crate::providers::gcp::BILLING_EXPORT_VAR, None);
            let lookup = |k: &str| match own.get(k) {
                Some(v) => v.clone(),
                None => env(k),
            };
            let provider = GcpProvider::from_vars(
                account.name.clone(),
                lookup,
                shared.policy.clone(),
                shared.breakers.clone(),
            )?;
            let provider = match &account.billing_export {
                Some(export) => provider.with_billing_export(export.clone())?,
                None => provider,
            };
            Ok(Arc::new(provider))
        }
        ProviderKind::Aws => {
            // A stored secret is `ACCESS_KEY_ID:SECRET_ACCESS_KEY`; without
            // one the profile (or aws-config's default chain) supplies them.
            let (key_id, key_secret) = match &secret {
                Some(s) => match s.split_once(':') {
                    Some((id, sec)) if !id.trim().is_empty() && !sec.trim().is_empty() => {
                        (Some(id.trim().to_owned()), Some(sec.trim().to_owned()))
                    }
                    _ => {
                        return Err(ProviderError::Config {
                            provider: ProviderKind::Aws,
                            detail: format!(
                                "the stored secret of account {} is not ACCESS_KEY_ID:SECRET_ACCESS_KEY",
                                account.name
                            ),
                        })
                    }
                },
                None => (None, None),
            };
            let mut own: HashMap<&str, Option<String>> = HashMap::new();
            own.insert("AWS_ACCESS_KEY_ID", key_id);
            own.insert("AWS_SECRET_ACCESS_KEY", key_secret);
            own.insert("AWS_SESSION_TOKEN", None);
            own.insert("AWS_PROFILE", account.profile.clone());
            if account.endpoint.is_some() {
                own.insert(
                    crate::providers::aws::ENDPOINT_VAR,
                    account.endpoint.clone(),
                );
                own.insert(crate::providers::aws::EKS_ENDPOINT_VAR, None);
            }
            let lookup = |k: &str| match own.get(k) {
                Some(v) => v.clone(),
                None => env(k),
            };
            let regions = (!account.regions.is_empty()).then(|| account.regions.clone());
            Ok(Arc::new(
                AwsProvider::ambient_with(
                    account.name.clone(),
                    &lookup,
                    account.profile.as_deref(),
                    regions,
                    shared.policy.clone(),
                    shared.breakers.clone(),
                )
                .await?,
            ))
        }
        ProviderKind::Kubeconfig => {
            let files = match account.kubeconfig.as_deref() {
                Some(path) => vec![expand_home(path, env)],
                None => crate::kubeconfig::files_from(&|k: &str| env(k)),
            };
            Ok(Arc::new(KubeconfigProvider::new(
                account.name.clone(),
                files,
            )))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn do_account(name: &str) -> Account {
        Account {
            endpoint: Some("http://127.0.0.1:9/".into()),
            ..Account::new(name, ProviderKind::DigitalOcean)
        }
    }

    #[test]
    fn a_billing_export_is_for_gcp_accounts_and_is_validated() {
        let mut gcp = Account::new("g", ProviderKind::Gcp);
        gcp.projects = vec!["my-proj".into()];
        gcp.billing_export = Some(crate::providers::gcp::BillingExport::parse("p.d.t").unwrap());
        assert!(gcp.validate().is_ok());
        let text = toml::to_string(&AccountsFile {
            accounts: vec![gcp.clone()],
        })
        .unwrap();
        assert!(text.contains("[account.billing_export]"), "{text}");
        let back: AccountsFile = toml::from_str(&text).unwrap();
        assert_eq!(back.accounts[0], gcp);
        if let Some(e) = gcp.billing_export.as_mut() {
            e.table = "t`; --".into();
        }
        assert!(
            matches!(gcp.validate(), Err(AccountsError::Invalid { field, .. }) if field == "billing_export")
        );
        let mut aws = do_account("d");
        aws.billing_export = Some(crate::providers::gcp::BillingExport::parse("p.d.t").unwrap());
        assert!(aws.validate().is_err());
    }

    #[test]
    fn validation_names_the_field() {
        let mut a = do_account("bad name");
        assert!(
            matches!(a.validate(), Err(AccountsError::Invalid { field, .. }) if field == "name")
        );
        a.name = "env".into();
        assert!(a.validate().is_err());
        a.name = "ok".into();
        a.endpoint = Some("http://example.com".into());
        assert!(
            matches!(a.validate(), Err(AccountsError::Invalid { field, .. }) if field == "endpoint")
        );
        a.endpoint = Some("ftp://127.0.0.1".into());
        assert!(a.validate().is_err());
        a.endpoint = None;
        a.regions = vec!["us-east-1; rm -rf".into()];
        assert!(
            matches!(a.validate(), Err(AccountsError::Invalid { field, .. }) if field == "regions")
        );
        let gcp = Account::new("g", ProviderKind::Gcp);
        assert!(
            matches!(gcp.validate(), Err(AccountsError::Invalid { field, .. }) if field == "projects")
        );
    }

    #[test]
    fn save_load_round_trip_holds_no_secret_and_is_private() {
        let dir = tempfile::tempdir().unwrap();
        let path = AccountsFile::path_in(dir.path());
        let secrets = Secrets::mock();
        let secret = SecretString::from("dop_v1_planted_secret".to_owned());
        save_account(
            &path,
            || Ok(secrets.clone()),
            do_account("do-a"),
            Some(&secret),
            false,
        )
        .unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(!text.contains("planted"), "{text}");
        assert!(text.contains("keyring = true"), "{text}");
        assert_eq!(
            secrets.get("do-a").unwrap().as_deref(),
            Some("dop_v1_planted_secret")
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let file = AccountsFile::load(&path).unwrap();
        assert_eq!(file.accounts.len(), 1);
        assert!(file.accounts[0].keyring);

        // Same name again without replace: refused, nothing changed.
        assert!(matches!(
            save_account(
                &path,
                || Ok(secrets.clone()),
                do_account("do-a"),
                None,
                false
            ),
            Err(AccountsError::Duplicate(_))
        ));
        // Edit without a new secret keeps the stored one.
        let mut edited = do_account("do-a");
        edited.endpoint = Some("http://127.0.0.1:10/".into());
        let saved = save_account(&path, || Ok(secrets.clone()), edited, None, true).unwrap();
        assert!(saved.keyring);
        assert!(secrets.get("do-a").unwrap().is_some());

        remove_account(&path, || Ok(secrets.clone()), "do-a").unwrap();
        assert_eq!(secrets.get("do-a").unwrap(), None);
        assert!(AccountsFile::load(&path).unwrap().accounts.is_empty());
        assert!(matches!(
            remove_account(&path, || Ok(secrets.clone()), "do-a"),
            Err(AccountsError::Unknown(_))
        ));
    }

    #[test]
    fn a_broken_file_is_a_clear_error_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = AccountsFile::path_in(dir.path());
        std::fs::write(&path, "[[account]]\nname = 3\n").unwrap();
        let err = AccountsFile::load(&path).unwrap_err();
        assert!(matches!(err, AccountsError::Parse { .. }));
        assert!(err.to_string().contains("accounts.toml"));
        std::fs::write(&path, "[[account]]\nname = \"x y\"\nprovider = \"do\"\n").unwrap();
        assert!(matches!(
            AccountsFile::load(&path),
            Err(AccountsError::Parse { .. })
        ));
        // Missing file: no accounts.
        let missing = dir.path().join("none.toml");
        assert!(AccountsFile::load(&missing).unwrap().accounts.is_empty());
    }

    #[tokio::test]
    async fn accounts_without_their_secret_become_source_errors() {
        let shared = Shared::new(crate::resilience::CallPolicy::default()).unwrap();
        let mut keyed = do_account("keyed");
        keyed.keyring = true;
        let secrets = Secrets::mock();
        secrets.set("keyed", "tok").unwrap();
        let resolved = resolve(&[do_account("no-token"), keyed], Some(&secrets));
        let (built, errors) = providers(resolved, &|_| None, &shared).await;
        assert_eq!(built.len(), 1);
        assert_eq!(built[0].account(), "keyed");
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].account, "no-token");
        assert!(
            errors[0].message.contains("API token"),
            "{}",
            errors[0].message
        );
    }
}
