//! The promotion lifecycle (issue 15): quality gates and promotion chains with soak time.
//! Pure planning on plain values (gates passing and failing on F1 and tags, chains of any
//! depth, soak measured against the plan's "now", the renderings and exit codes), then against
//! the sandbox with the real SDK: tags read with ListTagsForResource on version ARNs, a held
//! placement never copied, and a dev → staging → prod chain with a 24 h soak passed by moving
//! the sandbox's clock, apply run at each step.

use std::collections::BTreeMap;
use std::time::Duration;

use reko_promote::apply::{self, Progress};
use reko_promote::desired::{DesiredState, PlacementKey, Score};
use reko_promote::plan::{self, Action, PlanDocument, Reason, RunScope};
use reko_promote::sandbox::seed::{self, DEFAULT_REGION, DEFECT_DETECTOR, DEFECT_V2};
use reko_promote::sandbox::{SandboxConfig, SandboxHandle};
use reko_promote::state::{
    LiveProject, LiveState, LiveVersion, ProjectFeature, ProjectKey, Timestamp, VersionStatus,
};

use crate::sandbox::helpers::{self, fast_faults};
use crate::support::{ci_context, desired_from, manifests};

const ML: &str = seed::ML_ACCOUNT;
const DEV: &str = "555555555555";
const STAGING: &str = seed::STAGING_ACCOUNT;
const PROD: &str = seed::PROD_ACCOUNT;

fn accounts_yaml() -> String {
    let account = |name: &str, id: &str, extra: &str| {
        format!(
            "apiVersion: reko-promote/v1\nkind: Account\nname: {name}\naccountId: \"{id}\"\n\
             roleArn: arn:aws:iam::{id}:role/reko-promote\n{extra}"
        )
    };
    [
        account("ml", ML, ""),
        account(
            "dev",
            DEV,
            "defaults: { outputConfig: { s3Bucket: acme-dev-models } }\n",
        ),
        account(
            "staging",
            STAGING,
            "defaults: { outputConfig: { s3Bucket: acme-staging-models } }\n",
        ),
        account(
            "prod",
            PROD,
            "externalId: reko-promote-prod\ndefaults: { outputConfig: { s3Bucket: acme-prod-models } }\n",
        ),
    ]
    .join("---\n")
}

/// The issue's example: promotion-level gates, a version-level override, dev → staging → prod
/// with a 24 h soak before prod.
fn promotion_yaml(gates: &str, version_gates: &str) -> String {
    format!(
        "apiVersion: reko-promote/v1
kind: Promotion
name: defect-detector
region: {DEFAULT_REGION}
source: {{ account: ml, project: {DEFECT_DETECTOR}, managePolicy: true }}
{gates}
versions:
  - version: {DEFECT_V2}
{version_gates}
destinations:
  dev:     {{ account: dev, project: {DEFECT_DETECTOR} }}
  staging: {{ account: staging, project: {DEFECT_DETECTOR}, after: dev }}
  prod:    {{ account: prod, project: {DEFECT_DETECTOR}, after: staging, soak: 24h }}
"
    )
}

fn chain_desired(gates: &str, version_gates: &str) -> DesiredState {
    let (_dir, path) = manifests(&[
        ("accounts.yaml", accounts_yaml()),
        ("promotion.yaml", promotion_yaml(gates, version_gates)),
    ]);
    desired_from(&[path])
}

const GATES: &str = "gates:\n  minF1Score: 0.90\n  requireTags: { approved: \"true\" }";

fn key(account: &str) -> ProjectKey {
    ProjectKey {
        account_id: account.into(),
        region: DEFAULT_REGION.into(),
        name: DEFECT_DETECTOR.into(),
    }
}

fn version_arn(account: &str, created: i64) -> String {
    format!(
        "arn:aws:rekognition:{DEFAULT_REGION}:{account}:project/{DEFECT_DETECTOR}/version/{DEFECT_V2}/{created}"
    )
}

fn source_arn() -> String {
    version_arn(ML, 1_700_000_000_000)
}

fn at(text: &str) -> Timestamp {
    Timestamp::parse_rfc3339(text).unwrap()
}

