//! Kubeconfig exec credential plugins (client.authentication.k8s.io
//! v1/v1beta1 `ExecCredential`): gke-gcloud-auth-plugin, kubelogin,
//! `aws eks get-token`, doctl.

use std::{io::ErrorKind, path::Path, process::Stdio, time::Duration};

use async_trait::async_trait;
use kube::config::{Cluster, ExecAuthCluster, ExecConfig, ExecInteractiveMode};
use serde::Deserialize;

use super::KIND;
use crate::{
    error::ProviderError,
    providers::{AccessToken, TokenSource},
};

/// A kubeconfig exec credential plugin (client.authentication.k8s.io
/// v1/v1beta1 `ExecCredential`): runs `command args…` with the configured
/// `env` and `KUBERNETES_EXEC_INFO`, reads `status.token` and
/// `status.expirationTimestamp` from its stdout. Never logs the token, and
/// never puts the plugin's stdout in an error (it may hold one).
pub struct ExecTokenSource {
    command: String,
    args: Vec<String>,
    env: Vec<(String, String)>,
    api_version: String,
    exec_info: String,
    install_hint: Option<String>,
    context: String,
    timeout: Duration,
}

impl std::fmt::Debug for ExecTokenSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Args and env may carry secrets (kubelogin's --client-secret).
        f.debug_struct("ExecTokenSource")
            .field("command", &self.command)
            .field("api_version", &self.api_version)
            .field("context", &self.context)
            .finish_non_exhaustive()
    }
}

const API_V1: &str = "client.authentication.k8s.io/v1";
const API_V1BETA1: &str = "client.authentication.k8s.io/v1beta1";

impl ExecTokenSource {
    /// From a kubeconfig user's `exec` block; `cluster` is passed to the
    /// plugin when it sets `provideClusterInfo`.
    pub fn from_config(
        exec: &ExecConfig,
        cluster: Option<&Cluster>,
        context: &str,
        timeout: Duration,
    ) -> Result<Self, ProviderError> {
        let command = exec
            .command
            .clone()
            .filter(|c| !c.trim().is_empty())
            .ok_or_else(|| ProviderError::CredentialPlugin {
                provider: KIND,
                command: String::new(),
                detail: format!("context {context:?}: the exec block has no command"),
                hint: "Set users[].user.exec.command in the kubeconfig.".into(),
            })?;
        let plugin_err = |detail: String, hint: &str| ProviderError::CredentialPlugin {
            provider: KIND,
            command: command.clone(),
            detail,
            hint: hint.into(),
        };
        let api_version = match exec.api_version.as_deref() {
            Some(v @ (API_V1 | API_V1BETA1)) => v.to_owned(),
            other => {
                return Err(plugin_err(
                    format!("context {context:?}: exec apiVersion {other:?} is not supported"),
                    "Set exec.apiVersion to client.authentication.k8s.io/v1 (or v1beta1); v1alpha1 was removed from Kubernetes.",
                ))
            }
        };
        if matches!(exec.interactive_mode, Some(ExecInteractiveMode::Always)) {
            return Err(plugin_err(
                format!("context {context:?}: the plugin needs a terminal (interactiveMode: Always)"),
                "Sign in once in a terminal (kubectl get ns --context …), or configure the plugin for non-interactive use.",
            ));
        }
        let mut env = Vec::new();
        for entry in exec.env.iter().flatten() {
            if let (Some(name), Some(value)) = (entry.get("name"), entry.get("value")) {
                env.push((name.clone(), value.clone()));
            }
        }
        let mut spec = serde_json::json!({ "interactive": false });
        if exec.provide_cluster_info {
            if let Some(c) = cluster {
                let info = ExecAuthCluster::try_from(c).map_err(|e| {
                    plugin_err(
                        format!("context {context:?}: cannot pass the cluster to the plugin: {e}"),
                        "Fix the cluster's certificate-authority in the kubeconfig.",
                    )
                })?;
                spec["cluster"] = serde_json::to_value(info)
                    .map_err(|e| plugin_err(e.to_string(), "Report this with the diagnostics."))?;
            }
        }
        let exec_info = serde_json::json!({
            "apiVersion": api_version,
            "kind": "ExecCredential",
            "spec": spec,
        })
        .to_string();
        Ok(ExecTokenSource {
            command,
            args: exec.args.clone().unwrap_or_default(),
            env,
            api_version,
            exec_info,
            install_hint: exec.install_hint.clone().filter(|h| !h.trim().is_empty()),
            context: context.to_owned(),
            timeout,
        })
    }

