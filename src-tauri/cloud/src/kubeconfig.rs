//! Reading kubeconfig documents (kube's own parser, so that we accept what
//! kubectl accepts): the AKS credential reply is one, and the kubeconfig
//! provider reads the user's files.
//!
//! [`KubeconfigSet`] is kubectl's merged view of several files: the first
//! file to define a context, cluster or user name wins, and a context may
//! name a cluster or a user that another file defines. Unlike kubectl, a
//! file that does not parse does not sink the others: it is reported on its
//! own and left out of the merge.

use std::path::{Path, PathBuf};

use kube::config::{AuthInfo, Cluster, Context, Kubeconfig};
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

/// The variable kubectl reads its file list from.
pub const KUBECONFIG_VAR: &str = "KUBECONFIG";

/// The kubeconfig files kubectl would read: `KUBECONFIG` split on the
/// platform's path separator (`:`, `;` on Windows), empty entries and
/// repeats dropped, or else `$HOME/.kube/config`. Variables come through
/// `var` only, so a caller that passes a map (the in-process sandbox) never
/// reaches the user's files.
pub fn files_from(var: &dyn Fn(&str) -> Option<String>) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = Vec::new();
    if let Some(list) = var(KUBECONFIG_VAR) {
        for path in std::env::split_paths(&list) {
            if !path.as_os_str().is_empty() && !files.contains(&path) {
                files.push(path);
            }
        }
    }
    if files.is_empty() {
        files.extend(default_file(var));
    }
    files
}

/// `$HOME/.kube/config` (`%USERPROFILE%` when there is no HOME, as on
/// Windows), whether or not it exists.
pub fn default_file(var: &dyn Fn(&str) -> Option<String>) -> Option<PathBuf> {
    ["HOME", "USERPROFILE"]
        .iter()
        .filter_map(|k| var(k))
        .find(|h| !h.trim().is_empty())
        .map(|home| Path::new(&home).join(".kube").join("config"))
}

/// The user has kubeconfig clusters: `KUBECONFIG` names a file, or the
/// default file exists.
pub fn configured(var: &dyn Fn(&str) -> Option<String>) -> bool {
    let listed = var(KUBECONFIG_VAR)
        .map(|v| std::env::split_paths(&v).any(|p| !p.as_os_str().is_empty()))
        .unwrap_or(false);
    listed || default_file(var).is_some_and(|p| p.is_file())
}

/// One file of a [`KubeconfigSet`], as read.
pub struct LoadedFile {
    pub path: PathBuf,
    /// A missing file reads as empty, as in kubectl. The error says what is
    /// wrong with the file.
    pub config: Result<Kubeconfig, String>,
}

/// A context resolved through the merged files.
pub struct ResolvedContext<'a> {
    pub name: String,
    /// The file that defines the context (index into [`KubeconfigSet::files`]).
    pub file: usize,
    pub context: &'a Context,
    pub cluster: Option<&'a Cluster>,
    /// The user's name and definition; `None` when the context names no
    /// user. A named user that no file defines is `Some((name, None))`.
    pub user: Option<(&'a str, Option<&'a AuthInfo>)>,
}

impl ResolvedContext<'_> {
    /// The API server URL, when the cluster is defined and has one.
    pub fn server(&self) -> Option<&str> {
        self.cluster
            .and_then(|c| c.server.as_deref())
            .filter(|s| !s.trim().is_empty())
    }
}

/// kubectl's merged view of a list of kubeconfig files.
pub struct KubeconfigSet {
    pub files: Vec<LoadedFile>,
}

impl KubeconfigSet {
    /// Reads every file. kube's reader resolves relative certificate, key,
    /// token-file and exec-command paths against the file's directory, as
    /// kubectl does. Blocking: call it off the async threads.
    pub fn load(paths: &[PathBuf]) -> Self {
        let files = paths
            .iter()
            .map(|path| LoadedFile {
                path: path.clone(),
                config: if path.exists() {
                    Kubeconfig::read_from(path).map_err(|e| e.to_string())
                } else {
                    Ok(Kubeconfig::default())
                },
            })
            .collect();
        KubeconfigSet { files }
    }

    /// Parsed documents in kubectl's precedence order, with their index.
    fn docs(&self) -> impl Iterator<Item = (usize, &Kubeconfig)> {
        self.files
            .iter()
            .enumerate()
            .filter_map(|(i, f)| f.config.as_ref().ok().map(|c| (i, c)))
    }

