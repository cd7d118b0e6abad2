//! Serving and prune (issue 16), end to end against the sandbox with the real SDK: the declared
//! running version started after its copy, a blue/green switch (the new version RUNNING before
//! the old one is stopped), units drift restarted only with `--replace-running`, prune deleting
//! only versions reko-promote made that no manifest declares any more and that are at rest (a
//! hand-made version and a serving one survive), `--no-prune` and partial runs deleting nothing,
//! and a plan after each apply with nothing left to do. The renderings and exit codes of the
//! steps are checked on the plan documents those runs produced.

use std::collections::BTreeMap;

use reko_promote::apply::{self, ApplyReport, Progress, ServingOutcome};
use reko_promote::desired::{DesiredState, InferenceUnits};
use reko_promote::plan::{
    Guard, PartialCause, PlanDocument, PruneMode, RunScope, ServingAction, ServingReason,
    ServingStep,
};
use reko_promote::sandbox::seed::{self, DEFAULT_REGION, DEFECT_DETECTOR, DEFECT_V1, DEFECT_V2};
use reko_promote::sandbox::state::VersionStatus as SandboxStatus;
use reko_promote::sandbox::{SandboxConfig, SandboxHandle};

use crate::sandbox::helpers::{self, TestSandbox, fast_faults};
use crate::support::{ci_context, desired_from, manifests};

const PROD: &str = seed::PROD_ACCOUNT;
/// A version someone made by hand in the destination project (no ownership tag).
const HAND_MADE: &str = "hand-made";
const V1: &str = "detector-v1";
const V2: &str = "detector-v2";

fn accounts_yaml() -> String {
    std::fs::read_to_string(crate::support::root().join("manifests/accounts.yaml")).unwrap()
}

/// One promotion to prod of `versions` (source version, destination name), with `destination`
/// the extra fields of the prod destination (`running`, `prune`).
fn promotion_yaml(versions: &[(&str, &str)], destination: &str) -> String {
    let versions: String = versions
        .iter()
        .map(|(source, name)| format!("  - version: {source}\n    versionName: {name}\n"))
        .collect();
    format!(
        "apiVersion: reko-promote/v1
kind: Promotion
name: detector
region: {DEFAULT_REGION}
source: {{ account: ml, project: {DEFECT_DETECTOR}, managePolicy: true }}
versions:
{versions}destinations:
  prod:
    account: prod
    project: {DEFECT_DETECTOR}
{destination}"
    )
}

fn desired(versions: &[(&str, &str)], destination: &str) -> DesiredState {
    let (_dir, path) = manifests(&[
        ("accounts.yaml", accounts_yaml()),
        ("promotion.yaml", promotion_yaml(versions, destination)),
    ]);
    desired_from(&[path])
}

/// The default organisation, fast transitions, and a hand-made version at rest in prod's
/// project.
async fn sandbox() -> TestSandbox {
    let mut config = SandboxConfig {
        faults: Some(fast_faults()),
        ..SandboxConfig::default()
    };
    let prod = config
        .seed
        .projects
        .iter_mut()
        .find(|p| p.account == PROD && p.name == DEFECT_DETECTOR)
        .unwrap();
    prod.versions.push(seed::SeedVersion {
        name: HAND_MADE.into(),
        status: SandboxStatus::TrainingCompleted,
        f1_score: Some(0.9),
        created: Some("2026-11-02T00:00:00Z".into()),
        status_message: None,
        tags: BTreeMap::new(),
    });
    helpers::start_with(config).await
}

async fn plan(sb: &SandboxHandle, desired: &DesiredState, scope: &RunScope) -> PlanDocument {
    let ctx = ci_context(sb, 50, 8).await;
    reko_promote::pipeline::plan_live(&ctx, desired, scope)
        .await
        .plan
}

/// Plans and applies that plan; returns both.
async fn plan_and_apply(
    sb: &SandboxHandle,
    desired: &DesiredState,
    scope: &RunScope,
) -> (PlanDocument, ApplyReport) {
    let ctx = ci_context(sb, 50, 8).await;
    let live = reko_promote::pipeline::plan_live(&ctx, desired, scope).await;
    let report = apply::apply(
        &ctx,
        &live.sessions,
        &live.plan,
        &crate::apply::options(),
        &Progress::silent(),
        apply::never_interrupted(),
    )
    .await;
    (live.plan, report)
}