    fn error(&self, detail: String, hint: String) -> ProviderError {
        ProviderError::CredentialPlugin {
            provider: KIND,
            command: self.command.clone(),
            detail: format!("{detail} (context {:?})", self.context),
            hint,
        }
    }

    fn missing(&self) -> ProviderError {
        let name = Path::new(&self.command)
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| self.command.clone());
        let known = match name.trim_end_matches(".exe") {
            "gke-gcloud-auth-plugin" => Some("Install it with `gcloud components install gke-gcloud-auth-plugin` (or your package manager's google-cloud-cli-gke-gcloud-auth-plugin)."),
            "kubelogin" => Some("Install kubelogin: `az aks install-cli`, or see https://azure.github.io/kubelogin/."),
            "kubectl-oidc_login" => Some("Install the oidc-login plugin: `kubectl krew install oidc-login`."),
            "aws" => Some("Install the AWS CLI v2 (https://aws.amazon.com/cli/) and sign in with `aws sso login`."),
            "aws-iam-authenticator" => Some("Install aws-iam-authenticator, or switch the kubeconfig to `aws eks get-token` (`aws eks update-kubeconfig`)."),
            "doctl" => Some("Install doctl and run `doctl auth init`."),
            _ => None,
        };
        let hint = match (&self.install_hint, known) {
            (Some(h), _) => h.trim().to_owned(),
            (None, Some(k)) => k.to_owned(),
            (None, None) => format!(
                "Install {name} and make sure it is on the PATH, or fix the exec command of the context in the kubeconfig."
            ),
        };
        let detail = if Path::new(&self.command).is_file() {
            // The file is there: what is missing is its `#!` interpreter.
            format!("{} cannot start: its interpreter is missing", self.command)
        } else if self.command.contains(std::path::MAIN_SEPARATOR) {
            format!("{} does not exist", self.command)
        } else {
            format!("{name} is not installed (not found on the PATH)")
        };
        self.error(detail, hint)
    }
}

#[async_trait]
impl TokenSource for ExecTokenSource {
    async fn token(&self) -> Result<AccessToken, ProviderError> {
        let mut cmd = tokio::process::Command::new(&self.command);
        cmd.args(&self.args)
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .env("KUBERNETES_EXEC_INFO", &self.exec_info)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            // A plugin that outlives the timeout is killed with the future.
            .kill_on_drop(true);
        tracing::debug!(command = %self.command, context = %self.context, "running the kubeconfig exec plugin");
        let child = cmd.spawn().map_err(|e| match e.kind() {
            ErrorKind::NotFound => self.missing(),
            ErrorKind::PermissionDenied => self.error(
                format!("{} is not executable", self.command),
                format!(
                    "Make {} executable (chmod +x) or fix the exec command.",
                    self.command
                ),
            ),
            _ => self.error(
                format!("cannot start it: {e}"),
                "Check the exec command in the kubeconfig.".into(),
            ),
        })?;
        let output = tokio::time::timeout(self.timeout, child.wait_with_output())
            .await
            .map_err(|_| {
                self.error(
                    format!("no answer within {:?}", self.timeout),
                    "The plugin may be waiting for a browser sign-in or a prompt: run `kubectl get ns --context …` once in a terminal, then refresh.".into(),
                )
            })?
            .map_err(|e| {
                self.error(
                    format!("failed while running: {e}"),
                    "Check the exec command in the kubeconfig.".into(),
                )
            })?;
        if !output.status.success() {
            return Err(self.error(
                format!("{}; stderr: {}", output.status, stderr_tail(&output.stderr)),
                "Run the plugin by hand to see why (it usually needs a fresh sign-in).".into(),
            ));
        }
        parse_exec_credential(&output.stdout, &self.api_version).map_err(|detail| {
            self.error(
                detail,
                "The plugin must print a client.authentication.k8s.io ExecCredential with status.token on stdout; run it by hand to check.".into(),
            )
        })
    }
}

