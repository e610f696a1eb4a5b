//! `cloudops accounts add|list|remove|test` (BRIEF §7): references in
//! `accounts.toml`, secrets in the OS keyring, read from stdin and never
//! from argv (argv shows up in `ps` and in shell history).

use std::{io::Read, process::ExitCode};

use clap::{Args, Subcommand};
use cloudops_cloud::{
    accounts::{self, Account, AccountsFile},
    ambient::Shared,
    providers::gcp::BillingExport,
    resilience::CallPolicy,
    secrets::Secrets,
    sources,
};
use cloudops_core::{model::SourceError, ClusterSummary, Provider};
use secrecy::SecretString;
use serde::Serialize;

use super::Context;
use crate::output::{print_json, Failure, EXIT_ERROR, EXIT_PARTIAL};

#[derive(Debug, Subcommand)]
pub enum AccountsCommand {
    /// Register an account: references in accounts.toml, the secret in the keyring.
    Add(AddArgs),
    /// List the registered accounts (never their secrets).
    List,
    /// Remove an account and its keyring entry.
    Remove { name: String },
    /// Discover with one account: what it finds, or why it fails.
    Test { name: String },
}

#[derive(Debug, Args)]
pub struct AddArgs {
    /// aws, gcp, azure, do or kubeconfig.
    #[arg(value_parser = parse_provider)]
    provider: Provider,
    /// A unique name (letters, digits, '-', '_', '.').
    #[arg(long)]
    name: String,
    /// AWS: the profile in ~/.aws/config (SSO works through it).
    #[arg(long)]
    profile: Option<String>,
    /// GCP: a project to list (repeat for more).
    #[arg(long = "project")]
    projects: Vec<String>,
    /// Azure: a subscription id (repeat for more; default: all the token sees).
    #[arg(long = "subscription")]
    subscriptions: Vec<String>,
    /// AWS: regions to list, comma-separated.
    #[arg(long, value_delimiter = ',')]
    regions: Vec<String>,
    /// API endpoint override (https, or http to 127.0.0.1 only).
    #[arg(long)]
    endpoint: Option<String>,
    /// kubeconfig: the file to read.
    #[arg(long)]
    kubeconfig: Option<String>,
    /// GCP: read GKE cost from this Cloud Billing export table in BigQuery,
    /// PROJECT.DATASET.TABLE (needs roles/bigquery.dataViewer on the dataset
    /// and bigquery.jobs.create on the project); without it GKE cost is an
    /// estimate.
    #[arg(long)]
    billing_export: Option<String>,
    /// Read the secret (API token, ACCESS_KEY_ID:SECRET_ACCESS_KEY, OAuth
    /// token) from stdin and store it in the OS keyring.
    #[arg(long)]
    secret_stdin: bool,
    /// Replace an existing account with the same name.
    #[arg(long)]
    replace: bool,
}

fn parse_provider(s: &str) -> Result<Provider, String> {
    s.parse::<Provider>().map_err(|e| e.to_string())
}

#[derive(Serialize)]
struct ListDoc<'a> {
    accounts: &'a [Account],
}

#[derive(Serialize)]
struct TestDoc {
    account: String,
    provider: Provider,
    ok: bool,
    millis: u64,
    clusters: Vec<ClusterSummary>,
    errors: Vec<SourceError>,
}