/// Prod's versions as DescribeProjectVersions returns them: name → (status, min units, max
/// units, tags).
async fn prod_versions(
    sb: &SandboxHandle,
) -> BTreeMap<String, (String, Option<i32>, Option<i32>, BTreeMap<String, String>)> {
    let client = helpers::rek(sb, "prod").await;
    let project_arn = seed::default_project_arn(PROD, DEFECT_DETECTOR);
    let out = client
        .describe_project_versions()
        .project_arn(&project_arn)
        .send()
        .await
        .unwrap();
    let mut versions = BTreeMap::new();
    for d in out.project_version_descriptions() {
        let arn = d.project_version_arn().unwrap();
        let name = arn
            .split("/version/")
            .nth(1)
            .unwrap()
            .split('/')
            .next()
            .unwrap();
        let tags = client
            .list_tags_for_resource()
            .resource_arn(arn)
            .send()
            .await
            .unwrap()
            .tags()
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .collect();
        versions.insert(
            name.to_string(),
            (
                d.status().unwrap().as_str().to_string(),
                d.min_inference_units(),
                d.max_inference_units(),
                tags,
            ),
        );
    }
    versions
}

fn steps(plan: &PlanDocument) -> Vec<(&str, ServingAction)> {
    plan.serving
        .iter()
        .flat_map(|p| &p.steps)
        .map(|s| (s.key.version_name.as_str(), s.action))
        .collect()
}

fn step<'a>(plan: &'a PlanDocument, name: &str, action: ServingAction) -> &'a ServingStep {
    plan.serving
        .iter()
        .flat_map(|p| &p.steps)
        .find(|s| s.key.version_name == name && s.action == action)
        .unwrap_or_else(|| panic!("no {action:?} of {name} in {:#?}", plan.serving))
}

fn outcomes(report: &ApplyReport) -> Vec<(&str, ServingOutcome)> {
    report
        .serving
        .iter()
        .map(|r| (r.key.version_name.as_str(), r.outcome))
        .collect()
}

/// Nothing left to do: no copy, start, stop or delete, nothing needing attention.
fn assert_converged(plan: &PlanDocument) {
    assert!(
        !plan.summary.has_changes() && !plan.summary.needs_attention(),
        "{:#?}\n{}",
        plan.summary,
        reko_promote::render::plan::text(plan, false)
    );
    assert_eq!(plan.summary.exit_status(true, false), 0);
}

