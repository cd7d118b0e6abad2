//! AWS CLI conformance: the real `aws` command (botocore, a second independent client with its own
//! SigV4 signer, JSON/XML parsers and paginators) against the sandbox, for every implemented
//! operation and a few error cases.
//!
//! The CLI is found through `REKO_PROMOTE_AWS_CLI`, else `target/awscli-venv/bin/aws`; when neither
//! exists the test creates that venv (`python3 -m venv` + `pip install awscli`), so a fresh machine
//! with python3 and PyPI access needs nothing else.

use std::path::PathBuf;
use std::process::Stdio;
use std::sync::Mutex;

use reko_promote::sandbox::seed::{self, ML_ACCOUNT, STAGING_ACCOUNT};
use reko_promote::sandbox::{Faults, SandboxConfig};
use serde_json::Value;

use super::helpers::*;

static INSTALL: Mutex<()> = Mutex::new(());

fn aws_cli() -> PathBuf {
    if let Ok(p) = std::env::var("REKO_PROMOTE_AWS_CLI") {
        return PathBuf::from(p);
    }
    let _guard = INSTALL.lock().unwrap_or_else(|e| e.into_inner());
    let venv = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/awscli-venv");
    let aws = venv.join("bin/aws");
    if aws.exists() {
        return aws;
    }
    let run = |cmd: &mut std::process::Command| {
        let out = cmd
            .output()
            .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
        assert!(
            out.status.success(),
            "{cmd:?} failed:\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    };
    run(std::process::Command::new("python3")
        .args(["-m", "venv"])
        .arg(&venv));
    run(std::process::Command::new(venv.join("bin/pip")).args(["install", "-q", "awscli"]));
    assert!(
        aws.exists(),
        "pip installed awscli but {} is missing",
        aws.display()
    );
    aws
}

struct Cli {
    aws: PathBuf,
    endpoint: String,
    key: String,
    secret: String,
    token: Option<String>,
}

/// The outcome of one CLI run: parsed stdout, or the error code from stderr.
enum Outcome {
    Ok(Value),
    Err(String, String),
}

impl Outcome {
    #[track_caller]
    fn ok(self) -> Value {
        match self {
            Outcome::Ok(v) => v,
            Outcome::Err(code, stderr) => panic!("aws failed with {code}: {stderr}"),
        }
    }
    #[track_caller]
    fn err(self) -> String {
        match self {
            Outcome::Ok(v) => panic!("aws succeeded but an error was expected: {v}"),
            Outcome::Err(code, _) => code,
        }
    }
}

impl Cli {
    async fn run(&self, args: &[&str]) -> Outcome {
        let mut cmd = tokio::process::Command::new(&self.aws);
        cmd.arg("--endpoint-url")
            .arg(&self.endpoint)
            .args(["--output", "json"])
            .args(args)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("HOME", std::env::temp_dir())
            .env("AWS_ACCESS_KEY_ID", &self.key)
            .env("AWS_SECRET_ACCESS_KEY", &self.secret)
            .env("AWS_DEFAULT_REGION", seed::DEFAULT_REGION)
            .env("AWS_CONFIG_FILE", "/dev/null")
            .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("AWS_MAX_ATTEMPTS", "1")
            .env("AWS_PAGER", "")
            .stdin(Stdio::null());
        if let Some(t) = &self.token {
            cmd.env("AWS_SESSION_TOKEN", t);
        }
        let out = cmd.output().await.expect("run aws");
        let stdout = String::from_utf8_lossy(&out.stdout).to_string();
        let stderr = String::from_utf8_lossy(&out.stderr).to_string();
        if out.status.success() {
            let v = if stdout.trim().is_empty() {
                Value::Null
            } else {
                serde_json::from_str(&stdout)
                    .unwrap_or_else(|e| panic!("aws {args:?}: not JSON ({e}): {stdout}"))
            };
            Outcome::Ok(v)
        } else {
            let code = stderr
                .split("An error occurred (")
                .nth(1)
                .and_then(|s| s.split(')').next())
                .unwrap_or("<no code>")
                .to_string();
            Outcome::Err(code, stderr)
        }
    }
}

#[tokio::test]
async fn aws_cli_drives_every_operation() {
    let aws = tokio::task::spawn_blocking(aws_cli).await.unwrap();
    let sb = start_with(SandboxConfig {
        faults: Some(Faults {
            copy_duration_ms: 0,
            training_duration_ms: 0,
            hosting_transition_ms: 0,
            ..Faults::default()
        }),
        ..SandboxConfig::default()
    })
    .await;
    let as_account = |name: &str| {
        let (key, secret) = sb.credentials(name).unwrap();
        Cli {
            aws: aws.clone(),
            endpoint: sb.endpoint(),
            key,
            secret,
            token: None,
        }
    };
    let ci = as_account("ci");
    let ml = as_account("ml");

    // STS.
    let me = ci.run(&["sts", "get-caller-identity"]).await.ok();
    assert_eq!(me["Account"], "444444444444");
    assert_eq!(me["Arn"], "arn:aws:iam::444444444444:user/ci");
    let role = seed::role_arn(STAGING_ACCOUNT);
    let assumed = ci
        .run(&[
            "sts",
            "assume-role",
            "--role-arn",
            &role,
            "--role-session-name",
            "cli-session",
        ])
        .await
        .ok();
    let creds = &assumed["Credentials"];
    assert!(
        creds["Expiration"].as_str().unwrap().starts_with("20"),
        "{creds}"
    );
    let staging = Cli {
        aws: aws.clone(),
        endpoint: sb.endpoint(),
        key: creds["AccessKeyId"].as_str().unwrap().into(),
        secret: creds["SecretAccessKey"].as_str().unwrap().into(),
        token: Some(creds["SessionToken"].as_str().unwrap().into()),
    };
    let me = staging.run(&["sts", "get-caller-identity"]).await.ok();
    assert_eq!(
        me["Arn"],
        "arn:aws:sts::222222222222:assumed-role/reko-promote/cli-session"
    );
    let prod = seed::role_arn(seed::PROD_ACCOUNT);
    let e = ci
        .run(&[
            "sts",
            "assume-role",
            "--role-arn",
            &prod,
            "--role-session-name",
            "s1",
        ])
        .await
        .err();
    assert_eq!(e, "AccessDenied");
    let ok = ci
        .run(&[
            "sts",
            "assume-role",
            "--role-arn",
            &prod,
            "--role-session-name",
            "s1",
            "--external-id",
            seed::PROD_EXTERNAL_ID,
        ])
        .await
        .ok();
    assert!(
        ok["Credentials"]["AccessKeyId"]
            .as_str()
            .unwrap()
            .starts_with("ASIA")
    );

    // Describe, with the CLI's own pagination over NextToken.
    let projects = ml.run(&["rekognition", "describe-projects"]).await.ok();
    assert_eq!(projects["ProjectDescriptions"].as_array().unwrap().len(), 2);
    let ts = &projects["ProjectDescriptions"][0]["CreationTimestamp"];
    // CLI v1 prints wire timestamps as received: epoch seconds (2026-10-01T00:00:00Z).
    assert_eq!(ts.as_f64(), Some(1_790_812_800.0), "{ts}");
    let dd = seed::default_project_arn(ML_ACCOUNT, seed::DEFECT_DETECTOR);
    let versions = ml
        .run(&[
            "rekognition",
            "describe-project-versions",
            "--project-arn",
            &dd,
            "--page-size",
            "1",
        ])
        .await
        .ok();
    let v = versions["ProjectVersionDescriptions"].as_array().unwrap();
    assert_eq!(v.len(), 3);
    assert_eq!(v[1]["EvaluationResult"]["F1Score"], 0.947);
    assert_eq!(sb.calls_of("DescribeProjectVersions"), 3);
    let filtered = ml
        .run(&[
            "rekognition",
            "describe-project-versions",
            "--project-arn",
            &dd,
            "--version-names",
            seed::DEFECT_V1,
        ])
        .await
        .ok();
    assert_eq!(
        filtered["ProjectVersionDescriptions"][0]["Status"],
        "TRAINING_COMPLETED"
    );

    // Create, train, host, tag, delete.
    let p = ml
        .run(&[
            "rekognition",
            "create-project",
            "--project-name",
            "cli-project",
        ])
        .await
        .ok();
    let parn = p["ProjectArn"].as_str().unwrap().to_string();
    let v = ml
        .run(&[
            "rekognition",
            "create-project-version",
            "--project-arn",
            &parn,
            "--version-name",
            "cli.v1",
            "--output-config",
            "S3Bucket=cli-bucket,S3KeyPrefix=out/",
        ])
        .await
        .ok();
    let varn = v["ProjectVersionArn"].as_str().unwrap().to_string();
    let s = ml
        .run(&[
            "rekognition",
            "start-project-version",
            "--project-version-arn",
            &varn,
            "--min-inference-units",
            "1",
        ])
        .await
        .ok();
    assert_eq!(s["Status"], "STARTING");
    let s = ml
        .run(&[
            "rekognition",
            "stop-project-version",
            "--project-version-arn",
            &varn,
        ])
        .await
        .ok();
    assert_eq!(s["Status"], "STOPPING");
    ml.run(&[
        "rekognition",
        "tag-resource",
        "--resource-arn",
        &varn,
        "--tags",
        "stage=dev,team=ml",
    ])
    .await
    .ok();
    let tags = ml
        .run(&[
            "rekognition",
            "list-tags-for-resource",
            "--resource-arn",
            &varn,
        ])
        .await
        .ok();
    assert_eq!(tags["Tags"]["stage"], "dev");
    ml.run(&[
        "rekognition",
        "untag-resource",
        "--resource-arn",
        &varn,
        "--tag-keys",
        "team",
    ])
    .await
    .ok();
    let tags = ml
        .run(&[
            "rekognition",
            "list-tags-for-resource",
            "--resource-arn",
            &varn,
        ])
        .await
        .ok();
    assert_eq!(tags["Tags"].as_object().unwrap().len(), 1);

    // Policies.
    let doc = serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"AWS": STAGING_ACCOUNT},
                       "Action": "rekognition:CopyProjectVersion", "Resource": "*"}]
    })
    .to_string();
    let put = ml
        .run(&[
            "rekognition",
            "put-project-policy",
            "--project-arn",
            &dd,
            "--policy-name",
            "cli-policy",
            "--policy-document",
            &doc,
        ])
        .await
        .ok();
    let rev = put["PolicyRevisionId"].as_str().unwrap().to_string();
    let listed = ml
        .run(&["rekognition", "list-project-policies", "--project-arn", &dd])
        .await
        .ok();
    assert_eq!(
        listed["ProjectPolicies"][0]["PolicyRevisionId"],
        rev.as_str()
    );
    let e = ml
        .run(&[
            "rekognition",
            "put-project-policy",
            "--project-arn",
            &dd,
            "--policy-name",
            "bad",
            "--policy-document",
            "{}",
        ])
        .await
        .err();
    assert_eq!(e, "MalformedPolicyDocumentException");

    // Cross-account copy as the staging role, allowed by the policy just put.
    let src = seeded_version_arn(&sb, ML_ACCOUNT, seed::DEFECT_DETECTOR, seed::DEFECT_V2);
    let dst = seed::default_project_arn(STAGING_ACCOUNT, seed::DEFECT_DETECTOR);
    let copied = staging
        .run(&[
            "rekognition",
            "copy-project-version",
            "--source-project-arn",
            &dd,
            "--source-project-version-arn",
            &src,
            "--destination-project-arn",
            &dst,
            "--version-name",
            seed::DEFECT_V2,
            "--output-config",
            "S3Bucket=staging-bucket,S3KeyPrefix=copies/",
        ])
        .await
        .ok();
    assert!(
        copied["ProjectVersionArn"]
            .as_str()
            .unwrap()
            .contains(":222222222222:project/defect-detector/version/")
    );
    let after = staging
        .run(&[
            "rekognition",
            "describe-project-versions",
            "--project-arn",
            &dst,
        ])
        .await
        .ok();
    assert_eq!(
        after["ProjectVersionDescriptions"][0]["Status"],
        "COPYING_COMPLETED"
    );
    assert_eq!(
        after["ProjectVersionDescriptions"][0]["SourceProjectVersionArn"],
        src.as_str()
    );
    let e = staging
        .run(&[
            "rekognition",
            "copy-project-version",
            "--source-project-arn",
            &dd,
            "--source-project-version-arn",
            &src,
            "--destination-project-arn",
            &dst,
            "--version-name",
            seed::DEFECT_V2,
            "--output-config",
            "S3Bucket=staging-bucket",
        ])
        .await
        .err();
    assert_eq!(e, "ResourceInUseException");

    ml.run(&[
        "rekognition",
        "delete-project-policy",
        "--project-arn",
        &dd,
        "--policy-name",
        "cli-policy",
        "--policy-revision-id",
        &rev,
    ])
    .await
    .ok();
    let d = ml
        .run(&[
            "rekognition",
            "delete-project-version",
            "--project-version-arn",
            &varn,
        ])
        .await
        .ok();
    assert_eq!(d["Status"], "DELETING");
    let d = ml
        .run(&["rekognition", "delete-project", "--project-arn", &parn])
        .await
        .ok();
    assert_eq!(d["Status"], "DELETING");

    // Errors.
    let mut names = vec![
        "rekognition",
        "describe-project-versions",
        "--project-arn",
        &dd,
        "--version-names",
    ];
    let many: Vec<String> = (0..11).map(|i| format!("v{i}")).collect();
    names.extend(many.iter().map(String::as_str));
    assert_eq!(ml.run(&names).await.err(), "ValidationException");
    let e = staging
        .run(&["rekognition", "list-project-policies", "--project-arn", &dd])
        .await
        .err();
    assert_eq!(e, "AccessDeniedException");
    let wrong = Cli {
        secret: "x".repeat(40),
        ..as_account("ml")
    };
    assert_eq!(
        wrong.run(&["rekognition", "describe-projects"]).await.err(),
        "InvalidSignatureException"
    );
    assert_eq!(
        wrong.run(&["sts", "get-caller-identity"]).await.err(),
        "SignatureDoesNotMatch"
    );
    let unknown = Cli {
        key: "AKIAUNKNOWN000000000".into(),
        ..as_account("ml")
    };
    assert_eq!(
        unknown
            .run(&["rekognition", "describe-projects"])
            .await
            .err(),
        "UnrecognizedClientException"
    );
    assert_eq!(
        unknown.run(&["sts", "get-caller-identity"]).await.err(),
        "InvalidClientTokenId"
    );
}