/// Every project exists; the source version has `f1` and `tags`; `copies` are the destination
/// accounts holding a completed copy from that source, with their CreationTimestamp.
fn live(
    f1: Option<f32>,
    tags: &[(&str, &str)],
    copies: &[(&str, &str)],
    policies_read: bool,
) -> LiveState {
    let mut live = LiveState::default();
    for account in [ML, DEV, STAGING, PROD] {
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
        live.versions
            .entry(key(account))
            .or_default()
            .insert(DEFECT_V2.into(), None);
    }
    live.versions.get_mut(&key(ML)).unwrap().insert(
        DEFECT_V2.into(),
        Some(LiveVersion {
            arn: source_arn(),
            status: VersionStatus::TrainingCompleted,
            status_message: None,
            source_project_version_arn: None,
            kms_key_id: None,
            output_config: None,
            f1_score: f1,
            creation_timestamp: None,
            min_inference_units: None,
            max_inference_units: None,
        }),
    );
    live.version_tags.insert(
        source_arn(),
        tags.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    );
    for (account, created) in copies {
        live.versions.get_mut(&key(account)).unwrap().insert(
            DEFECT_V2.into(),
            Some(LiveVersion {
                arn: version_arn(account, 1),
                status: VersionStatus::CopyingCompleted,
                status_message: None,
                source_project_version_arn: Some(source_arn()),
                kms_key_id: None,
                output_config: None,
                f1_score: f1,
                creation_timestamp: Some(at(created)),
                min_inference_units: None,
                max_inference_units: None,
            }),
        );
    }
    if policies_read {
        live.policies.insert(key(ML), Vec::new());
    }
    live
}

fn reason_of<'a>(plan: &'a PlanDocument, destination: &str) -> &'a Reason {
    &plan
        .entries
        .iter()
        .find(|e| e.key.destination == destination)
        .unwrap_or_else(|| panic!("no entry for {destination}"))
        .reason
}

fn after(destination: &str) -> PlacementKey {
    PlacementKey {
        promotion: "defect-detector".into(),
        destination: destination.into(),
        version_name: DEFECT_V2.into(),
    }
}

const NOW: &str = "2026-11-23T10:00:00Z";

fn compute(desired: &DesiredState, live: &LiveState, now: &str) -> PlanDocument {
    plan::compute_at(desired, live, &RunScope::full(), at(now))
}

#[test]
fn version_gates_override_the_promotion_gates_field_by_field() {
    let desired = chain_desired(GATES, "    gates: { minF1Score: 0.95 }");
    for p in &desired.placements {
        assert_eq!(p.lifecycle.gates.min_f1_score, Some(Score(0.95)));
        assert_eq!(
            p.lifecycle.gates.require_tags,
            BTreeMap::from([("approved".to_string(), "true".to_string())])
        );
    }
    let prod = desired
        .placements
        .iter()
        .find(|p| p.destination == "prod")
        .unwrap();
    let chain = prod.lifecycle.after.as_ref().unwrap();
    assert_eq!(chain.key, after("staging"));
    assert_eq!(chain.soak_seconds, Some(24 * 3600));
    assert_eq!(chain.project.account_id, STAGING);
}

#[test]
fn a_failing_f1_gate_holds_every_destination_and_grants_nothing() {
    let desired = chain_desired(GATES, "");
    let plan = compute(
        &desired,
        &live(Some(0.87), &[("approved", "true")], &[], true),
        NOW,
    );
    for destination in ["dev", "staging", "prod"] {
        assert_eq!(
            reason_of(&plan, destination),
            &Reason::GateF1Below {
                f1_score: Score(0.87),
                min_f1_score: Score(0.9)
            }
        );
    }
    assert_eq!(plan.summary.held, 3);
    assert_eq!(plan.summary.copy, 0);
    assert!(
        plan.grants.iter().all(|g| g.grants.is_empty()),
        "a held placement grants nothing: {:?}",
        plan.grants
    );
    let text = reko_promote::render::plan::text(&plan, false);
    assert!(text.contains("F1 0.87 < 0.9"), "{text}");
    assert!(text.contains("Held (not copied yet"), "{text}");
    assert!(text.contains("3 held"), "{text}");
    // A held placement alone is no change; --fail-on-held makes it an error.
    assert_eq!(plan.summary.exit_status(true, false), 0);
    assert_eq!(plan.summary.exit_status(true, true), 1);
    assert_eq!(plan.summary.exit_status(false, true), 1);
}

/// Tags of a source version, as (key, value) pairs.
type Tags<'a> = &'a [(&'a str, &'a str)];

