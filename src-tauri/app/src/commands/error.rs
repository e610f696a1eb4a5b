use cloudops_core::store::AlertError;
use cloudops_core::views::ViewError;
use cloudops_core::StoreError;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// Every command rejects with this shape: what failed and where (`message`),
/// and what to try (`hint`). Never carries a secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct CommandError {
    pub kind: String,
    pub message: String,
    pub hint: String,
}

impl From<StoreError> for CommandError {
    fn from(e: StoreError) -> Self {
        CommandError {
            kind: e.kind().to_owned(),
            message: e.to_string(),
            hint: e.hint(),
        }
    }
}

impl From<AlertError> for CommandError {
    fn from(e: AlertError) -> Self {
        CommandError {
            kind: e.kind().to_owned(),
            message: e.to_string(),
            hint: e.hint(),
        }
    }
}

impl From<ViewError> for CommandError {
    fn from(e: ViewError) -> Self {
        CommandError {
            kind: e.kind().to_owned(),
            message: e.to_string(),
            hint: e.hint(),
        }
    }
}

impl CommandError {
    /// An IPC argument that fails validation: the webview sent something
    /// the backend refuses to act on.
    pub fn invalid(message: impl Into<String>) -> Self {
        CommandError {
            kind: "invalid_argument".into(),
            message: message.into(),
            hint: "Reload the screen; if it happens again, copy the diagnostics into a bug report."
                .into(),
        }
    }

    pub fn internal(message: impl Into<String>) -> Self {
        CommandError {
            kind: "internal".into(),
            message: message.into(),
            hint: "This is a bug in CloudOps Console. Copy the diagnostics into a bug report."
                .into(),
        }
    }

    pub fn offline() -> Self {
        CommandError {
            kind: "offline".into(),
            message:
                "The app runs offline (--offline): it shows the cache and makes no network calls."
                    .into(),
            hint: "Restart without --offline to refresh from the clouds.".into(),
        }
    }
}
