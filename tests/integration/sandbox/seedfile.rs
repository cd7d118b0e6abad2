//! The example seed file loads, starts, and means what docs/sandbox.md says.

use std::path::Path;

use reko_promote::sandbox::{SandboxArgs, Seed};

use super::helpers::*;

#[tokio::test]
async fn example_seed_file_starts_a_working_sandbox() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/sandbox-seed.yaml");
    let seed = Seed::from_file(&path).expect("example seed is valid");
    assert_eq!(seed.accounts.len(), 3);
    let args = SandboxArgs {
        listen: "127.0.0.1:0".parse().unwrap(),
        seed: Some(path),
        latency_ms: Some(0),
        ..SandboxArgs::default()
    };
    let config = args.to_config().unwrap();
    let sb = start_with(config).await;
    let ml = rek(&sb, "ml").await;
    let out = ml
        .describe_project_versions()
        .project_arn("arn:aws:rekognition:eu-west-1:111111111111:project/detector/1788220800000")
        .send()
        .await
        .unwrap();
    assert_eq!(out.project_version_descriptions().len(), 2);
    let me = sts(&sb, "ml")
        .await
        .get_caller_identity()
        .send()
        .await
        .unwrap();
    assert_eq!(
        me.arn(),
        Some("arn:aws:iam::111111111111:user/model-trainer")
    );
}

#[test]
fn bad_seeds_are_refused_with_a_reason() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("seed.yaml");
    for (text, needle) in [
        (
            "accounts: [{id: '12', name: a, access_key_id: AKIAAAAAAAAAAAAAAAAA, secret_access_key: s}]",
            "12 digits",
        ),
        (
            "projects: [{account: '111111111111', name: p}]",
            "not in `accounts`",
        ),
        ("bogus: 1", "unknown field"),
        ("faults: {copy_failure_rate: 2}", "between 0 and 1"),
    ] {
        std::fs::write(&path, text).unwrap();
        let err = Seed::from_file(&path)
            .map(|_| ())
            .and_then(|_| {
                SandboxArgs {
                    seed: Some(path.clone()),
                    ..SandboxArgs::default()
                }
                .to_config()
                .map(|_| ())
                .map_err(|e| reko_promote::sandbox::seed::SeedError::Invalid(e.to_string()))
            })
            .unwrap_err();
        assert!(err.to_string().contains(needle), "{text}: {err}");
    }
}

#[derive(clap::Parser)]
struct Cli {
    #[command(flatten)]
    sandbox: SandboxArgs,
}

#[tokio::test]
async fn command_line_flags_and_banner() {
    use clap::Parser;
    let defaults = Cli::parse_from(["sandbox"]).sandbox;
    assert_eq!(defaults.listen.to_string(), "127.0.0.1:4566");
    let cli = Cli::parse_from([
        "sandbox",
        "--listen",
        "127.0.0.1:0",
        "--latency-ms",
        "5",
        "--tps",
        "50",
        "--internal-error-rate",
        "0.5",
        "--copy-duration-ms",
        "0",
        "--fail-copy",
        "broken-.*",
        "--fail-copy",
        "exact",
    ])
    .sandbox;
    let config = cli.to_config().unwrap();
    let f = config.faults.clone().unwrap();
    assert_eq!(f.latency["*"].ms, 5);
    assert_eq!(f.tps["*"], 50.0);
    assert_eq!(f.internal_error_rate["*"], 0.5);
    assert_eq!(f.copy_duration_ms, 0);
    assert_eq!(f.copy_fail_versions, ["broken-.*", "exact"]);

    let t = std::time::Instant::now();
    let sb = start_with(config).await;
    let started = t.elapsed();
    assert!(started < std::time::Duration::from_secs(1), "{started:?}");
    let banner = reko_promote::sandbox::args::banner(&sb, "eu-west-1");
    for line in [
        format!("export AWS_ENDPOINT_URL={}", sb.endpoint()),
        "export AWS_ACCESS_KEY_ID=AKIASANDBOXCI0000001".to_string(),
        "export AWS_SECRET_ACCESS_KEY=sandboxCiSecretKey0000000000000000000001".to_string(),
        "export AWS_REGION=eu-west-1".to_string(),
    ] {
        assert!(
            banner.lines().any(|l| l == line),
            "missing `{line}` in:\n{banner}"
        );
    }
    assert!(banner.contains("AKIASANDBOXML0000001"));
    assert!(banner.contains("ExternalId reko-promote-prod"));
}
