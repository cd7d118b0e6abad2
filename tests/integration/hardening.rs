//! Hostile and careless input to the binary and its AWS edge (issue 10): no verbosity prints a
//! secret, quota errors are never retried, duration flags are bounded, and `plan` enters
//! accounts only through their read-only `planRoleArn` when declared.
//!
//! Secrets are checked by running the real binary against an in-process sandbox and grepping
//! everything it prints for every credential the sandbox knows (the CI identity's keys and
//! every assumed-role session it issued).

use reko_promote::sandbox::SandboxHandle;
use reko_promote::sandbox::seed::{self, DEFAULT_REGION};

use crate::sandbox::helpers;
use crate::support::{ci_context, desired_from, reko_in_ci as reko, rel, root};

/// Every secret the sandbox holds: the seeded identities' secret keys and every issued
/// session's secret key and token.
fn secrets(sb: &SandboxHandle) -> Vec<String> {
    let state = sb.state();
    let mut secrets: Vec<String> = state
        .accounts
        .values()
        .map(|a| a.secret_access_key.clone())
        .collect();
    for session in state.sessions.values() {
        secrets.push(session.secret_access_key.clone());
        secrets.push(session.session_token.clone());
    }
    secrets
}

/// Runs `args` at each verbosity (`-v`, `-vv`, `-vvv`, `RUST_LOG=trace`), each against a fresh
/// sandbox, and asserts that nothing printed holds a secret or a signed request.
async fn run_at_every_verbosity(args: &[&str], expected_code: i32) {
    let verbosities: [(&[&str], Option<&str>); 5] = [
        (&["-v"], None),
        (&["-vv"], None),
        (&["-vvv"], None),
        (&[], Some("trace")),
        (
            &["-vvv"],
            Some("trace,aws_sigv4=trace,aws_smithy_runtime=trace,hyper=trace"),
        ),
    ];
    for (flags, rust_log) in verbosities {
        let sb = helpers::start().await;
        let mut cmd = reko(Some(&sb));
        cmd.args(flags).args(args);
        if let Some(filter) = rust_log {
            cmd.env("RUST_LOG", filter);
        }
        // The CLI runs blocking on this worker while the sandbox serves on the other.
        let output = tokio::task::block_in_place(|| cmd.output().unwrap());
        let printed = format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        let what = format!("{flags:?} RUST_LOG={rust_log:?} {args:?}");
        assert_eq!(
            output.status.code(),
            Some(expected_code),
            "{what}\n{printed}"
        );
        let secrets = secrets(&sb);
        assert!(
            secrets.len() >= 4,
            "{what}: the run assumed the account roles"
        );
        for secret in &secrets {
            assert!(
                !printed.contains(secret.as_str()),
                "{what} printed a secret"
            );
        }
        for marker in [
            "IQoJb3JpZ2luX2VjE", // the prefix of every session token the sandbox issues
            "x-amz-security-token",
            "AWS4-HMAC-SHA256 Credential",
            "canonical_request",
            "SecretAccessKey",
        ] {
            assert!(
                !printed.to_lowercase().contains(&marker.to_lowercase()),
                "{what} printed `{marker}`"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plan_prints_no_secret_at_any_verbosity() {
    run_at_every_verbosity(&["plan", "--detailed-exitcode", "manifests"], 2).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apply_prints_no_secret_at_any_verbosity() {
    run_at_every_verbosity(&["apply", "--auto-approve", "--no-wait", "manifests"], 0).await;
}

/// A sixth project policy exceeds the quota of five: `LimitExceededException`, which the SDK's
/// standard classifier would retry as throttling. Through the product's client it is sent
/// exactly once and reported as a failure, not as throttling.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn limit_exceeded_is_a_quota_error_sent_once() {
    let sb = helpers::start().await;
    let project = sb.state().rekognition[seed::ML_ACCOUNT][DEFAULT_REGION].projects
        [seed::DEFECT_DETECTOR]
        .arn
        .clone();
    let document = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{}:root"}},"Action":"rekognition:CopyProjectVersion","Resource":"*"}}]}}"#,
        seed::PROD_ACCOUNT
    );
    let owner = helpers::rek_as_role(&sb, seed::ML_ACCOUNT).await;
    let existing = sb.state().rekognition[seed::ML_ACCOUNT][DEFAULT_REGION].projects
        [seed::DEFECT_DETECTOR]
        .policies
        .len();
    for n in existing..5 {
        owner
            .put_project_policy()
            .project_arn(&project)
            .policy_name(format!("hand-written-{n}"))
            .policy_document(&document)
            .send()
            .await
            .expect("within the quota");
    }

    let desired = desired_from(&[rel("manifests")]);
    let ctx = ci_context(&sb, 50, 8).await;
    let sessions = reko_promote::aws::Sessions::open(&ctx, &desired.accounts, DEFAULT_REGION).await;
    let ml = desired
        .accounts
        .iter()
        .find(|a| a.account_id == seed::ML_ACCOUNT)
        .expect("the ml account is declared");
    let client = sessions
        .get(&ml.name)
        .expect("session")
        .rekognition(DEFAULT_REGION);
    sb.reset_call_counts();
    let error = reko_promote::aws::put_project_policy::put_project_policy(
        &ctx,
        &client,
        ml.into(),
        &project,
        "one-too-many",
        &document,
        None,
    )
    .await
    .expect_err("over the quota");
    assert_eq!(sb.calls_of("PutProjectPolicy"), 1, "sent exactly once");
    let reko_promote::aws::put_project_policy::PolicyWriteError::Other(error) = error else {
        panic!("not a conflict: {error}");
    };
    assert_eq!(error.code.as_deref(), Some("LimitExceededException"));
    assert_ne!(error.kind, reko_promote::aws::ErrorKind::Throttling);
}

/// Every duration flag has an upper bound: above it, a usage error (exit 2) naming the flag and
/// the bound, never a panic (exit 101).
#[test]
fn duration_flags_above_their_bound_are_usage_errors() {
    for (args, flag, bound) in [
        (
            &["apply", "--timeout", "500000000000years"][..],
            "--timeout",
            "7days",
        ),
        (&["apply", "--timeout", "8days"][..], "--timeout", "7days"),
        (
            &["sandbox", "--latency-ms", "18446744073709551615"][..],
            "--latency-ms",
            "10m",
        ),
        (
            &["sandbox", "--latency-jitter-ms", "1h"][..],
            "--latency-jitter-ms",
            "10m",
        ),
        (
            &["sandbox", "--copy-duration-ms", "99999999999999"][..],
            "--copy-duration-ms",
            "1day",
        ),
        (
            &["demo", "--copy-duration-ms", "2days"][..],
            "--copy-duration-ms",
            "1day",
        ),
    ] {
        let output = reko(None).args(args).output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(flag), "{args:?} names the flag: {stderr}");
        assert!(
            stderr.contains(&format!("maximum of {bound}")),
            "{args:?} names the bound: {stderr}"
        );
    }
}

/// With `planRoleArn` declared, `plan` enters every account through the read-only plan role
/// and never through the apply role; `apply` uses the apply role (`roleArn`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plan_assumes_only_the_declared_plan_roles() {
    let mut seed = reko_promote::sandbox::default_organisation();
    let plan_roles: Vec<_> = seed
        .roles
        .iter()
        .map(|role| reko_promote::sandbox::seed::SeedRole {
            arn: format!("{}-plan", role.arn),
            ..role.clone()
        })
        .collect();
    seed.roles.extend(plan_roles);
    let sb = helpers::start_with(reko_promote::sandbox::SandboxConfig {
        seed,
        faults: Some(helpers::fast_faults()),
        ..Default::default()
    })
    .await;
    let accounts = std::fs::read_to_string(root().join("manifests/accounts.yaml")).unwrap();
    let accounts = regex::Regex::new(r"(?m)^roleArn: (\S+)$")
        .unwrap()
        .replace_all(&accounts, "roleArn: $1\nplanRoleArn: $1-plan");
    assert_eq!(accounts.matches("planRoleArn").count(), 3);
    let (_dir, manifests) = crate::support::manifests(&[
        ("accounts.yaml", accounts.into_owned()),
        (
            "defect-detector.yaml",
            std::fs::read_to_string(root().join("manifests/defect-detector.yaml")).unwrap(),
        ),
    ]);
    let roles_assumed = |sb: &SandboxHandle| -> std::collections::BTreeSet<String> {
        sb.state()
            .sessions
            .values()
            .map(|s| s.role_name.clone())
            .collect()
    };

    let mut plan = reko(Some(&sb));
    plan.args(["plan", "--detailed-exitcode"]).arg(&manifests);
    let output = tokio::task::block_in_place(|| plan.output().unwrap());
    assert_eq!(output.status.code(), Some(2), "{output:?}");
    assert_eq!(
        roles_assumed(&sb),
        ["reko-promote-plan".to_string()].into(),
        "plan used only the plan roles"
    );
    let mut apply = reko(Some(&sb));
    apply
        .args(["apply", "--auto-approve", "--no-wait"])
        .arg(&manifests);
    let output = tokio::task::block_in_place(|| apply.output().unwrap());
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    assert!(
        roles_assumed(&sb).contains("reko-promote"),
        "apply used the apply roles"
    );
}
