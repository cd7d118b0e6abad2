//! The chaos run (`scripts/chaos`): one organisation of many destination accounts, `apply` of
//! the real binary under lost responses, 500s, throttling and a SIGKILL every few seconds,
//! repeated until it converges; then the result is checked and the run summarised.
//!
//! It starts the sandbox in-process, writes manifests that promote every version of one source
//! project to every destination account with `managePolicy`, and loops: start `reko-promote
//! apply`, kill it after a random 1–5 s unless it finished, and after a run that finished, ask
//! `plan` whether anything is left. Once nothing is, faults go off and the sandbox is read back
//! through the AWS SDK: every placement must hold one completed copy of its declared source
//! (duplicates and wrong sources counted), the managed policies must still grant every
//! placement, and the hand-written policy must be byte-identical (lost statements counted). The
//! exit code is 0 only when both counts are 0 and the run converged.
//!
//! What it does not do: decide anything the product decides. It knows what must be true by
//! construction (everything is declared, every copy is allowed by `managePolicy`).

#[path = "../tests/integration/oracle.rs"]
mod oracle;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use aws_config::{BehaviorVersion, Region};
use aws_credential_types::Credentials;
use clap::Parser;
use rand::Rng;
use reko_promote::sandbox::seed::{
    Seed, SeedAccount, SeedPolicy, SeedProject, SeedRole, SeedVersion,
};
use reko_promote::sandbox::state::VersionStatus;
use reko_promote::sandbox::{Faults, Sandbox, SandboxConfig, SandboxHandle};

const REGION: &str = "eu-west-1";
const CI_ID: &str = "444444444444";
const CI_KEY: &str = "AKIACHAOSCI000000001";
const CI_SECRET: &str = "chaosCiSecretKey0000000000000000000000001";
const SOURCE_ID: &str = "100000000000";
const PROJECT: &str = "model";
const HAND_POLICY: &str = "hand-written";
/// The operations apply calls, which the `--tps` quota applies to.
const REKOGNITION_OPERATIONS: [&str; 6] = [
    "DescribeProjects",
    "DescribeProjectVersions",
    "ListProjectPolicies",
    "PutProjectPolicy",
    "DeleteProjectPolicy",
    "CopyProjectVersion",
];

#[derive(Parser, Debug)]
#[command(about = "Apply under lost responses, 500s, throttling and SIGKILLs until it converges")]
struct Args {
    /// The reko-promote binary to run (build it with `cargo build --release`).
    #[arg(long, default_value = "target/release/reko-promote")]
    binary: PathBuf,
    /// Destination accounts.
    #[arg(long, default_value_t = 20)]
    accounts: usize,
    /// Source versions promoted to every destination.
    #[arg(long, default_value_t = 5)]
    versions: usize,
    /// Fraction of requests whose answer is lost after they took effect.
    #[arg(long, default_value_t = 0.10)]
    lost_response_rate: f64,
    /// Fraction of requests answered InternalServerError.
    #[arg(long, default_value_t = 0.10)]
    internal_error_rate: f64,
    /// Requests per second per account and operation.
    #[arg(long, default_value_t = 2.0)]
    tps: f64,
    /// How long a copy takes in the sandbox, in milliseconds.
    #[arg(long, default_value_t = 3_000)]
    copy_ms: u64,
    /// Kill a run after a random time between these bounds, in milliseconds.
    #[arg(long, default_value_t = 1_000)]
    kill_min_ms: u64,
    #[arg(long, default_value_t = 5_000)]
    kill_max_ms: u64,
    /// Give up after this many runs.
    #[arg(long, default_value_t = 60)]
    max_runs: usize,
}

fn dest_id(i: usize) -> String {
    format!("2000000000{i:02}")
}

fn dest_key(i: usize) -> (String, String) {
    (
        format!("AKIACHAOSD{i:010}"),
        format!("chaosDestSecretKey{i:022}"),
    )
}

fn version_name(v: usize) -> String {
    format!("model.v{v}")
}