#[test]
fn gates_on_tags_and_missing_scores() {
    let desired = chain_desired(GATES, "");
    let cases: [(Option<f32>, Tags, Reason); 3] = [
        (
            Some(0.95),
            &[],
            Reason::GateTagMissing {
                key: "approved".into(),
                required: "true".into(),
            },
        ),
        (
            Some(0.95),
            &[("approved", "false")],
            Reason::GateTagDifferent {
                key: "approved".into(),
                required: "true".into(),
                actual: "false".into(),
            },
        ),
        (
            None,
            &[("approved", "true")],
            Reason::GateNoF1Score {
                min_f1_score: Score(0.9),
            },
        ),
    ];
    for (f1, tags, expected) in cases {
        let plan = compute(&desired, &live(f1, tags, &[], true), NOW);
        assert_eq!(reason_of(&plan, "dev"), &expected);
        assert_eq!(plan.summary.held, 3);
    }
    let plan = compute(&desired, &live(Some(0.95), &[], &[], true), NOW);
    let text = reko_promote::render::plan::text(&plan, false);
    assert!(text.contains("tag approved is missing"), "{text}");
}

#[test]
fn a_chain_holds_each_step_until_its_predecessor_is_there_and_soaked() {
    let desired = chain_desired(GATES, "");
    let tags: &[(&str, &str)] = &[("approved", "true")];

    // Nothing anywhere: dev is copied, staging waits for dev, prod waits for a held staging.
    let plan = compute(&desired, &live(Some(0.95), tags, &[], true), NOW);
    assert_eq!(plan.entries.len(), 3);
    let dev = plan
        .entries
        .iter()
        .find(|e| e.key.destination == "dev")
        .unwrap();
    assert_eq!(dev.action, Action::Copy);
    assert_eq!(
        reason_of(&plan, "staging"),
        &Reason::WaitingFor {
            after: after("dev")
        }
    );
    assert_eq!(
        reason_of(&plan, "prod"),
        &Reason::AfterHeld {
            after: after("staging")
        }
    );
    // Only dev's version is granted (to the dev account).
    let granted: Vec<&String> = plan.grants.iter().flat_map(|g| g.grants.keys()).collect();
    assert_eq!(granted, [&DEV.to_string()]);

    // dev holds it: staging is copied, prod waits for staging (which is not held).
    let plan = compute(
        &desired,
        &live(Some(0.95), tags, &[(DEV, "2026-11-23T08:00:00Z")], true),
        NOW,
    );
    assert_eq!(
        reason_of(&plan, "dev"),
        &Reason::Present {
            status: VersionStatus::CopyingCompleted
        }
    );
    assert!(matches!(
        reason_of(&plan, "staging"),
        Reason::CopyAfterManagedPolicy
    ));
    assert_eq!(
        reason_of(&plan, "prod"),
        &Reason::WaitingFor {
            after: after("staging")
        }
    );

    // staging holds it since 09:30: prod soaks until 09:30 the next day.
    let copies = [
        (DEV, "2026-11-23T08:00:00Z"),
        (STAGING, "2026-11-23T09:30:00Z"),
    ];
    let state = live(Some(0.95), tags, &copies, true);
    let plan = compute(&desired, &state, NOW);
    assert_eq!(
        reason_of(&plan, "prod"),
        &Reason::Soaking {
            after: after("staging"),
            soak_seconds: 24 * 3600,
            copied_at: at("2026-11-23T09:30:00Z"),
            eligible_at: at("2026-11-24T09:30:00Z"),
        }
    );
    let text = reko_promote::render::plan::text(&plan, false);
    assert!(
        text.contains("eligible after 2026-11-24T09:30:00Z"),
        "{text}"
    );
    let markdown = reko_promote::render::plan::markdown(&plan);
    assert!(markdown.contains("```mermaid\nflowchart LR"), "{markdown}");
    assert!(
        markdown.contains("defect_detector__staging -- \"soak 1day\" --> defect_detector__prod"),
        "{markdown}"
    );
    assert!(markdown.contains("prod (1 held)"), "{markdown}");
    let json = serde_json::to_value(&plan).unwrap();
    assert_eq!(json["formatVersion"], 5);
    let prod = json["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["key"]["destination"] == "prod")
        .unwrap();
    assert_eq!(prod["reason"]["code"], "soaking", "{prod:#}");
    assert_eq!(
        prod["reason"]["eligibleAt"], "2026-11-24T09:30:00Z",
        "{prod:#}"
    );
    assert_eq!(json["chains"].as_array().unwrap().len(), 2);

    // A second before the soak ends it still soaks; at its end prod is copied.
    let plan = compute(&desired, &state, "2026-11-24T09:29:59Z");
    assert_eq!(plan.summary.held, 1);
    let plan = compute(&desired, &state, "2026-11-24T09:30:00Z");
    assert_eq!(plan.summary.held, 0);
    assert!(matches!(
        reason_of(&plan, "prod"),
        Reason::CopyAfterManagedPolicy
    ));
}

#[test]
fn a_copy_from_another_source_in_the_predecessor_does_not_count() {
    let desired = chain_desired("", "");
    let mut state = live(Some(0.95), &[], &[(DEV, "2026-11-20T00:00:00Z")], true);
    let dev = state
        .versions
        .get_mut(&key(DEV))
        .unwrap()
        .get_mut(DEFECT_V2)
        .unwrap()
        .as_mut()
        .unwrap();
    dev.source_project_version_arn = Some(version_arn(ML, 42));
    let plan = compute(&desired, &state, NOW);
    assert_eq!(
        plan.entries
            .iter()
            .find(|e| e.key.destination == "dev")
            .unwrap()
            .action,
        Action::Conflict
    );
    assert_eq!(
        reason_of(&plan, "staging"),
        &Reason::WaitingFor {
            after: after("dev")
        }
    );
}

// ---- against the sandbox ----

/// The default organisation plus a `dev` account (role trusted by CI, an empty
/// `defect-detector` project), `approved` tags on the source version as given.
fn chain_sandbox(tags: &[(&str, &str)]) -> SandboxConfig {
    let mut config = SandboxConfig {
        faults: Some(fast_faults()),
        ..SandboxConfig::default()
    };
    let s = &mut config.seed;
    s.accounts.push(seed::SeedAccount {
        id: DEV.into(),
        name: "dev".into(),
        user_name: None,
        access_key_id: "AKIASANDBOXDEV000001".into(),
        secret_access_key: "sandboxDevSecretKey000000000000000000001".into(),
    });
    s.roles.push(seed::SeedRole {
        arn: seed::role_arn(DEV),
        trusted: vec![seed::CI_ACCOUNT.into()],
        external_id: None,
        max_session_duration: Some(3600),
    });
    let mut dev_project = s
        .projects
        .iter()
        .find(|p| p.account == STAGING && p.name == DEFECT_DETECTOR)
        .unwrap()
        .clone();
    dev_project.account = DEV.into();
    s.projects.push(dev_project);
    let source = s
        .projects
        .iter_mut()
        .find(|p| p.account == ML && p.name == DEFECT_DETECTOR)
        .unwrap();
    let v2 = source
        .versions
        .iter_mut()
        .find(|v| v.name == DEFECT_V2)
        .unwrap();
    v2.tags = tags
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    config
}

/// Plans at the sandbox's clock and applies that plan; returns the plan.
async fn plan_and_apply(sb: &SandboxHandle, desired: &DesiredState) -> PlanDocument {
    let ctx = ci_context(sb, 50, 8).await;
    let now = Timestamp::from_epoch_millis(sb.clock_millis() as i64).unwrap();
    let live = reko_promote::pipeline::plan_live_at(&ctx, desired, &RunScope::full(), now).await;
    let report = apply::apply(
        &ctx,
        &live.sessions,
        &live.plan,
        &crate::apply::options(),
        &Progress::silent(),
        apply::never_interrupted(),
    )
    .await;
    assert!(report.succeeded(true), "{report:#?}");
    live.plan
}

fn actions(plan: &PlanDocument) -> Vec<(&str, Action)> {
    plan.entries
        .iter()
        .map(|e| (e.key.destination.as_str(), e.action))
        .collect()
}

#[tokio::test]
async fn sandbox_gates_read_version_tags_and_a_held_placement_is_never_copied() {
    let sb = helpers::start_with(chain_sandbox(&[("approved", "no")])).await;
    let desired = chain_desired(GATES, "");
    let plan = plan_and_apply(&sb, &desired).await;
    assert_eq!(
        reason_of(&plan, "dev"),
        &Reason::GateTagDifferent {
            key: "approved".into(),
            required: "true".into(),
            actual: "no".into()
        }
    );
    assert_eq!(plan.summary.held, 3);
    assert_eq!(sb.calls_of("CopyProjectVersion"), 0, "held: never copied");
    assert_eq!(sb.calls_of("PutProjectPolicy"), 0, "held: nothing granted");
    assert_eq!(
        sb.calls_of("ListTagsForResource"),
        1,
        "one tag read for the one gated source version, whatever its destinations"
    );

    // Approve the version in the source account: the gate passes, dev is copied.
    let ml = helpers::rek(&sb, "ml").await;
    let arn = helpers::seeded_version_arn(&sb, ML, DEFECT_DETECTOR, DEFECT_V2);
    ml.tag_resource()
        .resource_arn(&arn)
        .tags("approved", "true")
        .send()
        .await
        .unwrap();
    let plan = plan_and_apply(&sb, &desired).await;
    assert_eq!(
        actions(&plan),
        [
            ("staging", Action::Held),
            ("prod", Action::Held),
            ("dev", Action::Copy)
        ]
    );
    assert_eq!(sb.calls_of("CopyProjectVersion"), 1);

    // Without `requireTags`, no tag is read at all.
    let tags_read = sb.calls_of("ListTagsForResource");
    plan_and_apply(&sb, &chain_desired("gates: { minF1Score: 0.9 }", "")).await;
    assert_eq!(sb.calls_of("ListTagsForResource"), tags_read);
}

#[tokio::test]
async fn sandbox_chain_dev_staging_prod_with_a_day_of_soak() {
    let sb = helpers::start_with(chain_sandbox(&[("approved", "true")])).await;
    let desired = chain_desired(GATES, "");
    let copies = || sb.calls_of("CopyProjectVersion");

    // 1: dev is copied; staging waits for it, prod for a held staging.
    let plan = plan_and_apply(&sb, &desired).await;
    assert_eq!(plan.summary.copy, 1);
    assert_eq!(plan.summary.held, 2);
    assert_eq!(copies(), 1);

    // 2: staging is copied; prod waits for it.
    let plan = plan_and_apply(&sb, &desired).await;
    assert_eq!(
        reason_of(&plan, "prod"),
        &Reason::WaitingFor {
            after: after("staging")
        }
    );
    assert_eq!(copies(), 2);

    // 3: prod soaks for a day after staging's copy; apply copies nothing.
    let plan = plan_and_apply(&sb, &desired).await;
    let Reason::Soaking {
        copied_at,
        eligible_at,
        ..
    } = reason_of(&plan, "prod").clone()
    else {
        panic!("prod soaks: {:?}", reason_of(&plan, "prod"));
    };
    assert_eq!(eligible_at, copied_at.plus(Duration::from_secs(24 * 3600)));
    assert_eq!(copies(), 2, "a soaking placement is never copied");

    // 4: a day later by the sandbox's clock (no sleeping), prod is copied.
    sb.advance_clock(Duration::from_secs(23 * 3600));
    let plan = plan_and_apply(&sb, &desired).await;
    assert_eq!(plan.summary.held, 1, "23 h is not yet a day");
    sb.advance_clock(Duration::from_secs(3600));
    let plan = plan_and_apply(&sb, &desired).await;
    assert_eq!(plan.summary.held, 0);
    assert_eq!(plan.summary.copy, 1);
    assert_eq!(copies(), 3);
    let plan = plan_and_apply(&sb, &desired).await;
    assert_eq!(plan.summary.unchanged, 3);
}

/// Runs the CLI as CI would, at `now` (`REKO_PROMOTE_NOW`) when given: exit code and stdout.
fn cli(sb: &SandboxHandle, args: &[&str], now: Option<&str>) -> (i32, String) {
    let env: Vec<(&str, &str)> = now
        .map(|now| ("REKO_PROMOTE_NOW", now))
        .into_iter()
        .collect();
    crate::support::run_in_ci(sb, args, &env)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cli_exit_codes_for_held_placements_and_planning_at_another_time() {
    let sb = helpers::start_with(chain_sandbox(&[("approved", "no")])).await;
    let (_dir, path) = manifests(&[
        ("accounts.yaml", accounts_yaml()),
        ("promotion.yaml", promotion_yaml(GATES, "")),
    ]);
    let path = path.to_str().unwrap();
    // Everything held by the tag gate: no change (0), unless --fail-on-held (1).
    let (code, out) = cli(&sb, &["plan", "--detailed-exitcode", path], None);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("gate: tag approved is no on source version"),
        "{out}"
    );
    let (code, _) = cli(
        &sb,
        &["plan", "--detailed-exitcode", "--fail-on-held", path],
        None,
    );
    assert_eq!(code, 1);

    // Approved, dev and staging promoted: prod soaks now, and is eligible a day later.
    let ml = helpers::rek(&sb, "ml").await;
    ml.tag_resource()
        .resource_arn(helpers::seeded_version_arn(
            &sb,
            ML,
            DEFECT_DETECTOR,
            DEFECT_V2,
        ))
        .tags("approved", "true")
        .send()
        .await
        .unwrap();
    let desired = chain_desired(GATES, "");
    plan_and_apply(&sb, &desired).await;
    let plan = plan_and_apply(&sb, &desired).await;
    assert_eq!(plan.summary.copy, 1, "staging");
    let (code, out) = cli(&sb, &["plan", "--format", "json", path], None);
    assert_eq!(code, 0);
    let now: PlanDocument = serde_json::from_str(&out).unwrap();
    let Reason::Soaking { eligible_at, .. } = reason_of(&now, "prod").clone() else {
        panic!("prod soaks: {out}");
    };
    let tomorrow = eligible_at.to_string();
    let (code, out) = cli(
        &sb,
        &["plan", "--format", "json", "--detailed-exitcode", path],
        Some(&tomorrow),
    );
    assert_eq!(code, 2, "prod is due to be copied at {tomorrow}");
    let then: PlanDocument = serde_json::from_str(&out).unwrap();
    assert!(matches!(
        reason_of(&then, "prod"),
        Reason::CopyAfterManagedPolicy
    ));
    let (code, _) = cli(&sb, &["plan", path], Some("tomorrow"));
    assert_eq!(code, 1, "a --now that is not RFC 3339 is refused");
    assert_eq!(sb.calls_of("CopyProjectVersion"), 2, "plans copy nothing");
}

#[tokio::test]
async fn sandbox_clock_moves_forward_at_run_time_and_copies_follow_it() {
    // Copies take a minute of sandbox time: only moving the clock completes this one.
    let copy_ms = 60_000;
    let sb = helpers::start_with(SandboxConfig {
        faults: Some(reko_promote::sandbox::Faults {
            copy_duration_ms: copy_ms,
            ..fast_faults()
        }),
        ..SandboxConfig::default()
    })
    .await;
    let day_ms: u64 = 24 * 3600 * 1000;
    let before = sb.clock_millis();
    let json = [("content-type".to_string(), "application/json".to_string())];
    let r = helpers::raw_http(
        &sb,
        "POST",
        "/_sandbox/clock",
        &json,
        format!(r#"{{"advance_ms": {day_ms}}}"#).as_bytes(),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["offset_ms"], day_ms);
    assert!(sb.clock_millis() >= before + day_ms);
    for bad in [&br#"{"advance_ms": -1}"#[..], br#"{"back_ms": 5}"#, b"soon"] {
        let r = helpers::raw_http(&sb, "POST", "/_sandbox/clock", &json, bad).await;
        assert_eq!(r.status, 400, "{}", r.body);
    }
    let r = helpers::raw_http(&sb, "GET", "/_sandbox/clock", &[], b"").await;
    assert_eq!(r.json()["offset_ms"], day_ms);

    // A copy started now is created at the moved clock, and completes when the clock (not the
    // wall clock) passes its duration.
    let staging = helpers::rek_as_role(&sb, STAGING).await;
    let version = "label-reader.copied";
    staging
        .copy_project_version()
        .source_project_arn(seed::default_project_arn(ML, seed::LABEL_READER))
        .source_project_version_arn(helpers::seeded_version_arn(
            &sb,
            ML,
            seed::LABEL_READER,
            seed::LABEL_V1,
        ))
        .destination_project_arn(seed::default_project_arn(STAGING, seed::LABEL_READER))
        .version_name(version)
        .output_config(
            aws_sdk_rekognition::types::OutputConfig::builder()
                .s3_bucket("acme-staging-models")
                .build(),
        )
        .send()
        .await
        .unwrap();
    let describe = || async {
        staging
            .describe_project_versions()
            .project_arn(seed::default_project_arn(STAGING, seed::LABEL_READER))
            .version_names(version)
            .send()
            .await
            .unwrap()
            .project_version_descriptions()[0]
            .clone()
    };
    let copy = describe().await;
    let created_ms = copy.creation_timestamp().unwrap().to_millis().unwrap() as u64;
    assert!(
        created_ms >= before + day_ms,
        "{created_ms} follows the clock"
    );
    assert_eq!(
        copy.status().unwrap().as_str(),
        "COPYING_IN_PROGRESS",
        "the copy takes time"
    );
    sb.advance_clock(Duration::from_millis(copy_ms + 1));
    assert_eq!(
        describe().await.status().unwrap().as_str(),
        "COPYING_COMPLETED"
    );
}
