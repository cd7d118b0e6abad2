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
use crate::support::{ci_context, desired_from, manifests, run_in_ci};

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
    // The sandbox's status history proves the order: v2 RUNNING before v1 began stopping.
    let history = sb.history();
    let v1_arn = helpers::seeded_version_arn(&sb, PROD, DEFECT_DETECTOR, V1);
    let v2_arn = helpers::seeded_version_arn(&sb, PROD, DEFECT_DETECTOR, V2);
    let green = helpers::change(&history, &v2_arn, SandboxStatus::Running);
    let blue = helpers::change(&history, &v1_arn, SandboxStatus::Stopping);
    assert!(
        (green.at_ms, green.seq) < (blue.at_ms, blue.seq),
        "v2 RUNNING {green:?} must come before v1 STOPPING {blue:?}"
    );
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
async fn a_failed_start_is_reported_with_aws_message_and_the_old_version_keeps_serving() {
    let sb = sandbox().await;
    sb.set_faults(reko_promote::sandbox::Faults {
        start_fail_versions: vec![V2.into()],
        ..fast_faults()
    })
    .unwrap();
    let serving_v1 = desired(&[(DEFECT_V1, V1)], &running(V1, 1, None));
    let (_, report) = plan_and_apply(&sb, &serving_v1, &RunScope::full()).await;
    assert!(report.succeeded(true), "{report:#?}");

    let switch = desired(&[(DEFECT_V1, V1), (DEFECT_V2, V2)], &running(V2, 1, None));
    let (_, report) = plan_and_apply(&sb, &switch, &RunScope::full()).await;
    assert!(!report.succeeded(true));
    assert_eq!(
        outcomes(&report),
        [(V2, ServingOutcome::Failed), (V1, ServingOutcome::Skipped)]
    );
    let failed = &report.serving[0];
    let message = sb.faults().start_failure_message;
    assert_eq!(
        failed.reason,
        apply::ServingReportReason::StartFailed {
            status_message: Some(message.clone())
        }
    );
    let text = reko_promote::render::apply::text(&report);
    assert!(text.contains(&message), "{text}");
    assert!(
        text.contains("only once `detector-v2` is RUNNING did not hold"),
        "{text}"
    );
    let live = prod_versions(&sb).await;
    assert_eq!(live[V1].0, "RUNNING", "the old version keeps serving");
    assert_eq!(live[V2].0, "FAILED");
    // v1 never stopped.
    let v1_arn = helpers::seeded_version_arn(&sb, PROD, DEFECT_DETECTOR, V1);
    assert!(
        !sb.history()
            .iter()
            .any(|c| c.arn == v1_arn && c.status == SandboxStatus::Stopping)
    );
    // The next plan tries the start again, saying why.
    let again = plan(&sb, &switch, &RunScope::full()).await;
    assert_eq!(
        step(&again, V2, ServingAction::Start).reason,
        ServingReason::StartFailedBefore {
            status_message: Some(message)
        }
    );
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
async fn with_no_wait_a_start_after_a_copy_is_pending_and_the_next_apply_makes_it() {
    let sb = sandbox().await;
    let serving_v1 = desired(&[(DEFECT_V1, V1)], &running(V1, 1, None));
    let ctx = ci_context(&sb, 50, 8).await;
    let live = reko_promote::pipeline::plan_live(&ctx, &serving_v1, &RunScope::full()).await;
    let no_wait = apply::ApplyOptions {
        wait: false,
        ..crate::apply::options()
    };
    let report = apply::apply(
        &ctx,
        &live.sessions,
        &live.plan,
        &no_wait,
        &Progress::silent(),
        apply::never_interrupted(),
    )
    .await;
    assert_eq!(outcomes(&report), [(V1, ServingOutcome::Pending)]);
    assert!(
        report.succeeded(false),
        "pending is no failure with --no-wait"
    );
    assert!(!report.succeeded(true));
    assert!(
        helpers::eventually(std::time::Duration::from_secs(10), || async {
            prod_versions(&sb).await[V1].0 == "COPYING_COMPLETED"
        })
        .await
    );
    let (plan, report) = plan_and_apply(&sb, &serving_v1, &RunScope::full()).await;
    assert!(matches!(
        step(&plan, V1, ServingAction::Start).reason,
        ServingReason::NotRunning { .. }
    ));
    assert_eq!(outcomes(&report), [(V1, ServingOutcome::Started)]);
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

// Pure planning on plain values: a live state written by hand, the plan computed from it.

mod pure {
    use super::*;
    use reko_promote::state::{
        LiveProject, LiveState, LiveVersion, ProjectFeature, ProjectKey, VersionStatus,
    };

    const ML: &str = seed::ML_ACCOUNT;

    fn key(account: &str) -> ProjectKey {
        ProjectKey {
            account_id: account.into(),
            region: DEFAULT_REGION.into(),
            name: DEFECT_DETECTOR.into(),
        }
    }

    fn arn(account: &str, version: &str) -> String {
        format!(
            "arn:aws:rekognition:{DEFAULT_REGION}:{account}:project/{DEFECT_DETECTOR}/version/{version}/1"
        )
    }

    fn version(
        account: &str,
        name: &str,
        status: VersionStatus,
        source: Option<&str>,
    ) -> LiveVersion {
        LiveVersion {
            arn: arn(account, name),
            status,
            status_message: None,
            source_project_version_arn: source.map(|s| arn(ML, s)),
            kms_key_id: None,
            output_config: None,
            f1_score: Some(0.9),
            creation_timestamp: None,
            min_inference_units: Some(1),
            max_inference_units: Some(1),
        }
    }

    /// Both source versions trained, prod listed with `prod` (name, status, made by
    /// reko-promote).
    fn live(prod: &[(&str, VersionStatus, bool)]) -> LiveState {
        let mut live = LiveState::default();
        for account in [ML, PROD] {
            live.projects.insert(
                key(account),
                Some(LiveProject {
                    arn: format!(
                        "arn:aws:rekognition:{DEFAULT_REGION}:{account}:project/{DEFECT_DETECTOR}/1"
                    ),
                    status: "CREATED".into(),
                    feature: ProjectFeature::CustomLabels,
                }),
            );
        }
        let ml = live.versions.entry(key(ML)).or_default();
        for v in [DEFECT_V1, DEFECT_V2] {
            ml.insert(
                v.into(),
                Some(version(ML, v, VersionStatus::TrainingCompleted, None)),
            );
        }
        live.policies.insert(key(ML), Vec::new());
        live.listed.insert(key(PROD));
        let sources = BTreeMap::from([(V1, DEFECT_V1), (V2, DEFECT_V2)]);
        let mut versions = BTreeMap::new();
        for name in [V1, V2] {
            versions.insert(name.to_string(), None);
        }
        for (name, status, ours) in prod {
            let v = version(PROD, name, status.clone(), sources.get(name).copied());
            let tags = if *ours {
                BTreeMap::from([("reko-promote:promotion".to_string(), "detector".to_string())])
            } else {
                BTreeMap::new()
            };
            live.version_tags.insert(v.arn.clone(), tags);
            versions.insert(name.to_string(), Some(v));
        }
        live.versions.insert(key(PROD), versions);
        live
    }

    fn compute(desired: &DesiredState, live: &LiveState, scope: &RunScope) -> PlanDocument {
        reko_promote::plan::compute(desired, live, scope)
    }

    #[test]
    fn a_hand_made_serving_version_is_never_stopped_and_ours_only_after_the_switch() {
        let desired = desired(&[(DEFECT_V1, V1), (DEFECT_V2, V2)], &running(V2, 1, None));
        let live = live(&[
            (V1, VersionStatus::Running, true),
            (V2, VersionStatus::CopyingCompleted, true),
            (HAND_MADE, VersionStatus::Running, false),
        ]);
        let plan = compute(&desired, &live, &RunScope::full());
        assert_eq!(
            steps(&plan),
            [
                (V2, ServingAction::Start),
                (V1, ServingAction::Stop),
                (HAND_MADE, ServingAction::Keep),
            ]
        );
        assert_eq!(
            step(&plan, HAND_MADE, ServingAction::Keep).reason,
            ServingReason::NotMade
        );
        assert_eq!((plan.summary.start, plan.summary.stop), (1, 1));
    }

    #[test]
    fn nothing_is_stopped_while_the_declared_version_cannot_start() {
        let desired = desired(&[(DEFECT_V1, V1), (DEFECT_V2, V2)], &running(V2, 1, None));
        let live = live(&[
            (V1, VersionStatus::Running, true),
            (V2, VersionStatus::CopyingFailed, true),
        ]);
        let plan = compute(&desired, &live, &RunScope::full());
        assert!(matches!(
            step(&plan, V2, ServingAction::Keep).reason,
            ServingReason::NotReady { .. }
        ));
        assert_eq!(
            step(&plan, V1, ServingAction::Keep).reason,
            ServingReason::WaitingForReplacement { by: V2.into() }
        );
        assert_eq!(plan.summary.stop, 0);
    }

    #[test]
    fn prune_skips_busy_and_unreadable_versions_and_deletes_a_stopped_one_after_its_stop() {
        let desired = desired(
            &[(DEFECT_V2, V2)],
            &(running(V2, 1, None) + "    prune: true\n"),
        );
        let mut live = live(&[
            (V1, VersionStatus::Running, true),
            (V2, VersionStatus::Running, true),
            ("old-copying", VersionStatus::CopyingInProgress, true),
            ("old-stopped", VersionStatus::Stopped, true),
            ("unreadable", VersionStatus::Stopped, false),
        ]);
        let unreadable = arn(PROD, "unreadable");
        live.version_tags.remove(&unreadable);
        live.tag_errors.insert(
            unreadable,
            reko_promote::aws::AwsError {
                operation: reko_promote::aws::Operation::ListTagsForResource,
                account: "prod".into(),
                account_id: PROD.into(),
                arn: None,
                code: Some("AccessDeniedException".into()),
                message: "denied".into(),
                request_id: None,
                kind: reko_promote::aws::ErrorKind::AccessDenied,
            },
        );
        let plan = compute(&desired, &live, &RunScope::full());
        let delete = step(&plan, V1, ServingAction::Delete);
        assert_eq!(
            delete.guards[0],
            Guard::Stopped,
            "deleted once the stop is done"
        );
        assert!(matches!(
            step(&plan, "old-stopped", ServingAction::Delete).reason,
            ServingReason::Pruned { .. }
        ));
        assert_eq!(
            step(&plan, "old-copying", ServingAction::Keep).reason,
            ServingReason::Busy {
                status: VersionStatus::CopyingInProgress
            }
        );
        assert!(matches!(
            step(&plan, "unreadable", ServingAction::Keep).reason,
            ServingReason::OwnershipUnreadable { .. }
        ));
        assert_eq!(plan.summary.delete, 2);
        assert_eq!(plan.summary.exit_status(true, false), 2);
        let json = serde_json::to_value(&plan).unwrap();
        assert_eq!(json["formatVersion"], 5);
        assert_eq!(json["serving"][0]["prune"], "on");
        assert!(
            json["serving"][0]["steps"]
                .as_array()
                .unwrap()
                .iter()
                .any(|s| s["action"] == "delete" && s["reason"]["code"] == "pruned")
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_plans_serving_steps_and_applies_exactly_the_saved_plan() {
    let sb = sandbox().await;
    let (dir, path) = manifests(&[
        ("accounts.yaml", accounts_yaml()),
        (
            "promotion.yaml",
            promotion_yaml(
                &[(DEFECT_V1, V1)],
                &(running(V1, 1, None) + "    prune: true\n"),
            ),
        ),
    ]);
    let dir_arg = path.to_str().unwrap();
    let plan_file = dir.path().join("plan.json");
    let plan_arg = plan_file.to_str().unwrap();
    // A start is a change (exit 2); --no-prune is recorded in the plan's scope.
    let (code, _) = run_in_ci(
        &sb,
        &[
            "plan",
            "--detailed-exitcode",
            "--no-prune",
            "--out",
            plan_arg,
            dir_arg,
        ],
        &[],
    );
    assert_eq!(code, 2);
    let saved: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&plan_file).unwrap()).unwrap();
    assert_eq!(saved["scope"]["noPrune"], true);
    assert_eq!(saved["summary"]["start"], 1);
    assert_eq!(saved["serving"][0]["prune"], "skipped-no-prune");
    // The saved plan is applied as reviewed: the same flags, the copy, then the start.
    let (code, stdout) = run_in_ci(
        &sb,
        &[
            "apply",
            "--plan",
            plan_arg,
            "--no-prune",
            "--format",
            "json",
            dir_arg,
        ],
        &[],
    );
    assert_eq!(code, 0, "{stdout}");
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(report["formatVersion"], 3);
    assert_eq!(report["summary"]["versionsStarted"], 1);
    assert_eq!(prod_versions(&sb).await[V1].0, "RUNNING");
    // Nothing left to do.
    let (code, stdout) = run_in_ci(&sb, &["plan", "--detailed-exitcode", dir_arg], &[]);
    assert_eq!(code, 0, "{stdout}");
    assert!(
        stdout.contains("RUNNING with 1 inference unit, as declared"),
        "{stdout}"
    );
}
