//! The Azure CLI credential (issue 4) through the real azure_identity code:
//! a fake `az` written into a temporary directory and put first on the
//! `PATH` that `var` gives the child. Nothing touches the process
//! environment, so these tests run in parallel with everything else.
#![cfg(unix)]

use std::{
    collections::HashMap,
    os::unix::fs::PermissionsExt,
    path::Path,
    time::{Duration, SystemTime},
};

use cloudops_cloud::{
    azure_credential::{ArmCredential, CredentialKind, AKS_SCOPE, ARM_SCOPE},
    providers::TokenSource,
    ProviderError,
};

/// A directory holding an `az` script with `body`, and the variables that
/// make it the `az` the credential runs.
struct FakeAz {
    dir: tempfile::TempDir,
}

impl FakeAz {
    fn new(body: &str) -> FakeAz {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("az");
        // Records its arguments and the config dir it was given, next to
        // itself, then does what the test asks.
        let script = format!(
            "#!/bin/sh\nprintf '%s\\n' \"$@\" > \"${{0%/*}}/args\"\nprintf '%s' \"$AZURE_CONFIG_DIR\" > \"${{0%/*}}/config_dir\"\n{body}\n"
        );
        std::fs::write(&path, script).expect("write az");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        FakeAz { dir }
    }

    fn vars(&self) -> HashMap<String, String> {
        HashMap::from([
            (
                "PATH".to_string(),
                // The fake first; /usr/bin:/bin for the tools the script uses.
                format!("{}:/usr/bin:/bin", self.dir.path().display()),
            ),
            (
                "AZURE_CONFIG_DIR".to_string(),
                self.dir.path().join("azure").display().to_string(),
            ),
        ])
    }

    fn credential(&self, tenant: Option<&str>) -> ArmCredential {
        let vars = self.vars();
        ArmCredential::azure_cli(&|k: &str| vars.get(k).cloned(), tenant).expect("credential")
    }

    fn args(&self) -> Vec<String> {
        read(&self.dir.path().join("args"))
            .lines()
            .map(str::to_string)
            .collect()
    }
}

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// `az account get-access-token -o json` as Azure CLI 2.54+ prints it.
const TOKEN_REPLY: &str = r#"cat <<'EOF'
{
  "accessToken": "eyJ0eXAi.fake.cli",
  "expiresOn": "2100-01-01 00:00:00.000000",
  "expires_on": 4102444800,
  "subscription": "00000000-0000-0000-0000-000000000000",
  "tenant": "72f988bf-86f1-41af-91ab-2d7cd011db47",
  "tokenType": "Bearer"
}
EOF"#;

#[tokio::test]
async fn az_login_mints_arm_and_aks_tokens_for_the_scope_asked_for() {
    let az = FakeAz::new(TOKEN_REPLY);
    let cred = az.credential(None);
    assert_eq!(cred.kind(), &CredentialKind::AzureCli);

    let token = cred.arm().token().await.expect("ARM token");
    assert_eq!(token.secret(), "eyJ0eXAi.fake.cli");
    assert_eq!(
        token.expires_at,
        Some(SystemTime::UNIX_EPOCH + Duration::from_secs(4_102_444_800))
    );
    let args = az.args();
    assert_eq!(
        args,
        [
            "account",
            "get-access-token",
            "-o",
            "json",
            "--scope",
            ARM_SCOPE
        ]
    );
    // The child got AZURE_CONFIG_DIR from `var`, not from our process.
    assert_eq!(
        read(&az.dir.path().join("config_dir")),
        az.dir.path().join("azure").display().to_string()
    );

    cred.aks().token().await.expect("AKS token");
    assert_eq!(az.args().last().map(String::as_str), Some(AKS_SCOPE));
    assert_eq!(
        AKS_SCOPE, "6dae42f8-4368-4678-94ff-3960e28e3630/.default",
        "the AKS server app id is fixed by Azure"
    );
}

#[tokio::test]
async fn a_tenant_is_passed_to_az() {
    let az = FakeAz::new(TOKEN_REPLY);
    az.credential(Some("72f988bf-86f1-41af-91ab-2d7cd011db47"))
        .arm()
        .token()
        .await
        .expect("token");
    let args = az.args();
    let at = args.iter().position(|a| a == "--tenant").expect("--tenant");
    assert_eq!(args[at + 1], "72f988bf-86f1-41af-91ab-2d7cd011db47");
}