pub fn run(ctx: &Context, command: AccountsCommand) -> Result<ExitCode, Failure> {
    let dir = cloudops_core::store::resolve_data_dir(ctx.data_dir.as_deref())?;
    let path = AccountsFile::path_in(&dir);
    match command {
        AccountsCommand::Add(args) => add(ctx, &path, args),
        AccountsCommand::List => {
            let file = AccountsFile::load(&path)?;
            if ctx.json {
                print_json(&ListDoc {
                    accounts: &file.accounts,
                });
            } else if file.accounts.is_empty() {
                println!(
                    "No accounts. Add one with `cloudops accounts add do --name NAME --secret-stdin`."
                );
            } else {
                for a in &file.accounts {
                    println!("{}", describe(a));
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        AccountsCommand::Remove { name } => {
            let removed = accounts::remove_account(&path, Secrets::open_os, &name)?;
            if ctx.json {
                print_json(&serde_json::json!({ "removed": removed.name }));
            } else {
                println!("Removed account {}.", removed.name);
            }
            Ok(ExitCode::SUCCESS)
        }
        AccountsCommand::Test { name } => test(ctx, &dir, &name),
    }
}

fn describe(a: &Account) -> String {
    let mut parts = vec![format!("{:<20} {:<10}", a.name, a.provider.badge())];
    if let Some(p) = &a.profile {
        parts.push(format!("profile={p}"));
    }
    if !a.regions.is_empty() {
        parts.push(format!("regions={}", a.regions.join(",")));
    }
    if !a.projects.is_empty() {
        parts.push(format!("projects={}", a.projects.join(",")));
    }
    if !a.subscriptions.is_empty() {
        parts.push(format!("subscriptions={}", a.subscriptions.join(",")));
    }
    if let Some(e) = &a.endpoint {
        parts.push(format!("endpoint={e}"));
    }
    if let Some(k) = &a.kubeconfig {
        parts.push(format!("kubeconfig={k}"));
    }
    if let Some(b) = &a.billing_export {
        parts.push(format!("billing_export={}", b.path()));
    }
    parts.push(if a.keyring {
        "secret: in keyring".into()
    } else {
        "secret: none (ambient login)".into()
    });
    parts.join("  ")
}

fn add(ctx: &Context, path: &std::path::Path, args: AddArgs) -> Result<ExitCode, Failure> {
    let billing_export = match args.billing_export.as_deref() {
        Some(table) => Some(BillingExport::parse(table).map_err(|e| {
            Failure::usage(
                "invalid_input",
                format!("--billing-export: {e}"),
                "give the export table as PROJECT.DATASET.TABLE, e.g. my-proj.billing.gcp_billing_export_v1_0123AB_4567CD_89EF01",
            )
        })?),
        None => None,
    };
    let account = Account {
        name: args.name,
        provider: args.provider,
        profile: args.profile,
        regions: args.regions,
        projects: args.projects,
        subscriptions: args.subscriptions,
        endpoint: args.endpoint,
        kubeconfig: args.kubeconfig,
        keyring: false,
        billing_export,
    };
    // Validate before asking for a secret or touching the keyring.
    account.validate()?;
    let secret = if args.secret_stdin {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(|e| anyhow::anyhow!("cannot read the secret from stdin: {e}"))?;
        let text = text.trim().to_owned();
        if text.is_empty() {
            return Err(Failure::usage(
                "invalid_input",
                "--secret-stdin was given but stdin was empty",
                "pipe the secret in, e.g. `printf %s \"$TOKEN\" | cloudops accounts add ...`",
            ));
        }
        Some(SecretString::from(text))
    } else {
        None
    };
    let saved = accounts::save_account(
        path,
        Secrets::open_os,
        account,
        secret.as_ref(),
        args.replace,
    )?;
    if ctx.json {
        print_json(&serde_json::json!({ "account": saved }));
    } else {
        println!("Saved account {}.", describe(&saved));
        println!("Try it: cloudops accounts test {}", saved.name);
    }
    Ok(ExitCode::SUCCESS)
}

fn test(ctx: &Context, dir: &std::path::Path, name: &str) -> Result<ExitCode, Failure> {
    let resolved = sources::load_account(dir, name, Secrets::open_os)?;
    let provider = resolved
        .first()
        .map(|r| r.account.provider)
        .ok_or_else(|| accounts::AccountsError::Unknown(name.to_owned()))?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| anyhow::anyhow!("cannot start the async runtime: {e}"))?;
    let probe = runtime.block_on(async {
        let shared = Shared::new(CallPolicy::default()).map_err(|e| Failure {
            exit: EXIT_ERROR,
            kind: e.kind().into(),
            message: e.to_string(),
            hint: e.hint(),
        })?;
        let env = |k: &str| std::env::var(k).ok();
        Ok::<_, Failure>(sources::probe(resolved, &env, &shared).await)
    })?;
    let doc = TestDoc {
        account: name.to_owned(),
        provider,
        ok: probe.ok(),
        millis: probe.millis,
        clusters: probe.clusters,
        errors: probe.errors,
    };
    if ctx.json {
        print_json(&doc);
    } else {
        println!(
            "{} ({}): {} cluster(s) in {} ms",
            doc.account,
            doc.provider.badge(),
            doc.clusters.len(),
            doc.millis
        );
        for c in &doc.clusters {
            println!("  {}  {}  {}", c.name, c.region, c.status);
        }
        for e in &doc.errors {
            eprintln!("error: {}", e.message);
            if !e.hint.is_empty() {
                eprintln!("hint: {}", e.hint);
            }
        }
    }
    Ok(match (doc.errors.is_empty(), doc.clusters.is_empty()) {
        (true, _) => ExitCode::SUCCESS,
        (false, false) => ExitCode::from(EXIT_PARTIAL),
        (false, true) => ExitCode::from(EXIT_ERROR),
    })
}
