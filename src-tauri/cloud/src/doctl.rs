//! doctl's own login (BRIEF §4): a user who ran `doctl auth init` has a token
//! in `~/.config/doctl/config.yaml`, and needs no re-entry. The file holds
//! `access-token` (the default context) and `auth-contexts` (named ones);
//! `context` picks one, as doctl does.

use std::{collections::BTreeMap, path::PathBuf};

use serde::Deserialize;

#[derive(Debug, Default, Deserialize)]
struct DoctlConfig {
    #[serde(default, rename = "access-token")]
    access_token: Option<String>,
    #[serde(default)]
    context: Option<String>,
    #[serde(default, rename = "auth-contexts")]
    auth_contexts: BTreeMap<String, String>,
}

/// Where doctl keeps its config on Linux.
pub fn config_path(var: &dyn Fn(&str) -> Option<String>) -> Option<PathBuf> {
    let base = match var("XDG_CONFIG_HOME") {
        Some(dir) if !dir.trim().is_empty() => PathBuf::from(dir),
        _ => PathBuf::from(var("HOME")?).join(".config"),
    };
    Some(base.join("doctl").join("config.yaml"))
}

#[derive(Debug, thiserror::Error)]
pub enum DoctlError {
    #[error("doctl's config {path} does not parse: {detail}")]
    Parse { path: String, detail: String },
    #[error("doctl's config {path} selects context {context:?}, which has no token")]
    UnknownContext { path: String, context: String },
}

/// The token of doctl's current context, if doctl is logged in. A missing
/// file is `Ok(None)`; a broken one is an error naming the file.
pub fn token_from_text(path: &str, text: &str) -> Result<Option<String>, DoctlError> {
    let config: DoctlConfig = serde_saphyr::from_str(text).map_err(|e| DoctlError::Parse {
        path: path.to_owned(),
        detail: e.to_string(),
    })?;
    let token = match config.context.as_deref() {
        None | Some("") | Some("default") => config.access_token,
        Some(name) => Some(config.auth_contexts.get(name).cloned().ok_or_else(|| {
            DoctlError::UnknownContext {
                path: path.to_owned(),
                context: name.to_owned(),
            }
        })?),
    };
    Ok(token.filter(|t| !t.trim().is_empty()))
}

/// Reads doctl's config through `var` (never the process environment
/// directly, so the sandbox's variable map never reaches the user's files).
pub fn token(var: &dyn Fn(&str) -> Option<String>) -> Result<Option<String>, DoctlError> {
    let Some(path) = config_path(var) else {
        return Ok(None);
    };
    match std::fs::read_to_string(&path) {
        Ok(text) => token_from_text(&path.display().to_string(), &text),
        Err(_) => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_and_named_contexts_are_read_as_doctl_does() {
        let doc = "access-token: dop_v1_default\ncontext: default\nauth-contexts:\n  staging: dop_v1_staging\n";
        assert_eq!(
            token_from_text("c", doc).unwrap().as_deref(),
            Some("dop_v1_default")
        );
        let named = doc.replace("context: default", "context: staging");
        assert_eq!(
            token_from_text("c", &named).unwrap().as_deref(),
            Some("dop_v1_staging")
        );
        let dangling = doc.replace("context: default", "context: prod");
        let err = token_from_text("/home/u/.config/doctl/config.yaml", &dangling).unwrap_err();
        assert!(err.to_string().contains("prod"), "{err}");
        assert_eq!(token_from_text("c", "output: text\n").unwrap(), None);
        assert!(matches!(
            token_from_text("c", "access-token: [unclosed"),
            Err(DoctlError::Parse { .. })
        ));
    }

    #[test]
    fn the_file_is_found_under_xdg_config_home_or_home_and_only_through_var() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("doctl").join("config.yaml");
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(&file, "access-token: dop_v1_file\n").unwrap();
        let xdg = dir.path().display().to_string();
        let var = |k: &str| (k == "XDG_CONFIG_HOME").then(|| xdg.clone());
        assert_eq!(token(&var).unwrap().as_deref(), Some("dop_v1_file"));
        // The sandbox's map has neither HOME nor XDG_CONFIG_HOME.
        assert_eq!(token(&|_| None).unwrap(), None);
    }
}