    /// The contexts whose winning definition is in file `index`, in file
    /// order. Err when that file did not load.
    pub fn contexts_of(&self, index: usize) -> Result<Vec<ResolvedContext<'_>>, String> {
        let file = self
            .files
            .get(index)
            .ok_or_else(|| format!("no kubeconfig file #{index}"))?;
        let config = file.config.as_ref().map_err(Clone::clone)?;
        let mut out: Vec<ResolvedContext<'_>> = Vec::new();
        for named in &config.contexts {
            if out.iter().any(|c| c.name == named.name) {
                continue;
            }
            if let Some(resolved) = self.resolve(&named.name) {
                if resolved.file == index {
                    out.push(resolved);
                }
            }
        }
        Ok(out)
    }

    /// A context by name: the first file that defines it wins; its cluster
    /// and user are looked up across all files, first file first.
    pub fn resolve(&self, name: &str) -> Option<ResolvedContext<'_>> {
        let (file, context) = self.docs().find_map(|(i, doc)| {
            doc.contexts
                .iter()
                .find(|c| c.name == name)
                .map(|c| (i, c.context.as_ref()))
        })?;
        // A context entry without a body is defined, but names nothing.
        let context = context?;
        let cluster = self.docs().find_map(|(_, doc)| {
            doc.clusters
                .iter()
                .find(|c| c.name == context.cluster)
                .map(|c| c.cluster.as_ref())
        });
        let user = context.user.as_deref().filter(|u| !u.is_empty()).map(|u| {
            let info = self.docs().find_map(|(_, doc)| {
                doc.auth_infos
                    .iter()
                    .find(|a| a.name == u)
                    .map(|a| a.auth_info.as_ref())
            });
            (u, info.flatten())
        });
        Some(ResolvedContext {
            name: name.to_owned(),
            file,
            context,
            cluster: cluster.flatten(),
            user,
        })
    }
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

    fn vars(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: std::collections::HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        move |k: &str| map.get(k).cloned()
    }

    #[test]
    fn the_file_list_follows_kubectl() {
        let sep = if cfg!(windows) { ";" } else { ":" };
        let list = format!("/a/one{sep}{sep}/b/two{sep}/a/one");
        let v = vars(&[("KUBECONFIG", &list), ("HOME", "/home/u")]);
        assert_eq!(
            files_from(&v),
            [PathBuf::from("/a/one"), PathBuf::from("/b/two")]
        );
        assert!(configured(&v), "KUBECONFIG names files");

        let home = vars(&[("HOME", "/home/u")]);
        assert_eq!(
            files_from(&home),
            [Path::new("/home/u").join(".kube").join("config")]
        );
        // The default file does not exist under a made-up HOME.
        assert!(!configured(&home));

        // Only separators in KUBECONFIG: kubectl falls back to the default.
        let empty = vars(&[("KUBECONFIG", sep), ("HOME", "/home/u")]);
        assert_eq!(files_from(&empty).len(), 1);
        assert!(!configured(&empty));

        // The sandbox's map: no HOME, no KUBECONFIG, no files at all.
        let none = vars(&[("DIGITALOCEAN_ACCESS_TOKEN", "t")]);
        assert!(files_from(&none).is_empty());
        assert!(!configured(&none));
    }

    #[test]
    fn an_existing_default_file_counts_as_configured() {
        let home = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(home.path().join(".kube")).unwrap();
        std::fs::write(home.path().join(".kube/config"), DOC).unwrap();
        let h = home.path().to_string_lossy().into_owned();
        assert!(configured(&vars(&[("HOME", &h)])));
        assert!(configured(&vars(&[("USERPROFILE", &h)])));
    }

    fn doc(contexts: &[(&str, &str, &str)], clusters: &[(&str, &str)], users: &[&str]) -> String {
        let mut s = String::from("apiVersion: v1\nkind: Config\nclusters:\n");
        for (name, server) in clusters {
            s += &format!("- name: {name}\n  cluster:\n    server: {server}\n");
        }
        s += "contexts:\n";
        for (name, cluster, user) in contexts {
            s += &format!("- name: {name}\n  context:\n    cluster: {cluster}\n    user: {user}\n");
        }
        s += "users:\n";
        for u in users {
            s += &format!("- name: {u}\n  user:\n    token: tok-{u}\n");
        }
        s
    }

    #[test]
    fn merged_files_first_definition_wins_and_names_cross_files() {
        let dir = tempfile::tempdir().unwrap();
        let one = dir.path().join("one");
        let two = dir.path().join("two");
        let bad = dir.path().join("bad");
        let missing = dir.path().join("missing");
        std::fs::write(
            &one,
            doc(
                &[("shared", "c1", "u1"), ("only-one", "c2", "u2")],
                &[("c1", "https://one.example")],
                &["u1"],
            ),
        )
        .unwrap();
        std::fs::write(
            &two,
            doc(
                &[
                    ("shared", "c1", "u1"),
                    ("only-two", "c1", "u1"),
                    ("only-two", "c2", "u2"),
                ],
                // Both define c1: file one's wins. c2 and u2 exist only here.
                &[("c1", "https://two.example"), ("c2", "https://c2.example")],
                &["u1", "u2"],
            ),
        )
        .unwrap();
        std::fs::write(&bad, "clusters: [[[").unwrap();
        let set = KubeconfigSet::load(&[bad.clone(), one.clone(), missing, two.clone()]);

        assert!(set.contexts_of(0).is_err(), "the garbage file fails alone");
        let names = |i| -> Vec<String> {
            set.contexts_of(i)
                .unwrap()
                .iter()
                .map(|c| c.name.clone())
                .collect()
        };
        assert_eq!(names(1), ["shared", "only-one"]);
        assert!(names(2).is_empty(), "a missing file reads as empty");
        assert_eq!(
            names(3),
            ["only-two"],
            "duplicates of file one are not file two's"
        );

        let shared = set.resolve("shared").unwrap();
        assert_eq!(shared.file, 1);
        assert_eq!(shared.server(), Some("https://one.example"));
        // A context in file one may use a cluster and a user from file two.
        let cross = set.resolve("only-one").unwrap();
        assert_eq!(cross.server(), Some("https://c2.example"));
        let (user, info) = cross.user.unwrap();
        assert_eq!(user, "u2");
        assert!(info.and_then(|i| i.token.as_ref()).is_some());
        // Within a file too, the first definition wins.
        assert_eq!(set.resolve("only-two").unwrap().context.cluster, "c1");
        assert!(set.resolve("nope").is_none());
    }
}
