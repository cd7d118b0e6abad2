//! `plan` against the sandbox, through the real AWS SDK: every action kind from live state,
//! roles with external ids, an account whose role cannot be assumed, ambient credentials of the
//! wrong account, missing and granted cross-account policies, the batched minimum of calls over
//! hundreds of versions, throttling on every operation, and the CLI's exit codes and saved plan.

use std::path::PathBuf;
use std::time::Duration;

use reko_promote::desired::DesiredState;
use reko_promote::plan::{Action, PlanDocument, RunScope};
use reko_promote::sandbox::seed::{self, DEFAULT_REGION};
use reko_promote::sandbox::{Faults, SandboxConfig, SandboxHandle};

use crate::sandbox::helpers::{self, TestSandbox};
use crate::support::{ci_context as context, desired_from, manifests, rel};

fn accounts_yaml(prod_external_id: &str) -> String {
    std::fs::read_to_string(crate::support::root().join("manifests/accounts.yaml"))
        .unwrap()
        .replace(
            "externalId: reko-promote-prod",
            &format!("externalId: {prod_external_id}"),
        )
}

async fn plan(sb: &SandboxHandle, desired: &DesiredState) -> PlanDocument {
    let ctx = context(sb, 50, 8).await;
    reko_promote::pipeline::plan_live(&ctx, desired, &RunScope::full())
        .await
        .plan
}

/// Waits until no version of `project` in `account` is still being copied (as the account's
/// role sees it through the SDK), so tests never race the sandbox's copy duration.
async fn copies_settle(sb: &SandboxHandle, account: &str, project: &str) {
    let client = helpers::rek_as_role(sb, account).await;
    let arn = sb.state().rekognition[account][DEFAULT_REGION].projects[project]
        .arn
        .clone();
    let settled = helpers::eventually(Duration::from_secs(30), || {
        let (client, arn) = (client.clone(), arn.clone());
        async move {
            let out = client
                .describe_project_versions()
                .project_arn(arn)
                .send()
                .await;
            out.is_ok_and(|o| {
                o.project_version_descriptions().iter().all(|v| {
                    v.status()
                        .is_none_or(|s| s.as_str() != "COPYING_IN_PROGRESS")
                })
            })
        }
    })
    .await;
    assert!(settled, "copies into {account}/{project} did not finish");
}

fn text(plan: &PlanDocument) -> String {
    anstream::adapter::strip_str(&reko_promote::render::plan::text(plan, true)).to_string()
}

fn find<'a>(
    plan: &'a PlanDocument,
    account: &str,
    version: &str,
) -> &'a reko_promote::plan::PlanEntry {
    plan.entries
        .iter()
        .find(|e| e.target.account.name == account && e.target.version_name == version)
        .unwrap_or_else(|| panic!("no {account}/{version} in\n{}", text(plan)))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_repository_manifests_plan_with_the_batched_minimum_of_calls() {
    let sb = helpers::start().await;
    let desired = desired_from(&[rel("manifests")]);
    sb.reset_call_counts();
    let plan = plan(&sb, &desired).await;
    assert_eq!(plan.summary.copy, 3, "{}", text(&plan));
    assert_eq!(plan.summary.policies, 1, "{}", text(&plan));
    assert!(!plan.summary.needs_attention(), "{}", text(&plan));
    // Three accounts: one role each (AssumeRole proves the account: no GetCallerIdentity), one
    // DescribeProjects each, one DescribeProjectVersions per project (each under 10 names), one
    // ListProjectPolicies for the cross-account source.
    for (operation, calls) in [
        ("AssumeRole", 3),
        ("GetCallerIdentity", 0),
        ("DescribeProjects", 3),
        ("DescribeProjectVersions", 3),
        ("ListProjectPolicies", 1),
    ] {
        assert_eq!(
            sb.calls_of(operation),
            calls,
            "{operation}: {:?}",
            sb.call_counts()
        );
    }
    assert_eq!(sb.total_calls(), 10, "{:?}", sb.call_counts());
}

