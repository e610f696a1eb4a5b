use std::process::ExitCode;

use clap::Subcommand;

use super::Context;
use crate::output::{print_json, Failure, EXIT_ERROR};

#[derive(Debug, Subcommand)]
pub enum CacheCommand {
    /// Integrity check, schema version and size of the cache.
    Check,
}

pub fn run(ctx: &Context, command: CacheCommand) -> Result<ExitCode, Failure> {
    match command {
        CacheCommand::Check => check(ctx),
    }
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