fn running(name: &str, min: u32, max: Option<u32>) -> String {
    let max = max.map(|m| format!(", max: {m}")).unwrap_or_default();
    format!("    running: {{ versionName: {name}, inferenceUnits: {{ min: {min}{max} }} }}\n")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn start_after_copy_blue_green_switch_then_prune_only_what_reko_promote_made() {
    let sb = sandbox().await;

    // 1. v1 copied, then started with its units; the hand-made version is left alone.
    let first = desired(
        &[(DEFECT_V1, V1)],
        &(running(V1, 1, None) + "    prune: true\n"),
    );
    let (plan1, report) = plan_and_apply(&sb, &first, &RunScope::full()).await;
    assert_eq!(
        steps(&plan1),
        [(V1, ServingAction::Start), (HAND_MADE, ServingAction::Keep)]
    );
    let start = step(&plan1, V1, ServingAction::Start);
    assert!(matches!(start.reason, ServingReason::StartAfterCopy { .. }));
    assert!(matches!(start.guards[0], Guard::CopyCompleted { .. }));
    assert_eq!(plan1.summary.start, 1);
    assert_eq!(
        plan1.summary.exit_status(true, false),
        2,
        "a start is a change"
    );
    let text = reko_promote::render::plan::text(&plan1, false);
    assert!(
        text.contains('▶') && text.contains("with 1 inference unit"),
        "{text}"
    );
    assert!(report.succeeded(true), "{report:#?}");
    assert_eq!(
        outcomes(&report),
        [
            (HAND_MADE, ServingOutcome::Kept),
            (V1, ServingOutcome::Started)
        ]
    );
    let live = prod_versions(&sb).await;
    assert_eq!(live[V1].0, "RUNNING");
    assert_eq!((live[V1].1, live[V1].2), (Some(1), Some(1)));
    assert_eq!(
        live[V1].3.get("reko-promote:promotion").map(String::as_str),
        Some("detector"),
        "every copy carries the ownership tag"
    );
    assert_converged(&plan(&sb, &first, &RunScope::full()).await);

    // 2. Blue/green: v2 copied, started, and only then v1 stopped.
    let second = desired(
        &[(DEFECT_V1, V1), (DEFECT_V2, V2)],
        &(running(V2, 2, Some(3)) + "    prune: true\n"),
    );
    let (plan2, report) = plan_and_apply(&sb, &second, &RunScope::full()).await;
    let stop = step(&plan2, V1, ServingAction::Stop);
    assert_eq!(stop.reason, ServingReason::Replaced { by: V2.into() });
    assert!(stop.guards.contains(&Guard::ReplacementRunning {
        version_name: V2.into()
    }));
    let text = reko_promote::render::plan::text(&plan2, false);
    assert!(
        text.contains('■') && text.contains("only once `detector-v2` is RUNNING"),
        "{text}"
    );
    let markdown = reko_promote::render::plan::markdown(&plan2);
    assert!(markdown.contains("`■` `detector-v1`"), "{markdown}");
    assert!(report.succeeded(true), "{report:#?}");
    let live = prod_versions(&sb).await;
    assert_eq!(live[V2].0, "RUNNING");
    assert_eq!((live[V2].1, live[V2].2), (Some(2), Some(3)));
    assert!(matches!(live[V1].0.as_str(), "STOPPING" | "STOPPED"));
    assert!(
        helpers::eventually(std::time::Duration::from_secs(10), || async {
            prod_versions(&sb).await[V1].0 == "STOPPED"
        })
        .await
    );
    assert_converged(&plan(&sb, &second, &RunScope::full()).await);

    // 3. v1 dropped from the manifests: a partial run and --no-prune delete nothing.
    let third = desired(
        &[(DEFECT_V2, V2)],
        &(running(V2, 2, Some(3)) + "    prune: true\n"),
    );
    let partial = RunScope::partial(vec![PartialCause::Selection {
        targets: vec!["prod".into()],
        excludes: vec![],
    }]);
    let (plan3, report) = plan_and_apply(&sb, &third, &partial).await;
    assert_eq!(plan3.serving[0].prune, PruneMode::SkippedPartial);
    assert_eq!(plan3.summary.delete, 0);
    assert!(
        reko_promote::render::plan::text(&plan3, false).contains("prune: skipped (partial run")
    );
    assert!(report.succeeded(true), "{report:#?}");
    let no_prune = RunScope {
        no_prune: true,
        ..RunScope::full()
    };
    let (plan4, report) = plan_and_apply(&sb, &third, &no_prune).await;
    assert_eq!(plan4.serving[0].prune, PruneMode::SkippedNoPrune);
    assert!(matches!(
        step(&plan4, V1, ServingAction::Keep).reason,
        ServingReason::PruneSkipped { .. }
    ));
    assert!(report.succeeded(true), "{report:#?}");
    assert!(prod_versions(&sb).await.contains_key(V1));

    // 4. A full run prunes v1 (made by reko-promote, stopped) and keeps the hand-made version.
    let (plan5, report) = plan_and_apply(&sb, &third, &RunScope::full()).await;
    let delete = step(&plan5, V1, ServingAction::Delete);
    assert_eq!(
        delete.reason,
        ServingReason::Pruned {
            promotion: "detector".into()
        }
    );
    assert_eq!(
        step(&plan5, HAND_MADE, ServingAction::Keep).reason,
        ServingReason::NotMade
    );
    assert!(report.succeeded(true), "{report:#?}");
    let live = prod_versions(&sb).await;
    assert!(!live.contains_key(V1), "{live:?}");
    assert!(
        live.contains_key(HAND_MADE) && live[V2].0 == "RUNNING",
        "{live:?}"
    );
    assert_converged(&plan(&sb, &third, &RunScope::full()).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_serving_version_reko_promote_made_is_not_pruned_without_a_replacement() {
    let sb = sandbox().await;
    let serving_v1 = desired(&[(DEFECT_V1, V1)], &running(V1, 1, None));
    let (_, report) = plan_and_apply(&sb, &serving_v1, &RunScope::full()).await;
    assert!(report.succeeded(true), "{report:#?}");

    // v1 leaves the manifests and nothing declares what runs instead: it keeps serving.
    let dropped = desired(&[(DEFECT_V2, V2)], "    prune: true\n");
    let (plan, report) = plan_and_apply(&sb, &dropped, &RunScope::full()).await;
    assert_eq!(
        step(&plan, V1, ServingAction::Keep).reason,
        ServingReason::StillServing
    );
    assert_eq!(plan.summary.delete + plan.summary.stop, 0);
    assert!(report.succeeded(true), "{report:#?}");
    let live = prod_versions(&sb).await;
    assert_eq!(live[V1].0, "RUNNING");
    assert!(live.contains_key(HAND_MADE));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn units_drift_is_shown_and_restarted_only_with_replace_running() {
    let sb = sandbox().await;
    let one = desired(&[(DEFECT_V1, V1)], &running(V1, 1, None));
    let (_, report) = plan_and_apply(&sb, &one, &RunScope::full()).await;
    assert!(report.succeeded(true), "{report:#?}");

    let more = desired(&[(DEFECT_V1, V1)], &running(V1, 2, Some(4)));
    let (drift, report) = plan_and_apply(&sb, &more, &RunScope::full()).await;
    let kept = step(&drift, V1, ServingAction::Keep);
    assert_eq!(
        kept.reason,
        ServingReason::UnitsDiffer {
            desired: InferenceUnits {
                min: 2,
                max: Some(4)
            },
            actual: InferenceUnits {
                min: 1,
                max: Some(1)
            },
        }
    );
    assert_eq!(drift.summary.drift, 1);
    assert!(!drift.summary.has_changes(), "drift alone is no change");
    assert!(report.succeeded(true), "{report:#?}");
    assert_eq!(prod_versions(&sb).await[V1].1, Some(1));

    let replace = RunScope {
        replace_running: true,
        ..RunScope::full()
    };
    let (restart, report) = plan_and_apply(&sb, &more, &replace).await;
    assert_eq!(steps(&restart), [(V1, ServingAction::Restart)]);
    assert!(report.succeeded(true), "{report:#?}");
    assert_eq!(outcomes(&report), [(V1, ServingOutcome::Restarted)]);
    let live = prod_versions(&sb).await;
    assert_eq!(
        (live[V1].0.as_str(), live[V1].1, live[V1].2),
        ("RUNNING", Some(2), Some(4))
    );
    assert_converged(&plan(&sb, &more, &RunScope::full()).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_saved_plan_goes_stale_when_a_serving_version_moves() {
    let sb = sandbox().await;
    let one = desired(&[(DEFECT_V1, V1)], &running(V1, 1, None));
    let (_, report) = plan_and_apply(&sb, &one, &RunScope::full()).await;
    assert!(report.succeeded(true), "{report:#?}");
    let two = desired(&[(DEFECT_V1, V1), (DEFECT_V2, V2)], &running(V2, 1, None));
    let saved = plan(&sb, &two, &RunScope::full()).await;
    // Someone starts the hand-made version: the serving state the reviewer saw moved (only
    // the serving part of the plan reads that version).
    let client = helpers::rek(&sb, "prod").await;
    let arn = helpers::seeded_version_arn(&sb, PROD, DEFECT_DETECTOR, HAND_MADE);
    client
        .start_project_version()
        .project_version_arn(arn)
        .min_inference_units(1)
        .send()
        .await
        .unwrap();
    let fresh = plan(&sb, &two, &RunScope::full()).await;
    let error = apply::stale::check(&saved, &fresh).unwrap_err();
    assert!(
        matches!(error, apply::stale::StaleError::Serving { .. }),
        "{error}"
    );
    assert!(
        error.to_string().contains("prod/defect-detector"),
        "{error}"
    );
}