#[tokio::test]
async fn not_logged_in_is_unauthorized_with_an_az_login_hint() {
    let az = FakeAz::new("echo \"ERROR: Please run 'az login' to setup account.\" >&2\nexit 1");
    let err = az.credential(None).arm().token().await.unwrap_err();
    match &err {
        ProviderError::Unauthorized { message, .. } => {
            assert!(message.contains("Please run 'az login'"), "{message}");
        }
        other => panic!("expected Unauthorized, got {other:?}"),
    }
    assert!(!err.is_transient());
    assert!(err.hint().contains("`az login`"), "{}", err.hint());
}

#[tokio::test]
async fn no_az_on_path_is_a_config_error_saying_to_install_it() {
    let empty = tempfile::tempdir().expect("temp dir");
    let path = empty.path().display().to_string();
    let cred = ArmCredential::azure_cli(&|k: &str| (k == "PATH").then(|| path.clone()), None)
        .expect("credential");
    let err = cred.arm().token().await.unwrap_err();
    assert_eq!(err.kind(), "config", "{err:?}");
    let text = err.to_string();
    assert!(text.contains("not installed or not on PATH"), "{text}");
    assert!(text.contains("az login"), "{text}");
}

#[tokio::test]
async fn output_that_is_not_a_token_reply_is_never_echoed() {
    let az = FakeAz::new("echo 'eyJ.secret.token but no JSON'");
    let err = az.credential(None).arm().token().await.unwrap_err();
    assert_eq!(err.kind(), "credential_plugin", "{err:?}");
    let all = format!("{err} {err:?} {}", err.hint());
    assert!(!all.contains("eyJ.secret"), "{all}");
}

#[tokio::test]
async fn a_hung_az_times_out() {
    let az = FakeAz::new("exec sleep 30");
    let vars = az.vars();
    let cred = ArmCredential::azure_cli_with_timeout(
        &|k: &str| vars.get(k).cloned(),
        None,
        Duration::from_millis(300),
    )
    .expect("credential");
    let started = std::time::Instant::now();
    let err = cred.arm().token().await.unwrap_err();
    assert_eq!(err.kind(), "timeout", "{err:?}");
    assert!(err.is_transient());
    assert!(started.elapsed() < Duration::from_secs(10));
}

/// The ambient environment with an Azure CLI login and no static token:
/// the AKS provider mints its ARM token through `az` and discovers the
/// sandbox's AKS clusters (BRIEF §4: "the az CLI login works with no
/// re-entry").
#[tokio::test]
async fn an_az_login_alone_discovers_aks_clusters() {
    use cloudops_cloud::{
        ambient::{self, Shared},
        discovery::{discover_all, Limits},
        resilience::CallPolicy,
    };
    use cloudops_core::model::Provider as ProviderKind;
    use cloudops_sandbox::{Cloud, Sandbox, World};

    let world = World::default();
    let sandbox = Sandbox::start("127.0.0.1:0".parse().unwrap(), world.clone()).unwrap();
    let sandbox_vars = sandbox.env_map();
    let reply = TOKEN_REPLY.replace(
        "eyJ0eXAi.fake.cli",
        &sandbox_vars["CLOUDOPS_AZURE_ACCESS_TOKEN"],
    );
    let az = FakeAz::new(&reply);
    // An az profile exists, as after `az login`.
    let config_dir = az.dir.path().join("azure");
    std::fs::create_dir_all(&config_dir).unwrap();
    std::fs::write(config_dir.join("azureProfile.json"), "{}").unwrap();
    let mut vars = az.vars();
    vars.insert(
        "CLOUDOPS_ARM_ENDPOINT".into(),
        sandbox_vars["CLOUDOPS_ARM_ENDPOINT"].clone(),
    );
    let lookup = |k: &str| vars.get(k).cloned();
    assert!(ambient::configured(&lookup));

    let shared = Shared::new(CallPolicy::default()).unwrap();
    let found = ambient::from_env(&lookup, &shared).await;
    assert!(found.errors.is_empty(), "{:?}", found.errors);
    assert_eq!(found.providers.len(), 1);
    assert_eq!(found.providers[0].kind(), ProviderKind::Azure);
    let report = discover_all(&found.providers, &Limits::default(), |_| {}).await;
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    let expected = world.read().clusters_of(Cloud::Azure).count();
    assert!(expected > 0);
    assert_eq!(report.clusters.len(), expected);
    // The token came from az, for the endpoint's own ARM audience.
    let args = az.args();
    let scope = args
        .iter()
        .skip_while(|a| *a != "--scope")
        .nth(1)
        .unwrap_or_else(|| panic!("no --scope in {args:?}"));
    assert_eq!(
        scope,
        &cloudops_cloud::azure_credential::arm_scope_for(Some(
            &sandbox_vars["CLOUDOPS_ARM_ENDPOINT"]
        ))
    );
}
