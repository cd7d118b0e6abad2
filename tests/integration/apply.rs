//! `apply` against the sandbox, through the real AWS SDK (library and binary): the happy path
//! across three accounts, same-account copies, copies blocked by missing policies (no
//! CopyProjectVersion call), managed policies created, split over 2,000 characters, refused over
//! the quota of 5, written under concurrent revisions, injected copy failures, throttling,
//! SIGKILL and SIGINT mid-apply then a converging re-run, two applies at once, stale saved
//! plans, confirmation without a terminal, `--no-wait`, `--fail-fast` and the JSON report.

use std::time::Duration;

use reko_promote::apply::report::{Outcome, PolicyOutcome, destination_label};
use reko_promote::apply::{self, ApplyOptions, ApplyReport, Progress};
use reko_promote::aws::AwsContext;
use reko_promote::desired::DesiredState;
use reko_promote::pipeline::LivePlan;
use reko_promote::plan::{Action, PlanDocument};
use reko_promote::policy::{MAX_DOCUMENT_CHARS, PolicyDocument};
use reko_promote::sandbox::seed::{self, DEFAULT_REGION};
use reko_promote::sandbox::state::VersionStatus;
use reko_promote::sandbox::{Faults, SandboxConfig, SandboxHandle};

use crate::sandbox::helpers::{self, TestSandbox};
use crate::support::{ci_context as context, desired_from, manifests, rel};

fn accounts_yaml() -> String {
    std::fs::read_to_string(crate::support::root().join("manifests/accounts.yaml")).unwrap()
}

/// Apply options for tests: a minute's timeout, quick polling.
pub(crate) fn options() -> ApplyOptions {
    ApplyOptions {
        max_in_flight: None,
        timeout: Some(Duration::from_secs(60)),
        backoff: apply::wait::Backoff {
            initial: Duration::from_millis(100),
            max: Duration::from_millis(500),
        },
        ..ApplyOptions::default()
    }
}

async fn plan_with(ctx: &AwsContext, desired: &DesiredState) -> LivePlan {
    reko_promote::pipeline::plan_live(ctx, desired, &reko_promote::plan::RunScope::full()).await
}

async fn run(ctx: &AwsContext, live: &LivePlan, o: &ApplyOptions) -> ApplyReport {
    apply::apply(
        ctx,
        &live.sessions,
        &live.plan,
        o,
        &Progress::silent(),
        apply::never_interrupted(),
    )
    .await
}

/// Plans and applies `desired` with default options.
async fn plan_and_apply(sb: &SandboxHandle, desired: &DesiredState) -> (PlanDocument, ApplyReport) {
    let ctx = context(sb, 50, 8).await;
    let live = plan_with(&ctx, desired).await;
    let report = run(&ctx, &live, &options()).await;
    (live.plan, report)
}

/// The text report.
fn text(report: &ApplyReport) -> String {
    reko_promote::render::apply::text(report)
}

/// The words of a placement's reason.
fn words(placement: &reko_promote::apply::PlacementReport) -> String {
    reko_promote::render::apply::placement_reason(placement)
}

fn outcome<'a>(
    report: &'a ApplyReport,
    placement: &str,
) -> &'a reko_promote::apply::PlacementReport {
    report
        .placements
        .iter()
        .find(|p| destination_label(&p.target) == placement)
        .unwrap_or_else(|| panic!("no {placement} in\n{}", text(report)))
}

fn version_status(
    sb: &SandboxHandle,
    account: &str,
    project: &str,
    name: &str,
) -> Option<VersionStatus> {
    sb.state().rekognition[account][DEFAULT_REGION].projects[project]
        .versions
        .get(name)
        .map(|v| v.status)
}