fn label_reader(manage: bool) -> String {
    format!(
        "apiVersion: reko-promote/v1\nkind: Promotion\nname: label-reader\nregion: eu-west-1\n\
         source: {{ account: ml, project: label-reader, managePolicy: {manage} }}\n\
         versions: [{{ version: label-reader.v1 }}]\n\
         destinations:\n  staging: {{ account: staging, project: label-reader }}\n  \
         prod: {{ account: prod, project: label-reader }}\n"
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_cross_account_policy_blocks_until_the_statement_is_added() {
    let sb = helpers::start().await;
    let (_dir, path) = manifests(&[
        ("accounts.yaml", accounts_yaml("reko-promote-prod")),
        ("label-reader.yaml", label_reader(false)),
    ]);
    let desired = desired_from(&[path]);
    let before = plan(&sb, &desired).await;
    // The seeded policy lets staging copy; nothing lets prod.
    assert_eq!(
        find(&before, "staging", seed::LABEL_V1).action,
        Action::Copy,
        "{}",
        text(&before)
    );
    let prod = find(&before, "prod", seed::LABEL_V1);
    assert_eq!(prod.action, Action::Blocked);
    let statement = prod
        .missing_policy_statement
        .clone()
        .expect("the missing statement is shown");

    // Add exactly the statement shown, as the source account would.
    let ml = helpers::rek_as_role(&sb, seed::ML_ACCOUNT).await;
    let project_arn = prod.source.project_arn.clone().unwrap();
    let document = serde_json::json!({ "Version": "2012-10-17", "Statement": [statement] });
    ml.put_project_policy()
        .project_arn(&project_arn)
        .policy_name("allow-prod")
        .policy_document(document.to_string())
        .send()
        .await
        .expect("the shown statement is a valid project policy");
    let after = plan(&sb, &desired).await;
    assert_eq!(
        find(&after, "prod", seed::LABEL_V1).action,
        Action::Copy,
        "{}",
        text(&after)
    );
    // The policy change moves the fingerprint of the destinations it feeds.
    assert_ne!(before.fingerprints, after.fingerprints);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_progress_then_unchanged_and_a_conflict_from_another_source() {
    let sb = helpers::start().await;
    let desired = desired_from(&[rel("manifests")]);
    // Let staging copy from ml/defect-detector, then copy v2 under its manifest name, and v2
    // again under v1's manifest name (a conflict).
    let ml = helpers::rek_as_role(&sb, seed::ML_ACCOUNT).await;
    let source_project = sb.state().rekognition[seed::ML_ACCOUNT][DEFAULT_REGION].projects
        [seed::DEFECT_DETECTOR]
        .arn
        .clone();
    ml.put_project_policy()
        .project_arn(&source_project)
        .policy_name("staging")
        .policy_document(format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{}:root"}},"Action":"rekognition:CopyProjectVersion","Resource":"*"}}]}}"#,
            seed::STAGING_ACCOUNT
        ))
        .send()
        .await
        .unwrap();
    let staging = helpers::rek_as_role(&sb, seed::STAGING_ACCOUNT).await;
    let dest_project = sb.state().rekognition[seed::STAGING_ACCOUNT][DEFAULT_REGION].projects
        [seed::DEFECT_DETECTOR]
        .arn
        .clone();
    let v2 = helpers::seeded_version_arn(
        &sb,
        seed::ML_ACCOUNT,
        seed::DEFECT_DETECTOR,
        seed::DEFECT_V2,
    );
    for name in ["defect-detector-v2", "defect-detector-v1"] {
        staging
            .copy_project_version()
            .source_project_arn(&source_project)
            .source_project_version_arn(&v2)
            .destination_project_arn(&dest_project)
            .version_name(name)
            .output_config(
                aws_sdk_rekognition::types::OutputConfig::builder()
                    .s3_bucket("acme-staging-models")
                    .s3_key_prefix("rekognition/")
                    .build(),
            )
            .send()
            .await
            .unwrap();
    }
    let during = plan(&sb, &desired).await;
    assert_eq!(
        find(&during, "staging", "defect-detector-v2").action,
        Action::InProgress,
        "{}",
        text(&during)
    );
    let conflict = find(&during, "staging", "defect-detector-v1");
    assert_eq!(conflict.action, Action::Conflict, "{}", text(&during));
    assert!(
        conflict
            .diff
            .as_deref()
            .unwrap()
            .contains(&format!("+sourceProjectVersionArn: {v2}"))
    );

    copies_settle(&sb, seed::STAGING_ACCOUNT, seed::DEFECT_DETECTOR).await;
    let after = plan(&sb, &desired).await;
    assert_eq!(
        find(&after, "staging", "defect-detector-v2").action,
        Action::Unchanged,
        "{}",
        text(&after)
    );
    assert_eq!(
        find(&after, "prod", "defect-detector-v2").action,
        Action::Copy
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_account_whose_role_cannot_be_assumed_is_unknown_and_the_rest_goes_on() {
    let sb = helpers::start().await;
    let (_dir, path) = manifests(&[
        ("accounts.yaml", accounts_yaml("wrong-external-id")),
        (
            "defect-detector.yaml",
            std::fs::read_to_string(crate::support::root().join("manifests/defect-detector.yaml"))
                .unwrap(),
        ),
    ]);
    let plan = plan(&sb, &desired_from(&[path])).await;
    let prod = find(&plan, "prod", "defect-detector-v2");
    assert_eq!(prod.action, Action::Unknown, "{}", text(&plan));
    assert_eq!(plan.account_problems.len(), 1);
    let reason = &plan.account_problems[0].problem.to_string();
    assert!(
        reason.contains("arn:aws:iam::333333333333:role/reko-promote"),
        "{reason}"
    );
    // Issue 11, defect 1: one readable line, as the README promises, in every view.
    assert!(
        reason.starts_with(
            "cannot assume role arn:aws:iam::333333333333:role/reko-promote for account prod \
             (333333333333): AccessDenied: "
        ),
        "{reason}"
    );
    assert!(!reason.contains('\n') && reason.len() < 400, "{reason}");
    let views = [
        text(&plan),
        reko_promote::render::plan::markdown(&plan),
        serde_json::to_string(&plan).unwrap(),
    ];
    for view in &views {
        for debug in [
            "ProviderError",
            "SdkBody",
            "HeaderValue",
            "extensions_1x",
            "DispatchFailure",
            "Some(",
        ] {
            assert!(!view.contains(debug), "{debug} in {view}");
        }
    }
    assert!(
        reko_promote::render::plan::entry_reason(prod).contains(reason.as_str()),
        "{}",
        reko_promote::render::plan::entry_reason(prod)
    );
    assert_eq!(
        find(&plan, "staging", "defect-detector-v2").action,
        Action::Copy
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ambient_credentials_of_the_wrong_account_are_refused() {
    let sb = helpers::start().await;
    let accounts = "apiVersion: reko-promote/v1\nkind: Account\nname: ml\naccountId: \"111111111111\"\n\
                    roleArn: arn:aws:iam::111111111111:role/reko-promote\n---\n\
                    apiVersion: reko-promote/v1\nkind: Account\nname: staging\naccountId: \"222222222222\"\n\
                    defaults: { outputConfig: { s3Bucket: acme-staging-models } }\n";
    let promotion = "apiVersion: reko-promote/v1\nkind: Promotion\nname: p\nregion: eu-west-1\n\
                     source: { account: ml, project: label-reader }\nversions: [{ version: label-reader.v1 }]\n\
                     destinations: { staging: { account: staging, project: label-reader } }\n";
    let (_dir, path) = manifests(&[("a.yaml", accounts.into()), ("p.yaml", promotion.into())]);
    let plan = plan(&sb, &desired_from(&[path])).await;
    let entry = find(&plan, "staging", seed::LABEL_V1);
    assert_eq!(entry.action, Action::Unknown);
    let words = reko_promote::render::plan::entry_reason(entry);
    assert!(
        words.contains("444444444444") && words.contains("222222222222"),
        "{words}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hundreds_of_destination_versions_plan_in_batches_of_ten() {
    const N: usize = 260;
    let mut config = SandboxConfig {
        faults: Some(Faults {
            copy_duration_ms: 0,
            ..helpers::fast_faults()
        }),
        ..SandboxConfig::default()
    };
    helpers::add_bulk_project(&mut config, seed::ML_ACCOUNT, "bulk", N, |i| {
        format!("bulk.v{i:03}")
    });
    let sb: TestSandbox = helpers::start_with(config).await;

    // Copy every version into ml's own defect-detector project (same account: no policy).
    let ml = helpers::rek_as_role(&sb, seed::ML_ACCOUNT).await;
    let state = sb.state();
    let projects = &state.rekognition[seed::ML_ACCOUNT][DEFAULT_REGION].projects;
    let (source_arn, dest_arn) = (
        projects["bulk"].arn.clone(),
        projects[seed::LABEL_READER].arn.clone(),
    );
    let mut versions = String::new();
    for i in 0..N {
        let name = format!("bulk.v{i:03}");
        versions.push_str(&format!("  - {{ version: {name} }}\n"));
        if i % 3 == 0 {
            continue; // a third stays missing: planned as copies
        }
        let version_arn = projects["bulk"].versions[&name].arn.clone();
        ml.copy_project_version()
            .source_project_arn(&source_arn)
            .source_project_version_arn(version_arn)
            .destination_project_arn(&dest_arn)
            .version_name(&name)
            .output_config(
                aws_sdk_rekognition::types::OutputConfig::builder()
                    .s3_bucket("acme-ml-models")
                    .build(),
            )
            .send()
            .await
            .expect("same-account copy");
    }
    let promotion = format!(
        "apiVersion: reko-promote/v1\nkind: Promotion\nname: bulk\nregion: eu-west-1\n\
         source: {{ account: ml, project: bulk }}\n\
         defaults: {{ outputConfig: {{ s3Bucket: acme-ml-models }} }}\nversions:\n{versions}\
         destinations: {{ archive: {{ account: ml, project: label-reader }} }}\n"
    );
    let (_dir, path) = manifests(&[
        ("accounts.yaml", accounts_yaml("reko-promote-prod")),
        ("bulk.yaml", promotion),
    ]);
    let desired = desired_from(&[path]);
    sb.reset_call_counts();
    let plan = plan(&sb, &desired).await;
    let copies = (0..N).filter(|i| i % 3 == 0).count();
    assert_eq!(plan.summary.copy, copies, "{}", text(&plan));
    assert_eq!(plan.summary.unchanged, N - copies, "{}", text(&plan));
    // 26 batches of 10 names on each side, and one DescribeProjects for the one account.
    assert_eq!(
        sb.calls_of("DescribeProjectVersions"),
        52,
        "{:?}",
        sb.call_counts()
    );
    assert_eq!(sb.calls_of("DescribeProjects"), 1, "{:?}", sb.call_counts());
    assert_eq!(
        sb.calls_of("ListProjectPolicies"),
        0,
        "same-account copies need no policy"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn throttling_on_every_operation_still_yields_the_same_plan() {
    let sb = helpers::start().await;
    let desired = desired_from(&[rel("manifests")]);
    let calm = plan(&sb, &desired).await;
    let mut faults = sb.faults();
    faults
        .tps
        .insert(reko_promote::sandbox::faults::ALL_OPERATIONS.into(), 1.0);
    sb.set_faults(faults).unwrap();
    sb.reset_call_counts();
    // A client limit far above the sandbox's quota: the SDK's retries absorb the throttling.
    let ctx = context(&sb, 1000, 10).await;
    let stormy = reko_promote::pipeline::plan_live(&ctx, &desired, &RunScope::full())
        .await
        .plan;
    assert_eq!(stormy.entries, calm.entries, "{}", text(&stormy));
    assert_eq!(stormy.fingerprints, calm.fingerprints);
    let throttled: u64 = sb.call_counts().values().sum::<u64>();
    assert!(
        throttled > 13,
        "throttling happened and was retried: {:?}",
        sb.call_counts()
    );
}

fn reko(sb: &SandboxHandle) -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::cargo_bin("reko-promote").unwrap();
    cmd.current_dir(crate::support::root())
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("AWS_ENDPOINT_URL", sb.endpoint())
        .env("AWS_ACCESS_KEY_ID", seed::CI_ACCESS_KEY_ID)
        .env("AWS_SECRET_ACCESS_KEY", seed::CI_SECRET_ACCESS_KEY)
        .env("AWS_REGION", DEFAULT_REGION)
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
        .timeout(Duration::from_secs(60));
    cmd
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_exit_codes_formats_and_saved_plan() {
    let sb = helpers::start().await;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("plan.json");
    let (sbh, outr): (&SandboxHandle, PathBuf) = (&sb, out.clone());

    // Changes pending: 2.
    let assert = reko(sbh)
        .args(["plan", "--detailed-exitcode", "--out"])
        .arg(&outr)
        .arg("manifests")
        .assert()
        .code(2);
    let stdout = String::from_utf8(assert.get_output().stdout.clone()).unwrap();
    assert!(stdout.contains("Plan: 3 to copy, 0 unchanged, 0 in progress, 0 conflicts, 0 blocked, 1 policy to write."), "{stdout}");
    assert!(!stdout.contains('\u{1b}'), "no colours without a terminal");

    // The saved plan is the JSON document and holds no secret.
    let saved = std::fs::read_to_string(&outr).unwrap();
    let document: PlanDocument = serde_json::from_str(&saved).unwrap();
    assert_eq!(document.summary.copy, 3);
    for secret in [
        seed::CI_SECRET_ACCESS_KEY,
        seed::ML_SECRET_ACCESS_KEY,
        "SessionToken",
        "sessionToken",
        "ASIA",
    ] {
        assert!(!saved.contains(secret), "the saved plan contains {secret}");
    }

    // Without --detailed-exitcode: 0. Markdown and JSON render the same plan.
    reko(sbh)
        .args(["plan", "--format", "markdown", "manifests"])
        .assert()
        .success()
        .stdout(predicates::str::contains("### reko-promote plan"));
    let json = reko(sbh)
        .args(["plan", "--format", "json", "manifests"])
        .output()
        .unwrap();
    let document: PlanDocument = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(document.summary.copy, 3);

    // Blocked: 1 (label-reader to prod has no policy and managePolicy is off).
    let (_d, path) = manifests(&[
        ("accounts.yaml", accounts_yaml("reko-promote-prod")),
        ("l.yaml", label_reader(false)),
    ]);
    reko(sbh)
        .args(["plan", "--detailed-exitcode"])
        .arg(&path)
        .assert()
        .code(1);

    // Nothing to do: 0 (only label-reader to staging, copied beforehand).
    let staging = helpers::rek_as_role(sbh, seed::STAGING_ACCOUNT).await;
    let state = sbh.state();
    let source = &state.rekognition[seed::ML_ACCOUNT][DEFAULT_REGION].projects[seed::LABEL_READER];
    staging
        .copy_project_version()
        .source_project_arn(&source.arn)
        .source_project_version_arn(&source.versions[seed::LABEL_V1].arn)
        .destination_project_arn(
            &state.rekognition[seed::STAGING_ACCOUNT][DEFAULT_REGION].projects[seed::LABEL_READER]
                .arn,
        )
        .version_name(seed::LABEL_V1)
        .output_config(
            aws_sdk_rekognition::types::OutputConfig::builder()
                .s3_bucket("acme-staging-models")
                .s3_key_prefix("rekognition/")
                .build(),
        )
        .send()
        .await
        .unwrap();
    copies_settle(sbh, seed::STAGING_ACCOUNT, seed::LABEL_READER).await;
    let (_d2, path) = manifests(&[
        ("accounts.yaml", accounts_yaml("reko-promote-prod")),
        (
            "l.yaml",
            label_reader(false).replace("\n  prod: { account: prod, project: label-reader }", ""),
        ),
    ]);
    reko(sbh)
        .args(["plan", "--detailed-exitcode", "-v"])
        .arg(&path)
        .assert()
        .code(0)
        .stderr(predicates::str::contains("DescribeProjectVersions: 2"));

    // Invalid manifests: 1, with the findings on stderr and no AWS call.
    sbh.reset_call_counts();
    reko(sbh)
        .args(["plan", "tests/manifests/bad/region"])
        .assert()
        .code(1);
    assert_eq!(sbh.total_calls(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_target_that_matches_nothing_exits_1_before_any_aws_call() {
    // Issue 11, defect 2: a mistyped target used to read as "nothing to do".
    let sb = helpers::start().await;
    sb.reset_call_counts();
    let assert = reko(&sb)
        .args([
            "plan",
            "--detailed-exitcode",
            "--target",
            "defect-detectr",
            "manifests",
        ])
        .assert()
        .code(1);
    let stderr = String::from_utf8(assert.get_output().stderr.clone()).unwrap();
    assert!(
        stderr.contains("--target `defect-detectr` (did you mean `defect-detector`?)"),
        "{stderr}"
    );
    for known in ["defect-detector", "staging", "prod", "ml"] {
        assert!(stderr.contains(known), "{known}: {stderr}");
    }
    reko(&sb)
        .args([
            "apply",
            "--auto-approve",
            "--exclude",
            "nowhere",
            "manifests",
        ])
        .assert()
        .code(1)
        .stderr(predicates::str::contains("--exclude `nowhere`"));
    assert_eq!(sb.total_calls(), 0, "{:?}", sb.call_counts());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unverified_destination_gets_no_grant_and_apply_writes_nothing_for_it() {
    // Issue 11, defect 3: staging declares no role and the ambient credentials are CI's
    // (444444444444): its placement is unknown, and neither plan nor apply grants it anything.
    let sb = helpers::start().await;
    let accounts = std::fs::read_to_string(crate::support::root().join("manifests/accounts.yaml"))
        .unwrap()
        .replace("roleArn: arn:aws:iam::222222222222:role/reko-promote\n", "");
    assert!(!accounts.contains("222222222222:role"), "{accounts}");
    let (_dir, path) = manifests(&[
        ("accounts.yaml", accounts),
        ("label-reader.yaml", label_reader(true)),
    ]);
    let desired = desired_from(std::slice::from_ref(&path));
    let planned = plan(&sb, &desired).await;
    assert_eq!(
        find(&planned, "staging", seed::LABEL_V1).action,
        Action::Unknown,
        "{}",
        text(&planned)
    );
    assert!(
        planned
            .grants
            .iter()
            .all(|g| !g.grants.contains_key(seed::STAGING_ACCOUNT)),
        "{:?}",
        planned.grants
    );
    sb.reset_call_counts();
    let before = sb.state().rekognition[seed::ML_ACCOUNT][DEFAULT_REGION].projects
        [seed::LABEL_READER]
        .policies
        .clone();
    reko(&sb)
        .args(["apply", "--auto-approve"])
        .arg(&path)
        .assert()
        .code(1);
    let state = sb.state();
    let policies =
        &state.rekognition[seed::ML_ACCOUNT][DEFAULT_REGION].projects[seed::LABEL_READER].policies;
    for (name, policy) in policies {
        if before.get(name).map(|p| &p.document) != Some(&policy.document) {
            assert!(
                !policy.document.contains(seed::STAGING_ACCOUNT),
                "{name} grants staging: {}",
                policy.document
            );
        }
    }
    assert!(
        crate::managed_policies::managed_pairs(policies)
            .iter()
            .all(|(account, _)| account != seed::STAGING_ACCOUNT),
        "{:?}",
        policies.keys()
    );
    assert_eq!(
        sb.calls_of("CopyProjectVersion"),
        1,
        "{:?}",
        sb.call_counts()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn adapters_as_source_or_destination_are_blocked() {
    use aws_sdk_rekognition::types::CustomizationFeature;
    let sb = helpers::start().await;
    for (account, name) in [
        (seed::ML_ACCOUNT, "moderation"),
        (seed::STAGING_ACCOUNT, "moderation"),
    ] {
        helpers::rek_as_role(&sb, account)
            .await
            .create_project()
            .project_name(name)
            .feature(CustomizationFeature::ContentModeration)
            .auto_update(aws_sdk_rekognition::types::ProjectAutoUpdate::Enabled)
            .send()
            .await
            .unwrap();
    }
    let promotions = "apiVersion: reko-promote/v1\nkind: Promotion\nname: from-adapter\n\
                      region: eu-west-1\nsource: { account: ml, project: moderation }\n\
                      versions: [{ version: moderation.v1 }]\n\
                      destinations: { prod: { account: prod, project: label-reader } }\n---\n\
                      apiVersion: reko-promote/v1\nkind: Promotion\nname: to-adapter\n\
                      region: eu-west-1\nsource: { account: ml, project: label-reader }\n\
                      versions: [{ version: label-reader.v1 }]\n\
                      destinations: { staging: { account: staging, project: moderation } }\n";
    let (_dir, path) = manifests(&[
        ("accounts.yaml", accounts_yaml("reko-promote-prod")),
        ("p.yaml", promotions.into()),
    ]);
    let planned = plan(&sb, &desired_from(&[path])).await;
    for (account, version, side) in [
        ("prod", "moderation.v1", "source project `moderation`"),
        (
            "staging",
            seed::LABEL_V1,
            "destination project `moderation`",
        ),
    ] {
        let entry = find(&planned, account, version);
        assert_eq!(entry.action, Action::Blocked, "{}", text(&planned));
        let words = reko_promote::render::plan::entry_reason(entry);
        assert!(
            words.contains(side)
                && words.contains("is an adapter (CONTENT_MODERATION)")
                && words.contains("CopyProjectVersion does not support adapters"),
            "{words}"
        );
    }
    assert!(planned.grants.is_empty(), "{:?}", planned.grants);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_role_whose_session_lands_in_another_account_is_unknown() {
    // Issue 10, item 3: prod's role answers with a session of staging's account. The plan must
    // not read staging's projects as prod's, nor apply copy anything into "prod".
    let sb = helpers::start_with(SandboxConfig {
        faults: Some(Faults {
            misrouted_roles: [(
                seed::role_arn(seed::PROD_ACCOUNT),
                seed::STAGING_ACCOUNT.into(),
            )]
            .into(),
            ..helpers::fast_faults()
        }),
        ..SandboxConfig::default()
    })
    .await;
    let desired = desired_from(&[rel("manifests")]);
    let ctx = context(&sb, 50, 8).await;
    let live = reko_promote::pipeline::plan_live(&ctx, &desired, &RunScope::full()).await;
    let planned = &live.plan;
    let prod = find(planned, "prod", "defect-detector-v2");
    assert_eq!(prod.action, Action::Unknown, "{}", text(planned));
    let words = reko_promote::render::plan::entry_reason(prod);
    assert!(
        words.contains("lands in account 222222222222")
            && words.contains("arn:aws:sts::222222222222:assumed-role/reko-promote/"),
        "{words}"
    );
    assert_eq!(
        find(planned, "staging", "defect-detector-v2").action,
        Action::Copy
    );
    assert!(
        planned
            .grants
            .iter()
            .all(|g| !g.grants.contains_key(seed::PROD_ACCOUNT)),
        "{:?}",
        planned.grants
    );
    sb.reset_call_counts();
    let report = reko_promote::apply::apply(
        &ctx,
        &live.sessions,
        planned,
        &reko_promote::apply::ApplyOptions::default(),
        &reko_promote::apply::Progress::silent(),
        reko_promote::apply::never_interrupted(),
    )
    .await;
    assert!(!report.succeeded(true));
    // Only staging's two copies: nothing was done with prod's misrouted session.
    assert_eq!(
        sb.calls_of("CopyProjectVersion"),
        2,
        "{:?}",
        sb.call_counts()
    );
    let state = sb.state();
    let staging =
        &state.rekognition[seed::STAGING_ACCOUNT][DEFAULT_REGION].projects[seed::DEFECT_DETECTOR];
    assert_eq!(staging.versions.len(), 2, "{:?}", staging.versions.keys());
}