fn seed(args: &Args) -> Seed {
    let mut accounts = vec![
        SeedAccount {
            id: CI_ID.into(),
            name: "ci".into(),
            user_name: None,
            access_key_id: CI_KEY.into(),
            secret_access_key: CI_SECRET.into(),
        },
        SeedAccount {
            id: SOURCE_ID.into(),
            name: "ml".into(),
            user_name: None,
            access_key_id: "AKIACHAOSML000000001".into(),
            secret_access_key: "chaosMlSecretKey0000000000000000000000001".into(),
        },
    ];
    let mut roles = vec![role(SOURCE_ID)];
    let mut projects = Vec::new();
    for i in 0..args.accounts {
        let (key, secret) = dest_key(i);
        accounts.push(SeedAccount {
            id: dest_id(i),
            name: format!("d{i}"),
            user_name: None,
            access_key_id: key,
            secret_access_key: secret,
        });
        roles.push(role(&dest_id(i)));
        projects.push(project(&dest_id(i), Vec::new(), Vec::new()));
    }
    let versions = (0..args.versions)
        .map(|v| SeedVersion {
            name: version_name(v),
            status: VersionStatus::TrainingCompleted,
            f1_score: Some(0.9),
            created: None,
            status_message: None,
            tags: BTreeMap::new(),
        })
        .collect();
    // A hand-written grant that must survive every run untouched.
    let hand = serde_json::json!({"Version": "2012-10-17", "Statement": [{
        "Sid": "PartnerAccess", "Effect": "Allow",
        "Principal": {"AWS": "arn:aws:iam::999999999999:root"},
        "Action": "rekognition:CopyProjectVersion",
        "Resource": format!("arn:aws:rekognition:{REGION}:{SOURCE_ID}:project/{PROJECT}/version/*")}]});
    projects.push(project(
        SOURCE_ID,
        versions,
        vec![SeedPolicy {
            name: HAND_POLICY.into(),
            document: serde_yaml::Value::String(hand.to_string()),
        }],
    ));
    Seed {
        region: REGION.into(),
        accounts,
        roles,
        projects,
        faults: Faults::default(),
    }
}

fn role(account: &str) -> SeedRole {
    SeedRole {
        arn: format!("arn:aws:iam::{account}:role/reko-promote"),
        trusted: vec![CI_ID.into()],
        external_id: None,
        max_session_duration: None,
    }
}

fn project(account: &str, versions: Vec<SeedVersion>, policies: Vec<SeedPolicy>) -> SeedProject {
    // Built from JSON so that fields this harness does not set keep their seed-file defaults.
    let mut project: SeedProject = serde_json::from_value(serde_json::json!({
        "account": account, "name": PROJECT,
    }))
    .expect("a minimal seed project");
    project.versions = versions;
    project.policies = policies;
    project
}

fn manifests(args: &Args) -> String {
    let mut text = format!(
        "apiVersion: reko-promote/v1\nkind: Account\nname: ml\naccountId: \"{SOURCE_ID}\"\n\
         roleArn: arn:aws:iam::{SOURCE_ID}:role/reko-promote\n"
    );
    for i in 0..args.accounts {
        let id = dest_id(i);
        text.push_str(&format!(
            "---\napiVersion: reko-promote/v1\nkind: Account\nname: d{i}\naccountId: \"{id}\"\n\
             roleArn: arn:aws:iam::{id}:role/reko-promote\n\
             defaults:\n  outputConfig: {{ s3Bucket: models-{id} }}\n"
        ));
    }
    text.push_str(&format!(
        "---\napiVersion: reko-promote/v1\nkind: Promotion\nname: chaos\nregion: {REGION}\n\
         source: {{ account: ml, project: {PROJECT}, managePolicy: true }}\nversions:\n"
    ));
    for v in 0..args.versions {
        text.push_str(&format!("  - version: {}\n", version_name(v)));
    }
    text.push_str("destinations:\n");
    for i in 0..args.accounts {
        text.push_str(&format!(
            "  d{i}: {{ account: d{i}, project: {PROJECT} }}\n"
        ));
    }
    text
}

struct Run {
    code: Option<i32>,
    killed: bool,
    stdout: String,
    stderr: String,
}

async fn run(
    binary: &Path,
    sb: &SandboxHandle,
    dir: &Path,
    args: &[&str],
    kill_after: Option<Duration>,
) -> Run {
    let mut cmd = tokio::process::Command::new(binary);
    cmd.args(args)
        .current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("AWS_ENDPOINT_URL", sb.endpoint())
        .env("AWS_ACCESS_KEY_ID", CI_KEY)
        .env("AWS_SECRET_ACCESS_KEY", CI_SECRET)
        .env("AWS_REGION", REGION)
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
        .env("NO_COLOR", "1")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true);
    let mut child = cmd.spawn().unwrap_or_else(|e| {
        eprintln!("chaos: cannot start {}: {e}", binary.display());
        std::process::exit(2);
    });
    let mut killed = false;
    if let Some(after) = kill_after
        && tokio::time::timeout(after, child.wait()).await.is_err()
    {
        let _ = child.start_kill();
        killed = true;
    }
    let out = child.wait_with_output().await.expect("the run's output");
    Run {
        code: out.status.code(),
        killed,
        stdout: String::from_utf8_lossy(&out.stdout).into(),
        stderr: String::from_utf8_lossy(&out.stderr).into(),
    }
}

