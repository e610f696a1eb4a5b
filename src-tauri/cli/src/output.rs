//! How the CLI reports: JSON documents on stdout, human text, and failures
//! with their exit code, kind, message and hint.

use std::io::Write;
use std::process::ExitCode;

use cloudops_core::StoreError;
use serde::Serialize;

/// Exit codes of the CLI contract (BRIEF §7).
pub const EXIT_ERROR: u8 = 1;
pub const EXIT_USAGE: u8 = 2;
/// Some sources failed; the rest of the result is printed (and cached).
pub const EXIT_PARTIAL: u8 = 3;

/// A command that could not do its job.
#[derive(Debug)]
pub struct Failure {
    pub exit: u8,
    pub kind: String,
    pub message: String,
    pub hint: String,
}

#[derive(Serialize)]
struct FailureDoc<'a> {
    error: FailureBody<'a>,
}

#[derive(Serialize)]
struct FailureBody<'a> {
    kind: &'a str,
    message: &'a str,
    hint: &'a str,
}

impl Failure {
    pub fn usage(kind: &str, message: impl Into<String>, hint: impl Into<String>) -> Failure {
        Failure {
            exit: EXIT_USAGE,
            kind: kind.to_owned(),
            message: message.into(),
            hint: hint.into(),
        }
    }

    /// Prints the failure (a JSON document on stdout with --json; always a
    /// human line on stderr) and returns its exit code.
    pub fn report(self, json: bool) -> ExitCode {
        if json {
            let doc = FailureDoc {
                error: FailureBody {
                    kind: &self.kind,
                    message: &self.message,
                    hint: &self.hint,
                },
            };
            print_json(&doc);
        }
        let mut err = std::io::stderr().lock();
        let _ = writeln!(err, "error: {}", self.message);
        if !self.hint.is_empty() {
            let _ = writeln!(err, "hint: {}", self.hint);
        }
        ExitCode::from(self.exit)
    }
}

impl From<StoreError> for Failure {
    fn from(e: StoreError) -> Failure {
        Failure {
            exit: EXIT_ERROR,
            kind: e.kind().to_owned(),
            message: e.to_string(),
            hint: e.hint(),
        }
    }
}

impl From<cloudops_cloud::accounts::AccountsError> for Failure {
    fn from(e: cloudops_cloud::accounts::AccountsError) -> Failure {
        let exit = match e {
            cloudops_cloud::accounts::AccountsError::Invalid { .. }
            | cloudops_cloud::accounts::AccountsError::Duplicate(_)
            | cloudops_cloud::accounts::AccountsError::Unknown(_) => EXIT_USAGE,
            _ => EXIT_ERROR,
        };
        Failure {
            exit,
            kind: e.kind().to_owned(),
            message: e.to_string(),
            hint: e.hint(),
        }
    }
}

impl From<anyhow::Error> for Failure {
    fn from(e: anyhow::Error) -> Failure {
        Failure {
            exit: EXIT_ERROR,
            kind: "error".into(),
            message: format!("{e:#}"),
            hint: String::new(),
        }
    }
}

pub fn print_json<T: Serialize>(doc: &T) {
    let mut out = std::io::stdout().lock();
    // A closed pipe (`| head`) is not worth a panic.
    if serde_json::to_writer_pretty(&mut out, doc).is_ok() {
        let _ = writeln!(out);
    }
}

/// "2 min ago" from a unix-seconds timestamp, for text output.
pub fn age(collected_at: i64, now: i64) -> String {
    let secs = (now - collected_at).max(0);
    match secs {
        0..=59 => "just now".into(),
        60..=3599 => format!("{} min ago", secs / 60),
        3600..=86_399 => format!("{} h ago", secs / 3600),
        _ => format!("{} d ago", secs / 86_400),
    }
}

#[cfg(test)]
mod tests {
    use super::age;

    #[test]
    fn ages_read_like_the_ui() {
        assert_eq!(age(1000, 1030), "just now");
        assert_eq!(age(1000, 1000 + 150), "2 min ago");
        assert_eq!(age(0, 3 * 3600 + 5), "3 h ago");
        assert_eq!(age(0, 2 * 86_400), "2 d ago");
        assert_eq!(
            age(100, 50),
            "just now",
            "clock skew never shows a negative age"
        );
    }
}
