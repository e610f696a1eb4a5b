//! `collect.toml` in the data dir, beside `accounts.toml`: what the user can
//! set about collection. Every key is optional; a missing file is the
//! defaults. It holds no secrets (a Prometheus URL with credentials in it
//! is refused, as everywhere).
//!
//! ```toml
//! interval_secs = 60            # 10 ..= 3600
//!
//! [prometheus]
//! auto_detect = true            # look for a Prometheus Service in each cluster
//!
//! [prometheus.default]          # every cluster without its own: a central Thanos
//! kind = "url"
//! url = "https://thanos.example/prometheus"
//!
//! [prometheus.per_cluster."aws/prod/eu-west-1/shop"]
//! kind = "service"
//! namespace = "monitoring"
//! service = "prometheus-server"
//! port = "80"
//!
//! [red]                         # the application metrics RED is computed from
//! latency_histogram = "http_request_duration_seconds_bucket"
//! requests_total = "http_requests_total"
//! error_matcher = 'code=~"5.."'
//! service_label = "service"
//! ```

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use super::{CollectSettings, PrometheusLocation, PrometheusSettings, RedMetricNames};

pub const COLLECT_FILE_NAME: &str = "collect.toml";

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} is not valid: {detail}")]
    Invalid { path: PathBuf, detail: String },
}

impl ConfigError {
    pub fn kind(&self) -> &'static str {
        match self {
            ConfigError::Read { .. } => "collect_config_read",
            ConfigError::Invalid { .. } => "collect_config_invalid",
        }
    }

    pub fn hint(&self) -> String {
        match self {
            ConfigError::Read { path, .. } => {
                format!("Check the permissions of {}.", path.display())
            }
            ConfigError::Invalid { path, .. } => format!(
                "Fix the line named above in {}, or move the file aside to use the defaults \
                 (collection every 60 s, Prometheus found automatically).",
                path.display()
            ),
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    interval_secs: Option<u64>,
    #[serde(default)]
    prometheus: PrometheusSettings,
    #[serde(default)]
    red: RedMetricNames,
}

/// The settings in `dir/collect.toml`, or the defaults when there is none.
pub fn load(dir: &Path) -> Result<CollectSettings, ConfigError> {
    let path = dir.join(COLLECT_FILE_NAME);
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(CollectSettings::default()),
        Err(source) => return Err(ConfigError::Read { path, source }),
    };
    parse(&path, &text)
}

fn parse(path: &Path, text: &str) -> Result<CollectSettings, ConfigError> {
    let invalid = |detail: String| ConfigError::Invalid {
        path: path.to_path_buf(),
        detail,
    };
    let file: File = toml::from_str(text).map_err(|e| invalid(e.to_string()))?;
    let mut settings = CollectSettings::default();
    if let Some(secs) = file.interval_secs {
        if !(10..=3600).contains(&secs) {
            return Err(invalid(format!(
                "interval_secs = {secs}: use 10 to 3600 seconds"
            )));
        }
        settings.interval = Duration::from_secs(secs);
    }
    let locations = file
        .prometheus
        .default
        .iter()
        .map(|l| ("prometheus.default".to_owned(), l))
        .chain(
            file.prometheus
                .per_cluster
                .iter()
                .map(|(id, l)| (format!("prometheus.per_cluster.{id:?}"), l)),
        );
    for (at, location) in locations {
        match location {
            PrometheusLocation::Url { url } => {
                let parsed = url::Url::parse(url)
                    .map_err(|e| invalid(format!("{at}: {url:?} is not a URL ({e})")))?;
                if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
                    return Err(invalid(format!("{at}: use an http:// or https:// URL")));
                }
                if !parsed.username().is_empty() || parsed.password().is_some() {
                    return Err(invalid(format!(
                        "{at}: remove the user name and password from the URL; this file \
                         holds no secrets"
                    )));
                }
            }
            PrometheusLocation::Service {
                namespace, service, ..
            } => {
                if namespace.trim().is_empty() || service.trim().is_empty() {
                    return Err(invalid(format!("{at}: name the namespace and the service")));
                }
            }
        }
    }
    settings.prometheus = file.prometheus;
    settings.red = file.red;
    Ok(settings)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_str(text: &str) -> Result<CollectSettings, ConfigError> {
        parse(Path::new("/d/collect.toml"), text)
    }

    #[test]
    fn no_file_is_the_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let s = load(dir.path()).unwrap();
        assert_eq!(s.interval, Duration::from_secs(60));
        assert!(s.prometheus.auto_detect);
    }

    #[test]
    fn every_setting_is_read() {
        let s = parse_str(
            r#"
interval_secs = 30
[prometheus]
auto_detect = false
[prometheus.default]
kind = "url"
url = "https://thanos.example/prometheus"
[prometheus.per_cluster."aws/prod/eu-west-1/shop"]
kind = "service"
namespace = "monitoring"
service = "prometheus-server"
port = "80"
[red]
requests_total = "requests_total"
"#,
        )
        .unwrap();
        assert_eq!(s.interval, Duration::from_secs(30));
        assert!(!s.prometheus.auto_detect);
        assert_eq!(
            s.prometheus.default,
            Some(PrometheusLocation::Url {
                url: "https://thanos.example/prometheus".into()
            })
        );
        assert_eq!(
            s.prometheus.per_cluster["aws/prod/eu-west-1/shop"],
            PrometheusLocation::Service {
                namespace: "monitoring".into(),
                service: "prometheus-server".into(),
                port: "80".into()
            }
        );
        assert_eq!(s.red.requests_total, "requests_total");
        assert_eq!(
            s.red.latency_histogram, "http_request_duration_seconds_bucket",
            "unset keys keep their defaults"
        );
    }

    #[test]
    fn bad_files_say_where_and_what() {
        for (text, says) in [
            ("interval_secs = 1", "10 to 3600"),
            ("intervall_secs = 60", "unknown field"),
            (
                "[prometheus.default]\nkind = \"url\"\nurl = \"http://u:p@h\"",
                "no secrets",
            ),
            ("[prometheus.default]\nkind = \"url\"\nurl = \"ftp://h\"", "http://"),
            (
                "[prometheus.per_cluster.x]\nkind = \"service\"\nnamespace = \"\"\nservice = \"s\"\nport = \"\"",
                "namespace",
            ),
            ("interval_secs = [", "collect.toml"),
        ] {
            let e = parse_str(text).unwrap_err();
            let msg = e.to_string();
            assert!(msg.contains(says), "{text:?}: {msg}");
            assert!(msg.contains("/d/collect.toml"), "{msg}");
            assert!(e.hint().contains("defaults"));
        }
    }
}
