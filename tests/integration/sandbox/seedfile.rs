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