/// Whether the plan (JSON) still has anything to do.
fn plan_has_changes(json: &str) -> Option<bool> {
    let plan: serde_json::Value = serde_json::from_str(json).ok()?;
    let summary = &plan["summary"];
    let n = |k: &str| summary[k].as_u64().unwrap_or(0);
    Some(n("copy") + n("inProgress") + n("policies") > 0)
}

async fn client(sb: &SandboxHandle, key: &str, secret: &str) -> aws_sdk_rekognition::Client {
    let config = aws_config::defaults(BehaviorVersion::latest())
        .endpoint_url(sb.endpoint())
        .region(Region::new(REGION))
        .credentials_provider(Credentials::new(key, secret, None, None, "chaos"))
        .load()
        .await;
    aws_sdk_rekognition::Client::new(&config)
}

#[derive(Default)]
struct Verdict {
    placements: usize,
    completed: usize,
    duplicates: usize,
    wrong_source: usize,
    missing: usize,
    lost_statements: usize,
}

async fn check(args: &Args, sb: &SandboxHandle) -> Verdict {
    let mut verdict = Verdict {
        placements: args.accounts * args.versions,
        ..Verdict::default()
    };
    let state = sb.state();
    let source = &state.rekognition[SOURCE_ID][REGION].projects[PROJECT];
    let source_arns: BTreeMap<String, String> = source
        .versions
        .values()
        .map(|v| (v.name.clone(), v.arn.clone()))
        .collect();
    let seeded_hand = sb
        .seed()
        .projects
        .iter()
        .find(|p| p.account == SOURCE_ID)
        .and_then(|p| p.policies.first())
        .and_then(|p| p.document.as_str().map(str::to_string))
        .unwrap_or_default();

    // Destinations, read back as each destination account.
    for i in 0..args.accounts {
        let (key, secret) = dest_key(i);
        let rek = client(sb, &key, &secret).await;
        let project_arn = state.rekognition[&dest_id(i)][REGION].projects[PROJECT]
            .arn
            .clone();
        let mut seen: BTreeMap<String, Vec<(String, Option<String>)>> = BTreeMap::new();
        let mut pages = rek
            .describe_project_versions()
            .project_arn(project_arn)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            for v in page
                .expect("describe versions")
                .project_version_descriptions()
            {
                let arn = v.project_version_arn().unwrap_or_default();
                let name = arn.split('/').nth(3).unwrap_or_default().to_string();
                seen.entry(name).or_default().push((
                    v.status()
                        .map(|s| s.as_str().to_string())
                        .unwrap_or_default(),
                    v.source_project_version_arn().map(str::to_string),
                ));
            }
        }
        for v in 0..args.versions {
            let name = version_name(v);
            match seen.get(&name).map(Vec::as_slice) {
                None | Some([]) => verdict.missing += 1,
                Some([(status, from)]) => {
                    if from.as_deref() != source_arns.get(&name).map(String::as_str) {
                        verdict.wrong_source += 1;
                    } else if status == "COPYING_COMPLETED" {
                        verdict.completed += 1;
                    }
                }
                Some(more) => verdict.duplicates += more.len() - 1,
            }
        }
        verdict.duplicates += seen
            .keys()
            .filter(|name| !source_arns.contains_key(*name))
            .count();
    }

    // Policies, read back as the source account.
    let rek = client(
        sb,
        "AKIACHAOSML000000001",
        "chaosMlSecretKey0000000000000000000000001",
    )
    .await;
    let policies = rek
        .list_project_policies()
        .project_arn(source.arn.clone())
        .send()
        .await
        .expect("list project policies");
    let mut managed = Vec::new();
    let mut hand_seen = false;
    for policy in policies.project_policies() {
        let document = policy.policy_document().unwrap_or_default();
        if policy.policy_name() == Some(HAND_POLICY) {
            hand_seen = true;
            if document != seeded_hand {
                verdict.lost_statements += 1;
            }
        } else {
            managed.push(document);
        }
    }
    let arns: Vec<String> = source_arns.values().cloned().collect();
    let granted = oracle::granted_pairs(&managed, &arns).unwrap_or_else(|e| {
        eprintln!("chaos: {e}");
        BTreeSet::new()
    });
    if !hand_seen {
        verdict.lost_statements += 1;
    }
    for i in 0..args.accounts {
        for arn in source_arns.values() {
            if !granted.contains(&(dest_id(i), arn.clone())) {
                verdict.lost_statements += 1;
            }
        }
    }
    verdict
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    let started = Instant::now();
    let sb = Sandbox::start(SandboxConfig {
        seed: seed(&args),
        ..SandboxConfig::default()
    })
    .await
    .expect("the sandbox starts");
    let mut faults = sb.faults();
    faults.copy_duration_ms = args.copy_ms;
    faults
        .lost_response
        .insert("*".into(), args.lost_response_rate);
    faults
        .internal_error_rate
        .insert("*".into(), args.internal_error_rate);
    // The quota is Rekognition's (per account and operation); STS's are far higher in AWS, and
    // every AssumeRole comes from the one CI account.
    for operation in REKOGNITION_OPERATIONS {
        faults.tps.insert(operation.to_string(), args.tps);
    }
    sb.set_faults(faults).expect("valid faults");

    let dir = tempfile::tempdir().expect("a temporary directory");
    std::fs::write(dir.path().join("chaos.yaml"), manifests(&args)).expect("manifests written");
    let manifests = dir.path().display().to_string();
    let binary = std::fs::canonicalize(&args.binary).unwrap_or(args.binary.clone());
    println!(
        "chaos: {} accounts × {} versions = {} copies; lost responses {:.0}%, 500s {:.0}%, {} TPS per account and operation, copies {} ms, SIGKILL after {}–{} ms",
        args.accounts,
        args.versions,
        args.accounts * args.versions,
        args.lost_response_rate * 100.0,
        args.internal_error_rate * 100.0,
        args.tps,
        args.copy_ms,
        args.kill_min_ms,
        args.kill_max_ms
    );

    // The client-side limit a user sets to the account's quota (reko-promote's own default is 8).
    let rate_limit = (args.tps.ceil() as u32).max(1).to_string();
    let mut runs = 0;
    let mut kills = 0;
    let mut converged_after = None;
    while runs < args.max_runs {
        runs += 1;
        let kill_after = Duration::from_millis(
            rand::rng().random_range(args.kill_min_ms..=args.kill_max_ms.max(args.kill_min_ms)),
        );
        let out = run(
            &binary,
            &sb,
            dir.path(),
            &[
                "apply",
                "--auto-approve",
                "--rate-limit",
                rate_limit.as_str(),
                manifests.as_str(),
            ],
            Some(kill_after),
        )
        .await;
        if out.killed {
            kills += 1;
            println!("run {runs}: killed after {} ms", kill_after.as_millis());
            continue;
        }
        println!("run {runs}: exited {:?}", out.code);
        if !matches!(out.code, Some(0 | 1)) {
            eprintln!("{}\n{}", out.stdout, out.stderr);
        }
        let plan = run(
            &binary,
            &sb,
            dir.path(),
            &[
                "plan",
                "--format",
                "json",
                "--rate-limit",
                rate_limit.as_str(),
                manifests.as_str(),
            ],
            None,
        )
        .await;
        match plan_has_changes(&plan.stdout) {
            Some(false) if out.code == Some(0) => {
                converged_after = Some(started.elapsed());
                break;
            }
            Some(_) => {}
            None => eprintln!(
                "plan gave no JSON ({:?}): {}",
                plan.code,
                plan.stderr.trim()
            ),
        }
    }
    let injected = sb.injected_faults();

    let mut calm = sb.faults();
    calm.lost_response.clear();
    calm.internal_error_rate.clear();
    calm.tps.clear();
    sb.set_faults(calm).expect("valid faults");
    let verdict = check(&args, &sb).await;

    println!();
    println!("runs                 {runs}");
    println!("kills                {kills}");
    println!("lost responses       {}", injected.lost_responses);
    println!("500s                 {}", injected.internal_errors);
    println!("throttled            {}", injected.throttled);
    println!("API calls            {}", sb.total_calls());
    println!(
        "placements           {} ({} completed, {} missing, {} from a wrong source)",
        verdict.placements, verdict.completed, verdict.missing, verdict.wrong_source
    );
    println!("duplicates           {}", verdict.duplicates);
    println!("lost statements      {}", verdict.lost_statements);
    match converged_after {
        Some(t) => println!("time to converge     {:.1} s", t.as_secs_f64()),
        None => println!("time to converge     not within {} runs", args.max_runs),
    }
    let ok = converged_after.is_some()
        && verdict.duplicates == 0
        && verdict.lost_statements == 0
        && verdict.wrong_source == 0
        && verdict.completed == verdict.placements;
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
