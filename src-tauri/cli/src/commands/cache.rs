use std::path::PathBuf;
use std::process::ExitCode;

use clap::Subcommand;
use cloudops_core::store::{resolve_data_dir, restore as restore_cache, BackupError};

use super::Context;
use crate::output::{print_json, Failure, EXIT_ERROR, EXIT_USAGE};

#[derive(Debug, Subcommand)]
pub enum CacheCommand {
    /// Integrity check, schema version and size of the cache.
    Check,
    /// Copy the cache to FILE (online: the app may keep running) and write
    /// FILE.sha256 next to it.
    Backup {
        /// Where to write the backup.
        file: PathBuf,
        /// Replace FILE if it exists.
        #[arg(long)]
        force: bool,
    },
    /// Replace the cache with a backup, after checking FILE.sha256 and the
    /// backup's integrity (nothing changes if either fails).
    Restore {
        /// A backup made by `cloudops cache backup`, with FILE.sha256 beside it.
        file: PathBuf,
    },
    /// Compact the cache file (reclaims space after retention pruned data).
    Vacuum,
}

pub fn run(ctx: &Context, command: CacheCommand) -> Result<ExitCode, Failure> {
    match command {
        CacheCommand::Check => check(ctx),
        CacheCommand::Backup { file, force } => backup(ctx, &file, force),
        CacheCommand::Restore { file } => restore(ctx, &file),
        CacheCommand::Vacuum => vacuum(ctx),
    }
}

impl From<BackupError> for Failure {
    fn from(e: BackupError) -> Failure {
        let exit = match e {
            BackupError::Exists { .. } => EXIT_USAGE,
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

fn backup(ctx: &Context, file: &std::path::Path, force: bool) -> Result<ExitCode, Failure> {
    let store = ctx.open_store()?;
    let report = store.backup_to(file, force)?;
    if ctx.json {
        print_json(&report);
    } else {
        println!("backup:   {} ({} bytes)", report.path, report.size_bytes);
        println!(
            "checksum: {} (sha256 {})",
            report.checksum_path, report.sha256
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn restore(ctx: &Context, file: &std::path::Path) -> Result<ExitCode, Failure> {
    let dir = resolve_data_dir(ctx.data_dir.as_deref())?;
    let report = restore_cache(&dir, file)?;
    if ctx.json {
        print_json(&report);
    } else {
        println!(
            "restored {} into {} (sha256 verified, schema v{}, {} bytes)",
            report.restored_from, report.cache_path, report.schema_version, report.size_bytes
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn vacuum(ctx: &Context) -> Result<ExitCode, Failure> {
    let store = ctx.open_store()?;
    let report = store.vacuum()?;
    if ctx.json {
        print_json(&report);
    } else {
        println!(
            "vacuumed {}: {} -> {} bytes",
            report.path, report.size_before, report.size_after
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn check(ctx: &Context) -> Result<ExitCode, Failure> {
    let store = ctx.open_store()?;
    let report = store.check()?;
    if ctx.json {
        print_json(&report);
    } else {
        println!("cache:      {}", report.path);
        println!(
            "schema:     v{} (this build supports up to v{})",
            report.schema_version, report.supported_schema_version
        );
        println!("size:       {} bytes", report.size_bytes);
        println!("journal:    {}", report.journal_mode);
        if report.ok {
            println!("integrity:  ok");
        } else {
            println!("integrity:  FAILED");
            for finding in &report.integrity {
                println!("  {finding}");
            }
            println!(
                "Restore a backup with `cloudops cache restore FILE`, or move the file aside."
            );
        }
    }
    Ok(if report.ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_ERROR)
    })
}
