//! Reading kubeconfig documents (kube's own parser, so that we accept what
//! kubectl accepts): the AKS credential reply is one, and the kubeconfig
//! provider reads the user's files.

use kube::config::Kubeconfig;
use secrecy::ExposeSecret;

/// What the current context says about reaching its cluster.
#[derive(Clone)]
pub struct ContextAccess {
    pub context: String,
    pub server: String,
    /// `certificate-authority-data`, still base64.
    pub ca_data_b64: Option<String>,
    /// A static bearer token, when the user has one.
    pub token: Option<String>,
    /// The user runs an exec plugin (kubelogin, aws, gke-gcloud-auth-plugin).
    pub uses_exec: bool,
}

impl std::fmt::Debug for ContextAccess {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ContextAccess")
            .field("context", &self.context)
            .field("server", &self.server)
            .field("has_token", &self.token.is_some())
            .field("uses_exec", &self.uses_exec)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum KubeconfigError {
    #[error("the kubeconfig is not UTF-8 text")]
    NotText,
    #[error("the kubeconfig does not parse: {0}")]
    Parse(String),
    #[error("the kubeconfig has no current-context")]
    NoCurrentContext,
    #[error("context {0:?} is not defined in the kubeconfig")]
    UnknownContext(String),
    #[error("cluster {cluster:?} of context {context:?} is missing or has no server")]
    NoServer { context: String, cluster: String },
}

/// The current context of a kubeconfig document.
pub fn access_from_bytes(bytes: &[u8]) -> Result<ContextAccess, KubeconfigError> {
    let text = std::str::from_utf8(bytes).map_err(|_| KubeconfigError::NotText)?;
    let config = Kubeconfig::from_yaml(text).map_err(|e| KubeconfigError::Parse(e.to_string()))?;
    let name = config
        .current_context
        .clone()
        .ok_or(KubeconfigError::NoCurrentContext)?;
    context_access(&config, &name)
}

/// One named context of a parsed kubeconfig.
pub fn context_access(config: &Kubeconfig, name: &str) -> Result<ContextAccess, KubeconfigError> {
    let ctx = config
        .contexts
        .iter()
        .find(|c| c.name == name)
        .and_then(|c| c.context.as_ref())
        .ok_or_else(|| KubeconfigError::UnknownContext(name.to_owned()))?;
    let no_server = || KubeconfigError::NoServer {
        context: name.to_owned(),
        cluster: ctx.cluster.clone(),
    };
    let cluster = config
        .clusters
        .iter()
        .find(|c| c.name == ctx.cluster)
        .and_then(|c| c.cluster.as_ref())
        .ok_or_else(no_server)?;
    let server = cluster
        .server
        .clone()
        .filter(|s| !s.is_empty())
        .ok_or_else(no_server)?;
    let user = ctx.user.as_deref().and_then(|u| {
        config
            .auth_infos
            .iter()
            .find(|a| a.name == u)
            .and_then(|a| a.auth_info.as_ref())
    });
    Ok(ContextAccess {
        context: name.to_owned(),
        server,
        ca_data_b64: cluster.certificate_authority_data.clone(),
        token: user
            .and_then(|u| u.token.as_ref())
            .map(|t| t.expose_secret().to_owned()),
        uses_exec: user.is_some_and(|u| u.exec.is_some()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str = "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: https://10.0.0.1\n    certificate-authority-data: Q0E=\ncontexts:\n- name: ctx\n  context:\n    cluster: c\n    user: u\ncurrent-context: ctx\nusers:\n- name: u\n  user:\n    token: tok\n";

    #[test]
    fn reads_the_current_context() {
        let a = access_from_bytes(DOC.as_bytes()).unwrap();
        assert_eq!(a.server, "https://10.0.0.1");
        assert_eq!(a.ca_data_b64.as_deref(), Some("Q0E="));
        assert_eq!(a.token.as_deref(), Some("tok"));
        assert!(!a.uses_exec);
        assert!(!format!("{a:?}").contains("tok\""));
    }

    #[test]
    fn garbage_and_dangling_names_are_errors_not_panics() {
        assert!(matches!(
            access_from_bytes(b"\xff\xfe"),
            Err(KubeconfigError::NotText)
        ));
        assert!(matches!(
            access_from_bytes(b"clusters: [[["),
            Err(KubeconfigError::Parse(_))
        ));
        assert!(matches!(
            access_from_bytes(b"apiVersion: v1\nkind: Config\n"),
            Err(KubeconfigError::NoCurrentContext)
        ));
        let dangling = DOC.replace("current-context: ctx", "current-context: other");
        assert!(matches!(
            access_from_bytes(dangling.as_bytes()),
            Err(KubeconfigError::UnknownContext(_))
        ));
        let no_server = DOC.replace("    server: https://10.0.0.1\n", "");
        assert!(matches!(
            access_from_bytes(no_server.as_bytes()),
            Err(KubeconfigError::NoServer { .. })
        ));
    }
}