fn label_reader(manage: bool, destinations: &[&str]) -> String {
    let mut text = format!(
        "apiVersion: reko-promote/v1\nkind: Promotion\nname: label-reader\nregion: eu-west-1\n\
         source: {{ account: ml, project: label-reader, managePolicy: {manage} }}\n\
         versions: [{{ version: label-reader.v1 }}]\ndestinations:\n"
    );
    for d in destinations {
        text.push_str(&format!(
            "  {d}: {{ account: {d}, project: label-reader }}\n"
        ));
    }
    text
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_repository_manifests_apply_across_three_accounts_then_nothing_is_left() {
    let sb = helpers::start().await;
    let desired = desired_from(&[rel("manifests")]);
    let (plan, report) = plan_and_apply(&sb, &desired).await;
    assert_eq!(plan.summary.copy, 3);
    assert!(report.succeeded(true), "{}", text(&report));
    assert_eq!(report.summary.copied, 3, "{}", text(&report));
    assert_eq!(report.summary.policies_written, 1, "{}", text(&report));
    assert!(
        report
            .policies
            .iter()
            .all(|p| p.outcome == PolicyOutcome::Created)
    );
    // The managed policies grant exactly the versions each account receives, to its root.
    let state = sb.state();
    let source =
        &state.rekognition[seed::ML_ACCOUNT][DEFAULT_REGION].projects[seed::DEFECT_DETECTOR];
    assert_eq!(source.policies.len(), 1, "one packed document");
    let document = &source.policies["reko-promote-managed-1"].document;
    let pairs = crate::managed_policies::managed_pairs(&source.policies);
    for (account, versions) in [(seed::STAGING_ACCOUNT, 2), (seed::PROD_ACCOUNT, 1)] {
        let granted = pairs.iter().filter(|(a, _)| a == account).count();
        assert_eq!(granted, versions, "{document}");
    }
    assert!(!document.contains("\"*\""), "{document}");
    // The copies carry the plan's settings.
    let prod = &state.rekognition[seed::PROD_ACCOUNT][DEFAULT_REGION].projects
        [seed::DEFECT_DETECTOR]
        .versions["defect-detector-v2"];
    assert_eq!(prod.status, VersionStatus::CopyingCompleted);
    assert_eq!(prod.kms_key_id.as_deref(), Some("alias/models"));
    assert_eq!(prod.output_bucket.as_deref(), Some("acme-prod-models"));
    assert_eq!(prod.tags.get("tier").map(String::as_str), Some("gold"));
    assert_eq!(prod.tags.get("env").map(String::as_str), Some("prod"));
    assert_eq!(
        prod.source_version_arn.as_deref(),
        Some(
            helpers::seeded_version_arn(
                &sb,
                seed::ML_ACCOUNT,
                seed::DEFECT_DETECTOR,
                seed::DEFECT_V2
            )
            .as_str()
        )
    );

    // A fresh plan has nothing left to do; applying it changes nothing.
    sb.reset_call_counts();
    let (after, again) = plan_and_apply(&sb, &desired).await;
    assert_eq!(after.summary.unchanged, 3, "{after:?}");
    assert!(!after.summary.has_changes());
    assert_eq!(again.summary.already_there, 3);
    assert_eq!(sb.calls_of("CopyProjectVersion"), 0);
    assert_eq!(sb.calls_of("PutProjectPolicy"), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_same_account_copy_needs_no_policy() {
    let sb = helpers::start().await;
    let promotion = "apiVersion: reko-promote/v1\nkind: Promotion\nname: archive\nregion: eu-west-1\n\
                     source: { account: ml, project: label-reader, managePolicy: true }\n\
                     defaults: { outputConfig: { s3Bucket: acme-ml-models } }\n\
                     versions: [{ version: label-reader.v1, versionName: archived-label-reader }]\n\
                     destinations: { archive: { account: ml, project: defect-detector } }\n";
    let (_dir, path) = manifests(&[("a.yaml", accounts_yaml()), ("p.yaml", promotion.into())]);
    let desired = desired_from(&[path]);
    let (_, report) = plan_and_apply(&sb, &desired).await;
    assert!(report.succeeded(true), "{}", text(&report));
    assert_eq!(report.summary.copied, 1);
    assert_eq!(sb.calls_of("PutProjectPolicy"), 0);
    assert_eq!(sb.calls_of("ListProjectPolicies"), 0);
    assert_eq!(
        version_status(
            &sb,
            seed::ML_ACCOUNT,
            seed::DEFECT_DETECTOR,
            "archived-label-reader"
        ),
        Some(VersionStatus::CopyingCompleted)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_policy_blocks_without_any_copy_call_even_when_removed_after_planning() {
    let sb = helpers::start().await;
    // Prod: no policy lets it copy and managePolicy is off: blocked by the plan.
    let (_dir, path) = manifests(&[
        ("a.yaml", accounts_yaml()),
        ("l.yaml", label_reader(false, &["prod"])),
    ]);
    let (plan, report) = plan_and_apply(&sb, &desired_from(&[path])).await;
    assert_eq!(plan.entries[0].action, Action::Blocked);
    assert_eq!(report.summary.blocked, 1);
    assert!(!report.succeeded(true));
    assert_eq!(sb.calls_of("CopyProjectVersion"), 0);
    assert_eq!(sb.calls_of("PutProjectPolicy"), 0);

    // Staging: allowed when planned, but the policy is deleted before apply: the check made
    // just before copying blocks it, still without a CopyProjectVersion call.
    let (_dir2, path) = manifests(&[
        ("a.yaml", accounts_yaml()),
        ("l.yaml", label_reader(false, &["staging"])),
    ]);
    let desired = desired_from(&[path]);
    let ctx = context(&sb, 50, 8).await;
    let live = plan_with(&ctx, &desired).await;
    assert_eq!(live.plan.entries[0].action, Action::Copy);
    helpers::rek_as_role(&sb, seed::ML_ACCOUNT)
        .await
        .delete_project_policy()
        .project_arn(seed::default_project_arn(
            seed::ML_ACCOUNT,
            seed::LABEL_READER,
        ))
        .policy_name(seed::LABEL_READER_POLICY)
        .send()
        .await
        .unwrap();
    let report = run(&ctx, &live, &options()).await;
    let staging = outcome(&report, "staging/label-reader/label-reader.v1");
    assert_eq!(staging.outcome, Outcome::Blocked, "{}", text(&report));
    assert!(words(staging).contains("no policy"), "{}", words(staging));
    assert_eq!(sb.calls_of("CopyProjectVersion"), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_managed_policy_is_created_then_the_copy_made() {
    let sb = helpers::start().await;
    let (_dir, path) = manifests(&[
        ("a.yaml", accounts_yaml()),
        ("l.yaml", label_reader(true, &["prod"])),
    ]);
    let (_, report) = plan_and_apply(&sb, &desired_from(&[path])).await;
    assert!(report.succeeded(true), "{}", text(&report));
    assert_eq!(report.policies.len(), 1, "{}", text(&report));
    assert_eq!(report.policies[0].policy_names, ["reko-promote-managed-1"]);
    assert_eq!(report.policies[0].outcome, PolicyOutcome::Created);
    let state = sb.state();
    let source = &state.rekognition[seed::ML_ACCOUNT][DEFAULT_REGION].projects[seed::LABEL_READER];
    // The seeded policy is untouched; ours names prod's root and the one version.
    assert!(source.policies.contains_key(seed::LABEL_READER_POLICY));
    let ours = PolicyDocument::parse(&source.policies["reko-promote-managed-1"].document).unwrap();
    assert_eq!(
        ours.statements[0].resources,
        vec![source.versions[seed::LABEL_V1].arn.clone()]
    );
    assert_eq!(
        version_status(&sb, seed::PROD_ACCOUNT, seed::LABEL_READER, seed::LABEL_V1),
        Some(VersionStatus::CopyingCompleted)
    );
}

/// A sandbox whose ml account has a `bulk` project of `n` trained versions, and prod an empty
/// `bulk` project.
async fn bulk_sandbox(n: usize) -> TestSandbox {
    let mut config = SandboxConfig {
        faults: Some(Faults {
            copy_duration_ms: 100,
            ..helpers::fast_faults()
        }),
        ..SandboxConfig::default()
    };
    helpers::add_bulk_project(&mut config, seed::ML_ACCOUNT, "bulk", n, |i| {
        format!("bulk-model-with-a-rather-long-name.v{i:03}")
    });
    helpers::add_bulk_project(&mut config, seed::PROD_ACCOUNT, "bulk", 0, |i| {
        i.to_string()
    });
    helpers::start_with(config).await
}

fn bulk_promotion(n: usize) -> String {
    let versions: String = (0..n)
        .map(|i| format!("  - {{ version: bulk-model-with-a-rather-long-name.v{i:03} }}\n"))
        .collect();
    format!(
        "apiVersion: reko-promote/v1\nkind: Promotion\nname: bulk\nregion: eu-west-1\n\
         source: {{ account: ml, project: bulk, managePolicy: true }}\nversions:\n{versions}\
         destinations: {{ prod: {{ account: prod, project: bulk }} }}\n"
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_policy_over_2000_characters_is_split_into_several_named_policies() {
    const N: usize = 45;
    let sb = bulk_sandbox(N).await;
    let (_dir, path) = manifests(&[("a.yaml", accounts_yaml()), ("b.yaml", bulk_promotion(N))]);
    let desired = desired_from(&[path]);
    let ctx = context(&sb, 50, 8).await;
    let live = plan_with(&ctx, &desired).await;
    sb.reset_call_counts();
    // Every copy in flight at once: each polling round asks for all of them, 10 names a call.
    let o = ApplyOptions {
        max_in_flight: None,
        ..options()
    };
    let report = run(&ctx, &live, &o).await;
    assert!(report.succeeded(true), "{}", text(&report));
    assert_eq!(report.summary.copied, N);
    let polls = sb.calls_of("DescribeProjectVersions");
    assert!(
        polls < N as u64,
        "batched polling: {polls} calls for {N} copies"
    );
    let state = sb.state();
    let source = &state.rekognition[seed::ML_ACCOUNT][DEFAULT_REGION].projects["bulk"];
    let names: Vec<&String> = source.policies.keys().collect();
    assert!(names.len() >= 2, "{names:?}");
    assert_eq!(names[0], "reko-promote-managed-1");
    assert_eq!(names[1], "reko-promote-managed-2");
    let mut granted = Vec::new();
    for policy in source.policies.values() {
        assert!(policy.document.chars().count() <= MAX_DOCUMENT_CHARS);
        for statement in PolicyDocument::parse(&policy.document).unwrap().statements {
            granted.extend(statement.resources);
        }
    }
    let mut all: Vec<String> = source.versions.values().map(|v| v.arn.clone()).collect();
    granted.sort();
    all.sort();
    assert_eq!(granted, all, "every version granted exactly once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_hand_written_policies_leave_one_slot_the_grants_are_packed_into() {
    let sb = helpers::start().await;
    let ml = helpers::rek_as_role(&sb, seed::ML_ACCOUNT).await;
    let project = seed::default_project_arn(seed::ML_ACCOUNT, seed::DEFECT_DETECTOR);
    for i in 0..4 {
        ml.put_project_policy()
            .project_arn(&project)
            .policy_name(format!("team-{i}"))
            .policy_document(format!(
                r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::55555555555{i}:root"}},"Action":"rekognition:CopyProjectVersion","Resource":"{project}"}}]}}"#
            ))
            .send()
            .await
            .unwrap();
    }
    let desired = desired_from(&[rel("manifests")]);
    let ctx = context(&sb, 50, 8).await;
    let live = plan_with(&ctx, &desired).await;
    sb.reset_call_counts();
    let report = run(&ctx, &live, &options()).await;
    assert!(report.succeeded(true), "{}", text(&report));
    assert_eq!(sb.calls_of("PutProjectPolicy"), 1, "one packed document");
    let state = sb.state();
    let policies = &state.rekognition[seed::ML_ACCOUNT][DEFAULT_REGION].projects
        [seed::DEFECT_DETECTOR]
        .policies;
    assert_eq!(policies.len(), 5);
    assert!(policies.contains_key("reko-promote-managed-1"));
    assert!((0..4).all(|i| policies.contains_key(&format!("team-{i}"))));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_revisions_are_read_again_and_no_statement_is_lost() {
    let sb = helpers::start().await;
    let ml = helpers::rek_as_role(&sb, seed::ML_ACCOUNT).await;
    let project = seed::default_project_arn(seed::ML_ACCOUNT, seed::LABEL_READER);
    let v1 = helpers::seeded_version_arn(&sb, seed::ML_ACCOUNT, seed::LABEL_READER, seed::LABEL_V1);
    // An outdated managed policy (someone's hand edit, granting one account too many) that both
    // runs will narrow.
    ml.put_project_policy()
        .project_arn(&project)
        .policy_name("reko-promote-managed-1")
        .policy_document(format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Sid":"RekoPromote1","Effect":"Allow","Principal":{{"AWS":["arn:aws:iam::333333333333:root","arn:aws:iam::999999999999:root"]}},"Action":"rekognition:CopyProjectVersion","Resource":"{v1}"}}]}}"#
        ))
        .send()
        .await
        .unwrap();
    let (_dir, path) = manifests(&[
        ("a.yaml", accounts_yaml()),
        ("l.yaml", label_reader(true, &["prod"])),
    ]);
    let desired = desired_from(&[path]);
    let (ctx_a, ctx_b) = (context(&sb, 50, 8).await, context(&sb, 50, 8).await);
    let (live_a, live_b) = (
        plan_with(&ctx_a, &desired).await,
        plan_with(&ctx_b, &desired).await,
    );
    // Both runs read the policy, then both write with the same revision: the slower write must
    // be refused (InvalidPolicyRevisionId), read again, and find nothing left to do.
    let mut faults = sb.faults();
    faults.latency.insert(
        "PutProjectPolicy".into(),
        reko_promote::sandbox::Latency {
            ms: 1500,
            jitter_ms: 0,
        },
    );
    sb.set_faults(faults).unwrap();
    sb.reset_call_counts();
    let o = options();
    let (a, b) = tokio::join!(run(&ctx_a, &live_a, &o), run(&ctx_b, &live_b, &o));
    assert!(a.succeeded(true), "{}", text(&a));
    assert!(b.succeeded(true), "{}", text(&b));
    let outcomes: Vec<PolicyOutcome> = [&a, &b].iter().map(|r| r.policies[0].outcome).collect();
    assert!(outcomes.contains(&PolicyOutcome::Updated), "{outcomes:?}");
    assert!(outcomes.contains(&PolicyOutcome::Unchanged), "{outcomes:?}");
    assert_eq!(
        sb.calls_of("PutProjectPolicy"),
        2,
        "one update, one refused: {:?}",
        sb.call_counts()
    );
    let state = sb.state();
    let policies =
        &state.rekognition[seed::ML_ACCOUNT][DEFAULT_REGION].projects[seed::LABEL_READER].policies;
    assert!(
        policies.contains_key(seed::LABEL_READER_POLICY),
        "the other policy is kept"
    );
    let ours = PolicyDocument::parse(&policies["reko-promote-managed-1"].document).unwrap();
    assert_eq!(ours.statements[0].sid.as_deref(), Some("RekoPromote1"));
    // One copy between the two runs.
    assert_eq!(
        state.rekognition[seed::PROD_ACCOUNT][DEFAULT_REGION].projects[seed::LABEL_READER]
            .versions
            .len(),
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_applies_at_once_copy_each_version_once() {
    let sb = helpers::start().await;
    let desired = desired_from(&[rel("manifests")]);
    let (ctx_a, ctx_b) = (context(&sb, 50, 8).await, context(&sb, 50, 8).await);
    let (live_a, live_b) = (
        plan_with(&ctx_a, &desired).await,
        plan_with(&ctx_b, &desired).await,
    );
    sb.reset_call_counts();
    let o = options();
    let (a, b) = tokio::join!(run(&ctx_a, &live_a, &o), run(&ctx_b, &live_b, &o));
    // Both asked; the second of each pair was told ResourceInUse and waited for the first.
    assert_eq!(
        sb.calls_of("CopyProjectVersion"),
        6,
        "{:?}",
        sb.call_counts()
    );
    for report in [&a, &b] {
        assert!(report.succeeded(true), "{}", text(report));
        assert_eq!(report.summary.copied, 3, "{}", text(report));
    }
    let state = sb.state();
    for (account, n) in [(seed::STAGING_ACCOUNT, 2), (seed::PROD_ACCOUNT, 1)] {
        let versions =
            &state.rekognition[account][DEFAULT_REGION].projects[seed::DEFECT_DETECTOR].versions;
        assert_eq!(versions.len(), n, "{versions:?}");
        assert!(
            versions
                .values()
                .all(|v| v.status == VersionStatus::CopyingCompleted)
        );
    }
    let policies = &state.rekognition[seed::ML_ACCOUNT][DEFAULT_REGION].projects
        [seed::DEFECT_DETECTOR]
        .policies;
    assert_eq!(policies.len(), 1, "one packed document: {policies:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn throttling_on_every_call_still_converges() {
    let sb = helpers::start().await;
    let mut faults = sb.faults();
    faults
        .tps
        .insert(reko_promote::sandbox::faults::ALL_OPERATIONS.into(), 1.0);
    sb.set_faults(faults).unwrap();
    let desired = desired_from(&[rel("manifests")]);
    // A client limit far above the sandbox's quota: the SDK's retries absorb the throttling.
    let ctx = context(&sb, 1000, 10).await;
    let live = plan_with(&ctx, &desired).await;
    let report = run(&ctx, &live, &options()).await;
    assert!(report.succeeded(true), "{}", text(&report));
    assert_eq!(report.summary.copied, 3, "{}", text(&report));
    // Two copies in staging at once against one call a second: one was throttled and retried.
    assert!(
        sb.calls_of("CopyProjectVersion") > 3,
        "throttled and retried: {:?}",
        sb.call_counts()
    );
    let state = sb.state();
    let staging =
        &state.rekognition[seed::STAGING_ACCOUNT][DEFAULT_REGION].projects[seed::DEFECT_DETECTOR];
    assert_eq!(staging.versions.len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fail_fast_starts_no_copy_after_a_failure() {
    let sb = helpers::start().await;
    let mut faults = sb.faults();
    faults.copy_fail_versions = vec!["defect-detector-v1".into()];
    sb.set_faults(faults).unwrap();
    let desired = desired_from(&[rel("manifests")]);
    let ctx = context(&sb, 50, 8).await;
    let live = plan_with(&ctx, &desired).await;
    let report = run(
        &ctx,
        &live,
        &ApplyOptions {
            max_in_flight: Some(1),
            fail_fast: true,
            ..options()
        },
    )
    .await;
    let failed = outcome(&report, "staging/defect-detector/defect-detector-v1");
    assert_eq!(failed.outcome, Outcome::Failed, "{}", text(&report));
    assert_eq!(report.summary.skipped, 2, "{}", text(&report));
    assert_eq!(sb.calls_of("CopyProjectVersion"), 1);
}

// ---- the binary ----

fn reko(sb: &SandboxHandle) -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::cargo_bin("reko-promote").unwrap();
    cmd.current_dir(crate::support::root());
    for (k, v) in env(sb) {
        cmd.env(k, v);
    }
    cmd.env_remove("RUST_LOG").timeout(Duration::from_secs(60));
    cmd
}

fn env(sb: &SandboxHandle) -> Vec<(&'static str, String)> {
    vec![
        ("AWS_ENDPOINT_URL", sb.endpoint()),
        ("AWS_ACCESS_KEY_ID", seed::CI_ACCESS_KEY_ID.into()),
        ("AWS_SECRET_ACCESS_KEY", seed::CI_SECRET_ACCESS_KEY.into()),
        ("AWS_REGION", DEFAULT_REGION.into()),
        ("AWS_CONFIG_FILE", "/dev/null".into()),
        ("AWS_SHARED_CREDENTIALS_FILE", "/dev/null".into()),
        ("AWS_SESSION_TOKEN", String::new()),
        ("AWS_PROFILE", String::new()),
    ]
}

/// The binary as a child process (to kill it).
fn spawn(sb: &SandboxHandle, args: &[&str]) -> tokio::process::Child {
    let mut cmd = tokio::process::Command::new(assert_cmd::cargo::cargo_bin("reko-promote"));
    cmd.current_dir(crate::support::root())
        .args(args)
        .env_remove("AWS_SESSION_TOKEN")
        .env_remove("AWS_PROFILE")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true);
    for (k, v) in env(sb) {
        if !v.is_empty() {
            cmd.env(k, v);
        }
    }
    cmd.spawn().unwrap()
}

async fn output(child: tokio::process::Child) -> (Option<i32>, String, String) {
    let out = tokio::time::timeout(Duration::from_secs(60), child.wait_with_output())
        .await
        .expect("the run ends")
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

fn copies_in_progress(sb: &SandboxHandle) -> usize {
    sb.state()
        .rekognition
        .values()
        .flat_map(|r| r.values())
        .flat_map(|r| r.projects.values())
        .flat_map(|p| p.versions.values())
        .filter(|v| v.status == VersionStatus::CopyingInProgress)
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_mid_apply_then_run_again_converges_without_a_duplicate() {
    let sb = helpers::start().await;
    let mut faults = sb.faults();
    faults.copy_duration_ms = 4000;
    sb.set_faults(faults).unwrap();
    let mut child = spawn(&sb, &["apply", "--auto-approve", "manifests"]);
    assert!(
        helpers::eventually(Duration::from_secs(30), || async {
            copies_in_progress(&sb) > 0
        })
        .await,
        "a copy started"
    );
    child.start_kill().unwrap(); // SIGKILL: no chance to clean up
    let _ = child.wait().await;

    let (code, stdout, stderr) =
        output(spawn(&sb, &["apply", "--auto-approve", "manifests"])).await;
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    assert!(stderr.contains("waiting for copy in progress"), "{stderr}");
    let state = sb.state();
    for (account, n) in [(seed::STAGING_ACCOUNT, 2), (seed::PROD_ACCOUNT, 1)] {
        let versions =
            &state.rekognition[account][DEFAULT_REGION].projects[seed::DEFECT_DETECTOR].versions;
        assert_eq!(versions.len(), n);
        assert!(
            versions
                .values()
                .all(|v| v.status == VersionStatus::CopyingCompleted)
        );
    }
    assert_eq!(
        sb.calls_of("CopyProjectVersion"),
        3,
        "one copy per version: {:?}",
        sb.call_counts()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn interrupted_with_sigint_reports_the_copies_in_flight_and_exits_130() {
    let sb = helpers::start().await;
    let mut faults = sb.faults();
    faults.copy_duration_ms = 5000;
    sb.set_faults(faults).unwrap();
    let child = spawn(&sb, &["apply", "--auto-approve", "manifests"]);
    let pid = child.id().unwrap();
    assert!(
        helpers::eventually(Duration::from_secs(30), || async {
            copies_in_progress(&sb) == 3
        })
        .await,
        "the copies started"
    );
    std::process::Command::new("kill")
        .args(["-INT", &pid.to_string()])
        .status()
        .unwrap();
    let (code, stdout, stderr) = output(child).await;
    assert_eq!(code, Some(130), "{stdout}\n{stderr}");
    assert!(stdout.contains("Apply interrupted"), "{stdout}");
    assert!(stdout.contains("in progress"), "{stdout}");
    assert!(stderr.contains("interrupted: no new copies"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_injected_copy_failure_is_reported_with_its_status_message_as_json() {
    let sb = helpers::start().await;
    let mut faults = sb.faults();
    faults.copy_fail_versions = vec!["defect-detector-v1".into()];
    sb.set_faults(faults).unwrap();
    let (code, stdout, stderr) = output(spawn(
        &sb,
        &["apply", "--auto-approve", "--format", "json", "manifests"],
    ))
    .await;
    assert_eq!(code, Some(1), "{stdout}\n{stderr}");
    let report: ApplyReport =
        serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"));
    assert_eq!(report.format_version, ApplyReport::FORMAT_VERSION);
    assert_eq!(report.summary.copied, 2);
    assert_eq!(report.summary.failed, 1);
    let failed = outcome(&report, "staging/defect-detector/defect-detector-v1");
    let message = sb.faults().copy_failure_message;
    assert_eq!(failed.status_message.as_deref(), Some(message.as_str()));
    assert!(words(failed).contains(&message));
    for secret in [seed::CI_SECRET_ACCESS_KEY, "sessionToken", "SessionToken"] {
        assert!(!stdout.contains(secret) && !stderr.contains(secret));
    }
    // CI output: one timestamped line per event.
    let line = regex::Regex::new(
        r"(?m)^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ copy started prod/defect-detector/defect-detector-v2$",
    )
    .unwrap();
    assert!(line.is_match(&stderr), "{stderr}");
}

/// `plan --out` of the repository manifests into a new temporary directory: (the directory,
/// the plan file, its path as text).
fn saved_plan(sb: &SandboxHandle) -> (tempfile::TempDir, std::path::PathBuf, String) {
    let dir = tempfile::tempdir().unwrap();
    let plan = dir.path().join("plan.json");
    let plan_s = plan.to_str().unwrap().to_string();
    reko(sb)
        .args(["plan", "--out", &plan_s, "manifests"])
        .assert()
        .success();
    (dir, plan, plan_s)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stale_saved_plan_is_refused_without_writing() {
    let sb = helpers::start().await;
    let (dir, plan, plan_s) = saved_plan(&sb);

    // The live state moves: someone adds a policy to the source project.
    helpers::rek_as_role(&sb, seed::ML_ACCOUNT)
        .await
        .put_project_policy()
        .project_arn(seed::default_project_arn(seed::ML_ACCOUNT, seed::DEFECT_DETECTOR))
        .policy_name("someone-else")
        .policy_document(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::555555555555:root"},"Action":"rekognition:CopyProjectVersion","Resource":"*"}]}"#)
        .send()
        .await
        .unwrap();
    sb.reset_call_counts();
    reko(&sb)
        .args(["apply", "--plan", &plan_s, "manifests"])
        .assert()
        .code(1)
        .stderr(predicates::str::contains("stale: the live state changed"));
    // Other manifests than planned (a narrower selection): refused too.
    reko(&sb)
        .args([
            "apply",
            "--plan",
            &plan_s,
            "--target",
            "staging",
            "manifests",
        ])
        .assert()
        .code(1)
        .stderr(predicates::str::contains("the manifests changed"));
    for write in ["PutProjectPolicy", "CopyProjectVersion"] {
        assert_eq!(sb.calls_of(write), 0, "{write}");
    }

    // An unknown format version: refused before any AWS call.
    let mut document: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&plan).unwrap()).unwrap();
    document["formatVersion"] = 99.into();
    let future = dir.path().join("future.json");
    std::fs::write(&future, document.to_string()).unwrap();
    sb.reset_call_counts();
    reko(&sb)
        .args(["apply", "--plan", future.to_str().unwrap(), "manifests"])
        .assert()
        .code(1)
        .stderr(predicates::str::contains("formatVersion 99"));
    assert_eq!(sb.total_calls(), 0);

    // Planned again, the saved plan applies.
    reko(&sb)
        .args(["plan", "--out", &plan_s, "manifests"])
        .assert()
        .success();
    reko(&sb)
        .args(["apply", "--plan", &plan_s, "manifests"])
        .assert()
        .success()
        .stdout(predicates::str::contains("Apply complete"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_terminal_apply_needs_auto_approve() {
    let sb = helpers::start().await;
    reko(&sb)
        .args(["apply", "manifests"])
        .assert()
        .code(1)
        .stderr(predicates::str::contains("--auto-approve"));
    assert_eq!(sb.total_calls(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_wait_starts_the_copies_and_the_next_plan_sees_them_in_progress() {
    let sb = helpers::start().await;
    let mut faults = sb.faults();
    faults.copy_duration_ms = 5000;
    sb.set_faults(faults).unwrap();
    let out = reko(&sb)
        .args([
            "apply",
            "--auto-approve",
            "--no-wait",
            "--format",
            "json",
            "manifests",
        ])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: ApplyReport = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report.summary.started, 3);
    assert_eq!(copies_in_progress(&sb), 3);
    let desired = desired_from(&[rel("manifests")]);
    let ctx = context(&sb, 50, 8).await;
    let plan = plan_with(&ctx, &desired).await.plan;
    assert_eq!(plan.summary.in_progress, 3);
    assert_eq!(plan.summary.copy, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_timeout_stops_waiting_and_reports_the_copies_still_in_progress() {
    let sb = helpers::start().await;
    let mut faults = sb.faults();
    faults.copy_duration_ms = 6000;
    sb.set_faults(faults).unwrap();
    let (code, stdout, stderr) = output(spawn(
        &sb,
        &["apply", "--auto-approve", "--timeout", "1s", "manifests"],
    ))
    .await;
    assert_eq!(code, Some(1), "{stdout}\n{stderr}");
    assert!(stdout.contains("Apply timed out"), "{stdout}");
    assert!(stdout.contains("--timeout ran out"), "{stdout}");
    assert_eq!(copies_in_progress(&sb), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_saved_plan_whose_source_version_was_replaced_is_refused_with_zero_writes() {
    // Issue 10, item 1: the source account deletes the planned version and trains a new one
    // under the same name; the reviewed plan must not copy it.
    let sb = helpers::start().await;
    let (_dir, _plan, plan_s) = saved_plan(&sb);
    let planned_arn = helpers::seeded_version_arn(
        &sb,
        seed::ML_ACCOUNT,
        seed::DEFECT_DETECTOR,
        seed::DEFECT_V2,
    );

    let ml = helpers::rek_as_role(&sb, seed::ML_ACCOUNT).await;
    let project = seed::default_project_arn(seed::ML_ACCOUNT, seed::DEFECT_DETECTOR);
    ml.delete_project_version()
        .project_version_arn(&planned_arn)
        .send()
        .await
        .unwrap();
    ml.create_project_version()
        .project_arn(&project)
        .version_name(seed::DEFECT_V2)
        .output_config(
            aws_sdk_rekognition::types::OutputConfig::builder()
                .s3_bucket("someone-elses-bucket")
                .build(),
        )
        .send()
        .await
        .unwrap();
    let trained = helpers::eventually(Duration::from_secs(30), || async {
        version_status(
            &sb,
            seed::ML_ACCOUNT,
            seed::DEFECT_DETECTOR,
            seed::DEFECT_V2,
        ) == Some(VersionStatus::TrainingCompleted)
    })
    .await;
    assert!(trained);
    let replaced_arn = helpers::seeded_version_arn(
        &sb,
        seed::ML_ACCOUNT,
        seed::DEFECT_DETECTOR,
        seed::DEFECT_V2,
    );
    assert_ne!(planned_arn, replaced_arn);

    sb.reset_call_counts();
    let assert = reko(&sb)
        .args(["apply", "--plan", &plan_s, "manifests"])
        .assert()
        .code(1);
    let stderr = String::from_utf8(assert.get_output().stderr.clone()).unwrap();
    assert!(
        stderr.contains("stale")
            && stderr.contains(&format!(
                "source version {planned_arn} then, {replaced_arn} now"
            ))
            && stderr.contains("defect-detector/prod/defect-detector-v2"),
        "{stderr}"
    );
    assert!(stderr.contains("Nothing was changed."), "{stderr}");
    for write in ["PutProjectPolicy", "CopyProjectVersion"] {
        assert_eq!(sb.calls_of(write), 0, "{write}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_partial_run_says_so_and_never_withdraws_a_grant() {
    // Issue 10, item 4: naming manifest files (not the directory) is a partial run.
    let sb = helpers::start().await;
    // A full apply grants staging two versions and prod one.
    reko(&sb)
        .args(["apply", "--auto-approve", "manifests"])
        .assert()
        .success();
    let granted = |sb: &SandboxHandle| {
        let state = sb.state();
        let policies = &state.rekognition[seed::ML_ACCOUNT][DEFAULT_REGION].projects
            [seed::DEFECT_DETECTOR]
            .policies;
        crate::managed_policies::managed_pairs(policies)
            .iter()
            .filter(|(account, _)| account == seed::STAGING_ACCOUNT)
            .count()
    };
    assert_eq!(granted(&sb), 2);
    // Files naming only v2: the run sees part of the manifests.
    let dir = tempfile::tempdir().unwrap();
    let promotion =
        std::fs::read_to_string(crate::support::root().join("manifests/defect-detector.yaml"))
            .unwrap();
    let narrowed: String = promotion
        .replace(
            "  - version: defect-detector.2026-11-01T10.00.00\n    versionName: defect-detector-v1\n    to: [staging]\n",
            "",
        );
    assert_ne!(narrowed, promotion);
    let file = dir.path().join("defect-detector.yaml");
    std::fs::write(&file, narrowed).unwrap();
    let file_s = file.to_str().unwrap().to_string();
    let json = reko(&sb)
        .args([
            "plan",
            "--format",
            "json",
            "manifests/accounts.yaml",
            &file_s,
        ])
        .output()
        .unwrap();
    let planned: PlanDocument = serde_json::from_slice(&json.stdout).unwrap();
    assert!(planned.scope.partial, "{:?}", planned.scope);
    assert_eq!(planned.summary.policies, 0, "nothing is withdrawn");
    reko(&sb)
        .args(["plan", "manifests/accounts.yaml", &file_s])
        .assert()
        .success()
        .stdout(predicates::str::contains(
            "Partial run (manifest files named (manifests/accounts.yaml",
        ));
    sb.reset_call_counts();
    reko(&sb)
        .args([
            "apply",
            "--auto-approve",
            "manifests/accounts.yaml",
            &file_s,
        ])
        .assert()
        .success();
    assert_eq!(sb.calls_of("PutProjectPolicy"), 0);
    assert_eq!(granted(&sb), 2, "the partial run kept the grant of v1");
    // The whole directory again: a full run, which prunes what no manifest names any more.
    let full = tempfile::tempdir().unwrap();
    std::fs::copy(
        crate::support::root().join("manifests/accounts.yaml"),
        full.path().join("accounts.yaml"),
    )
    .unwrap();
    std::fs::copy(&file, full.path().join("defect-detector.yaml")).unwrap();
    reko(&sb)
        .args(["apply", "--auto-approve", full.path().to_str().unwrap()])
        .assert()
        .success();
    assert_eq!(
        granted(&sb),
        1,
        "a full run grants exactly what the manifests name"
    );
}