/// The end of what a plugin printed on stderr, for the error message.
fn stderr_tail(stderr: &[u8]) -> String {
    let text = String::from_utf8_lossy(stderr);
    let text = text.trim();
    let start = text
        .char_indices()
        .rev()
        .nth(399)
        .map(|(i, _)| i)
        .unwrap_or(0);
    if text.is_empty() {
        "(empty)".into()
    } else {
        text[start..].to_owned()
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ExecCredential {
    api_version: Option<String>,
    kind: Option<String>,
    status: Option<ExecStatus>,
}

/// No `Debug`: it holds the token.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ExecStatus {
    token: Option<String>,
    expiration_timestamp: Option<String>,
    client_certificate_data: Option<String>,
}

/// Parses a plugin's stdout. Errors describe the shape only: serde's own
/// messages can quote values, and a value here may be the token.
pub fn parse_exec_credential(stdout: &[u8], api_version: &str) -> Result<AccessToken, String> {
    let cred: ExecCredential = serde_json::from_slice(stdout).map_err(|e| {
        format!(
            "its output is not an ExecCredential JSON ({:?} error at line {} column {})",
            e.classify(),
            e.line(),
            e.column()
        )
    })?;
    if cred.kind.as_deref() != Some("ExecCredential") {
        return Err(format!(
            "its output has kind {:?}, expected \"ExecCredential\"",
            cred.kind
        ));
    }
    if cred.api_version.as_deref() != Some(api_version) {
        return Err(format!(
            "its output has apiVersion {:?}, but the kubeconfig asked for {api_version:?}",
            cred.api_version
        ));
    }
    let status = cred
        .status
        .ok_or_else(|| "its output has no status".to_owned())?;
    let expires_at = status
        .expiration_timestamp
        .as_deref()
        .map(crate::time::parse_rfc3339)
        .transpose()
        .map_err(|e| format!("status.expirationTimestamp: {e}"))?;
    match status.token.filter(|t| !t.trim().is_empty()) {
        Some(token) => Ok(AccessToken::new(token.trim(), expires_at)),
        None if status.client_certificate_data.is_some() => Err(
            "it returned a client certificate instead of a token, which is not supported yet"
                .into(),
        ),
        None => Err("its output has no status.token".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::kubeconfig::EXEC_TIMEOUT;

    fn cred(api: &str, status: &str) -> Vec<u8> {
        format!(r#"{{"apiVersion":"{api}","kind":"ExecCredential","status":{status}}}"#)
            .into_bytes()
    }

    #[test]
    fn exec_credentials_parse_with_their_expiry() {
        let t = parse_exec_credential(
            &cred(
                API_V1,
                r#"{"token":"s3cret","expirationTimestamp":"2030-01-01T00:00:00Z"}"#,
            ),
            API_V1,
        )
        .unwrap();
        assert_eq!(t.secret(), "s3cret");
        assert_eq!(
            t.expires_at,
            Some(crate::time::parse_rfc3339("2030-01-01T00:00:00Z").unwrap())
        );
        let forever =
            parse_exec_credential(&cred(API_V1BETA1, r#"{"token":"t"}"#), API_V1BETA1).unwrap();
        assert_eq!(forever.expires_at, None);
    }

    #[test]
    fn bad_exec_output_is_described_without_quoting_it() {
        let cases: [(&[u8], &str); 6] = [
            (b"s3cret-token-printed-raw", "not an ExecCredential JSON"),
            (
                br#"{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":42}}"#,
                "not an ExecCredential JSON",
            ),
            (&cred(API_V1BETA1, r#"{"token":"t"}"#), "apiVersion"),
            (&cred(API_V1, r#"{}"#), "no status.token"),
            (
                &cred(API_V1, r#"{"clientCertificateData":"x","clientKeyData":"y"}"#),
                "client certificate",
            ),
            (
                &cred(API_V1, r#"{"token":"t","expirationTimestamp":"soon"}"#),
                "expirationTimestamp",
            ),
        ];
        for (out, want) in cases {
            let e = parse_exec_credential(out, API_V1).unwrap_err();
            assert!(e.contains(want), "{e:?} should mention {want:?}");
            assert!(!e.contains("s3cret"), "{e:?} leaks the output");
        }
        let e =
            parse_exec_credential(br#"{"kind":"Secret","apiVersion":"v1"}"#, API_V1).unwrap_err();
        assert!(e.contains("kind"), "{e}");
    }

    fn exec(api: Option<&str>) -> ExecConfig {
        ExecConfig {
            api_version: api.map(str::to_owned),
            command: Some("gke-gcloud-auth-plugin".into()),
            args: Some(vec!["--flag".into()]),
            env: Some(vec![env_entry("A", "1"), env_entry("B", "2")]),
            ..ExecConfig::default()
        }
    }

    /// A kubeconfig `env` entry: `{name: k, value: v}`.
    fn env_entry(k: &str, v: &str) -> std::collections::HashMap<String, String> {
        [("name", k), ("value", v)]
            .into_iter()
            .map(|(a, b)| (a.to_owned(), b.to_owned()))
            .collect()
    }

    #[test]
    fn exec_config_is_validated_before_anything_runs() {
        let ok =
            ExecTokenSource::from_config(&exec(Some(API_V1)), None, "ctx", EXEC_TIMEOUT).unwrap();
        assert_eq!(ok.env, [("A".into(), "1".into()), ("B".into(), "2".into())]);
        let info: serde_json::Value = serde_json::from_str(&ok.exec_info).unwrap();
        assert_eq!(info["apiVersion"], API_V1);
        assert_eq!(info["kind"], "ExecCredential");
        assert_eq!(info["spec"]["interactive"], false);

        for api in [None, Some("client.authentication.k8s.io/v1alpha1")] {
            let e =
                ExecTokenSource::from_config(&exec(api), None, "ctx", EXEC_TIMEOUT).unwrap_err();
            assert_eq!(e.kind(), "credential_plugin");
            assert!(e.hint().contains("apiVersion"), "{}", e.hint());
        }
        let mut always = exec(Some(API_V1));
        always.interactive_mode = Some(ExecInteractiveMode::Always);
        let e = ExecTokenSource::from_config(&always, None, "ctx", EXEC_TIMEOUT).unwrap_err();
        assert!(e.to_string().contains("terminal"), "{e}");

        let mut with_cluster = exec(Some(API_V1BETA1));
        with_cluster.provide_cluster_info = true;
        let cluster = Cluster {
            server: Some("https://10.0.0.1".into()),
            ..Cluster::default()
        };
        let s = ExecTokenSource::from_config(&with_cluster, Some(&cluster), "ctx", EXEC_TIMEOUT)
            .unwrap();
        let info: serde_json::Value = serde_json::from_str(&s.exec_info).unwrap();
        assert_eq!(info["spec"]["cluster"]["server"], "https://10.0.0.1");
    }

    #[test]
    fn a_missing_plugin_is_named_with_how_to_install_it() {
        let s =
            ExecTokenSource::from_config(&exec(Some(API_V1)), None, "ctx", EXEC_TIMEOUT).unwrap();
        let e = s.missing();
        assert!(
            e.to_string()
                .contains("gke-gcloud-auth-plugin is not installed"),
            "{e}"
        );
        assert!(e
            .hint()
            .contains("gcloud components install gke-gcloud-auth-plugin"));
        let mut hinted = exec(Some(API_V1));
        hinted.command = Some("my-plugin".into());
        hinted.install_hint = Some("brew install my-plugin".into());
        let e = ExecTokenSource::from_config(&hinted, None, "ctx", EXEC_TIMEOUT)
            .unwrap()
            .missing();
        assert_eq!(e.hint(), "brew install my-plugin");
    }
}
