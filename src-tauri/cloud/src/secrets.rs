//! Secrets typed into the app or the CLI live only in the OS keyring
//! (BRIEF §4, R5): never in `accounts.toml`, the cache, logs or IPC replies.
//!
//! The store is picked once: the Secret Service (GNOME Keyring, KWallet)
//! first, the kernel keyutils keyring on a headless box, and a clear error
//! when neither works. We hold the chosen store ourselves and build entries
//! from it instead of using keyring-core's process-global default store, so
//! that tests can each use their own mock store without serialising.
//!
//! Every call blocks (the Secret Service client drives D-Bus with its own
//! executor): call from a plain or `spawn_blocking` thread, never from an
//! async task.

use std::{fmt, sync::Arc};

use keyring_core::{CredentialStore, Error as KeyringError};

/// The keyring "service" every CloudOps entry is filed under.
pub const SERVICE: &str = "cloudops-console";

/// The entry the store probe writes and deletes.
const PROBE_USER: &str = "probe";

#[derive(Debug, thiserror::Error)]
pub enum SecretsError {
    #[error(
        "no OS keyring is available (Secret Service: {secret_service}; kernel keyutils: {keyutils})"
    )]
    NoKeyring {
        secret_service: String,
        keyutils: String,
    },
    #[error("the OS keyring could not {action} the secret of account {account:?}: {detail}")]
    Keyring {
        action: &'static str,
        account: String,
        detail: String,
    },
}

impl SecretsError {
    pub fn kind(&self) -> &'static str {
        match self {
            SecretsError::NoKeyring { .. } => "no_keyring",
            SecretsError::Keyring { .. } => "keyring",
        }
    }

    pub fn hint(&self) -> String {
        match self {
            SecretsError::NoKeyring { .. } => "Start a Secret Service (GNOME Keyring or KWallet) and unlock it, \
                 or use the provider's own login (AWS profile, gcloud ADC, DIGITALOCEAN_ACCESS_TOKEN), \
                 which needs no stored secret."
                .into(),
            SecretsError::Keyring { .. } => {
                "Unlock the keyring (it may be locked after a restart) and try again.".into()
            }
        }
    }
}

/// Which store holds the secrets; shown in Settings so the user knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    SecretService,
    Keyutils,
    /// In-memory, for tests only.
    Mock,
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Backend::SecretService => "Secret Service",
            Backend::Keyutils => "kernel keyutils",
            Backend::Mock => "in-memory mock",
        })
    }
}

/// The keyring, opened. Cheap to clone.
#[derive(Clone)]
pub struct Secrets {
    store: Arc<CredentialStore>,
    backend: Backend,
}

impl fmt::Debug for Secrets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Secrets")
            .field("backend", &self.backend)
            .finish()
    }
}

fn detail(e: &KeyringError) -> String {
    // keyring-core errors never carry the secret itself, except BadEncoding
    // and BadDataFormat, which carry raw bytes: never print those.
    match e {
        KeyringError::BadEncoding(_) => "the stored secret is not UTF-8 text".into(),
        KeyringError::BadDataFormat(_, _) => {
            "the stored secret is not in the expected format".into()
        }
        other => other.to_string(),
    }
}

impl Secrets {
    /// The OS keyring: Secret Service, else keyutils, else [`SecretsError::NoKeyring`].
    /// Each candidate must accept a write and a delete of a probe entry:
    /// keyutils opens fine in a container whose seccomp policy then refuses
    /// every key operation.
    #[cfg(target_os = "linux")]
    pub fn open_os() -> Result<Secrets, SecretsError> {
        let secret_service = match zbus_secret_service_keyring_store::Store::new() {
            Ok(store) => match Self::probed(store, Backend::SecretService) {
                Ok(s) => return Ok(s),
                Err(e) => e,
            },
            Err(e) => detail(&e),
        };
        let keyutils = match linux_keyutils_keyring_store::Store::new() {
            Ok(store) => match Self::probed(store, Backend::Keyutils) {
                Ok(s) => return Ok(s),
                Err(e) => e,
            },
            Err(e) => detail(&e),
        };
        Err(SecretsError::NoKeyring {
            secret_service,
            keyutils,
        })
    }

    /// Other platforms get their native store crate when the app is
    /// packaged for them; until then, say so instead of failing obscurely.
    #[cfg(not(target_os = "linux"))]
    pub fn open_os() -> Result<Secrets, SecretsError> {
        Err(SecretsError::NoKeyring {
            secret_service: "not built for this platform".into(),
            keyutils: "not built for this platform".into(),
        })
    }

