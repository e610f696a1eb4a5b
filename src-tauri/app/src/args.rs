//! The desktop binary's few flags. tauri-driver passes them through for the
//! e2e tests; a full parser (clap) is not worth its weight here.

use std::ffi::OsString;
use std::path::PathBuf;

#[derive(Debug, Default, PartialEq, Eq)]
pub struct DesktopArgs {
    pub data_dir: Option<PathBuf>,
    /// Open on the built-in sandbox even when accounts are configured.
    pub sandbox: bool,
    /// Show the cache only; no discovery, no network.
    pub offline: bool,
}

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum ArgsError {
    #[error("--data-dir needs a directory, e.g. --data-dir ~/cloudops-cache")]
    MissingDataDir,
    #[error(
        "unknown argument {0:?}; the desktop app accepts --data-dir DIR, --sandbox and --offline"
    )]
    Unknown(String),
    #[error("--sandbox and --offline exclude each other")]
    Conflict,
}

/// Parses the arguments after the program name.
pub fn parse(args: impl IntoIterator<Item = OsString>) -> Result<DesktopArgs, ArgsError> {
    let mut parsed = DesktopArgs::default();
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        let text = arg.to_string_lossy();
        if text == "--data-dir" {
            let dir = args
                .next()
                .filter(|d| !d.is_empty())
                .ok_or(ArgsError::MissingDataDir)?;
            parsed.data_dir = Some(PathBuf::from(dir));
        } else if let Some(dir) = text.strip_prefix("--data-dir=") {
            if dir.is_empty() {
                return Err(ArgsError::MissingDataDir);
            }
            parsed.data_dir = Some(PathBuf::from(dir));
        } else if text == "--sandbox" {
            parsed.sandbox = true;
        } else if text == "--offline" {
            parsed.offline = true;
        } else {
            return Err(ArgsError::Unknown(text.into_owned()));
        }
    }
    if parsed.sandbox && parsed.offline {
        return Err(ArgsError::Conflict);
    }
    Ok(parsed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn os(args: &[&str]) -> Vec<OsString> {
        args.iter().map(OsString::from).collect()
    }

    #[test]
    fn parses_both_spellings_of_data_dir() {
        assert_eq!(
            parse(os(&["--data-dir", "/tmp/a"])).unwrap().data_dir,
            Some(PathBuf::from("/tmp/a"))
        );
        assert_eq!(
            parse(os(&["--data-dir=/tmp/b"])).unwrap().data_dir,
            Some(PathBuf::from("/tmp/b"))
        );
        assert_eq!(parse(os(&[])).unwrap(), DesktopArgs::default());
    }

    #[test]
    fn mode_flags_parse_and_exclude_each_other() {
        assert!(parse(os(&["--sandbox"])).unwrap().sandbox);
        assert!(
            parse(os(&["--offline", "--data-dir", "/x"]))
                .unwrap()
                .offline
        );
        assert_eq!(
            parse(os(&["--sandbox", "--offline"])),
            Err(ArgsError::Conflict)
        );
    }

    #[test]
    fn rejects_missing_values_and_unknown_flags() {
        assert_eq!(parse(os(&["--data-dir"])), Err(ArgsError::MissingDataDir));
        assert_eq!(parse(os(&["--data-dir="])), Err(ArgsError::MissingDataDir));
        assert_eq!(
            parse(os(&["--verbose"])),
            Err(ArgsError::Unknown("--verbose".into()))
        );
    }
}