    #[cfg(target_os = "linux")]
    fn probed<S: keyring_core::api::CredentialStoreApi + Send + Sync + 'static>(
        store: Arc<S>,
        backend: Backend,
    ) -> Result<Secrets, String> {
        let s = Secrets { store, backend };
        s.probe().map(|()| s)
    }

    /// A fresh in-memory store (keyring-core's mock): tests only.
    pub fn mock() -> Secrets {
        // The mock store's constructor cannot fail; keep the fallible path
        // anyway rather than unwrap.
        let store: Arc<CredentialStore> = match keyring_core::mock::Store::new() {
            Ok(s) => s,
            Err(_) => Arc::new(EmptyStore),
        };
        Secrets {
            store,
            backend: Backend::Mock,
        }
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    fn probe(&self) -> Result<(), String> {
        let entry = self
            .store
            .build(SERVICE, PROBE_USER, None)
            .map_err(|e| detail(&e))?;
        entry.set_password("probe").map_err(|e| detail(&e))?;
        entry.delete_credential().map_err(|e| detail(&e))
    }

    fn user(account: &str) -> String {
        format!("account:{account}")
    }

    fn entry(
        &self,
        action: &'static str,
        account: &str,
    ) -> Result<keyring_core::Entry, SecretsError> {
        self.store
            .build(SERVICE, &Self::user(account), None)
            .map_err(|e| SecretsError::Keyring {
                action,
                account: account.to_owned(),
                detail: detail(&e),
            })
    }

    pub fn set(&self, account: &str, secret: &str) -> Result<(), SecretsError> {
        self.entry("store", account)?
            .set_password(secret)
            .map_err(|e| SecretsError::Keyring {
                action: "store",
                account: account.to_owned(),
                detail: detail(&e),
            })
    }

    /// The account's secret, or `None` when it has none.
    pub fn get(&self, account: &str) -> Result<Option<String>, SecretsError> {
        match self.entry("read", account)?.get_password() {
            Ok(s) => Ok(Some(s)),
            Err(KeyringError::NoEntry) => Ok(None),
            Err(e) => Err(SecretsError::Keyring {
                action: "read",
                account: account.to_owned(),
                detail: detail(&e),
            }),
        }
    }

    /// Removes the account's secret; removing a missing one is not an error.
    pub fn delete(&self, account: &str) -> Result<(), SecretsError> {
        match self.entry("delete", account)?.delete_credential() {
            Ok(()) | Err(KeyringError::NoEntry) => Ok(()),
            Err(e) => Err(SecretsError::Keyring {
                action: "delete",
                account: account.to_owned(),
                detail: detail(&e),
            }),
        }
    }
}

/// A store that refuses everything: only reached if keyring-core's mock
/// constructor ever starts failing.
#[derive(Debug)]
struct EmptyStore;

impl keyring_core::api::CredentialStoreApi for EmptyStore {
    fn vendor(&self) -> String {
        "none".into()
    }
    fn id(&self) -> String {
        "none".into()
    }
    fn build(
        &self,
        _service: &str,
        _user: &str,
        _mods: Option<&std::collections::HashMap<&str, &str>>,
    ) -> keyring_core::Result<keyring_core::Entry> {
        Err(KeyringError::NotSupportedByStore(
            "no credential store".into(),
        ))
    }
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_get_delete_round_trip_in_the_mock_store() {
        let s = Secrets::mock();
        assert_eq!(s.get("do-prod").unwrap(), None);
        s.set("do-prod", "dop_v1_secret").unwrap();
        assert_eq!(s.get("do-prod").unwrap().as_deref(), Some("dop_v1_secret"));
        // Accounts do not see each other's secrets.
        assert_eq!(s.get("do-staging").unwrap(), None);
        s.delete("do-prod").unwrap();
        assert_eq!(s.get("do-prod").unwrap(), None);
        // Deleting twice is fine.
        s.delete("do-prod").unwrap();
    }

    #[test]
    fn mock_stores_are_independent() {
        let a = Secrets::mock();
        let b = Secrets::mock();
        a.set("x", "one").unwrap();
        assert_eq!(b.get("x").unwrap(), None);
    }

    #[test]
    fn debug_shows_only_the_backend() {
        let s = Secrets::mock();
        s.set("x", "hunter2").unwrap();
        let shown = format!("{s:?}");
        assert!(shown.contains("Mock"));
        assert!(!shown.contains("hunter2"));
    }
}
