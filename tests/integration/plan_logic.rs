//! Planning as a pure function, on plain values (no network): every action and reason, drift,
//! managed policies, fingerprints, and the three renderings of one plan document.

use std::collections::BTreeMap;

use reko_promote::aws::session::SessionError;
use reko_promote::aws::{AwsError, ErrorKind, Operation};
use reko_promote::desired::{DesiredState, OutputConfig, PolicyScope, Selection};
use reko_promote::plan::{self, Action, PlanDocument, Reason, RunScope};
use reko_promote::policy::PolicyDocument;
use reko_promote::render;
use reko_promote::state::{
    AccountProblem, CopiesInProgress, CopiesUnread, CopyInProgress, LivePolicy, LiveProject,
    LiveState, LiveVersion, ProjectFeature, ProjectKey, VersionStatus,
};

use crate::support::{load, rel};

const REGION: &str = "eu-west-1";

fn desired() -> DesiredState {
    let loaded = load(&[rel("tests/manifests/plan")]);
    crate::support::check(loaded.report.valid, "the plan fixture is valid", &loaded);
    loaded.desired.unwrap()
}

fn key(account: &str, project: &str) -> ProjectKey {
    ProjectKey {
        account_id: account.into(),
        region: REGION.into(),
        name: project.into(),
    }
}

fn project_arn(account: &str, project: &str) -> String {
    format!("arn:aws:rekognition:{REGION}:{account}:project/{project}/1700000000000")
}

fn version_arn(account: &str, project: &str, version: &str) -> String {
    format!(
        "arn:aws:rekognition:{REGION}:{account}:project/{project}/version/{version}/1700000000001"
    )
}

fn version(
    account: &str,
    project: &str,
    name: &str,
    status: &str,
    source: Option<String>,
) -> LiveVersion {
    LiveVersion {
        arn: version_arn(account, project, name),
        status: VersionStatus::parse(status),
        status_message: None,
        source_project_version_arn: source,
        kms_key_id: None,
        output_config: None,
        f1_score: Some(0.9),
        creation_timestamp: None,
        min_inference_units: None,
        max_inference_units: None,
    }
}

const ML: &str = "111111111111";
const STAGING: &str = "222222222222";
const PROD: &str = "333333333333";

/// The qa account's role cannot be assumed.
fn qa_problem() -> AccountProblem {
    AccountProblem::Session(SessionError::AssumeRole {
        account: "qa".into(),
        account_id: "555555555555".into(),
        role: "arn:aws:iam::555555555555:role/reko-promote".into(),
        error: Box::new(AwsError {
            operation: Operation::AssumeRole,
            account: "qa".into(),
            account_id: "555555555555".into(),
            arn: Some("arn:aws:iam::555555555555:role/reko-promote".into()),
            code: Some("AccessDenied".into()),
            message: "User: arn:aws:sts::444444444444:assumed-role/ci/run is not authorized to perform: sts:AssumeRole".into(),
            request_id: Some("req-1".into()),
            kind: ErrorKind::AccessDenied,
        }),
    })
}

fn full() -> RunScope {
    RunScope::full()
}

/// A live state in which each placement of the fixture meets its situation.
fn live() -> LiveState {
    let mut live = LiveState::default();
    live.inaccessible.insert("qa".into(), qa_problem());
    let mut add_project = |account: &str, name: &str, exists: bool| {
        live.projects.insert(
            key(account, name),
            exists.then(|| LiveProject {
                arn: project_arn(account, name),
                status: "CREATED".into(),
                feature: ProjectFeature::CustomLabels,
            }),
        );
    };
    for (account, name, exists) in [
        (ML, "vision", true),
        (ML, "managed", true),
        (ML, "denied", true),
        (ML, "vision-archive", true),
        (STAGING, "vision", true),
        (STAGING, "denied", true),
        (PROD, "vision", true),
        (PROD, "managed", true),
        (PROD, "archive", false),
    ] {
        add_project(account, name, exists);
    }
    let src = |v: &str| Some(version_arn(ML, "vision", v));
    let mut source_versions = BTreeMap::new();
    for (name, status) in [
        ("v-new", "TRAINING_COMPLETED"),
        ("v-same", "TRAINING_COMPLETED"),
        ("v-copying", "TRAINING_COMPLETED"),
        ("v-other", "TRAINING_COMPLETED"),
        ("v-failed", "TRAINING_COMPLETED"),
        ("v-deleting", "RUNNING"),
        ("v-untrained", "TRAINING_FAILED"),
    ] {
        source_versions.insert(
            name.to_string(),
            Some(version(ML, "vision", name, status, None)),
        );
    }
    source_versions.insert("v-missing".into(), None);
    live.versions.insert(key(ML, "vision"), source_versions);
    live.versions.insert(
        key(ML, "managed"),
        BTreeMap::from([(
            "m1".into(),
            Some(version(ML, "managed", "m1", "TRAINING_COMPLETED", None)),
        )]),
    );
    live.versions.insert(
        key(ML, "denied"),
        BTreeMap::from([(
            "d1".into(),
            Some(version(ML, "denied", "d1", "TRAINING_COMPLETED", None)),
        )]),
    );
    live.versions.insert(
        key(ML, "vision-archive"),
        BTreeMap::from([("v-new-local".into(), None)]),
    );

    let mut staging = BTreeMap::new();
    staging.insert("v-new".to_string(), None);
    staging.insert(
        "v-same".into(),
        Some(version(
            STAGING,
            "vision",
            "v-same",
            "COPYING_COMPLETED",
            src("v-same"),
        )),
    );
    staging.insert(
        "v-copying".into(),
        Some(version(
            STAGING,
            "vision",
            "v-copying",
            "COPYING_IN_PROGRESS",
            src("v-copying"),
        )),
    );
    staging.insert(
        "v-other".into(),
        Some(version(
            STAGING,
            "vision",
            "v-other",
            "COPYING_COMPLETED",
            src("v-same"),
        )),
    );
    let mut failed = version(
        STAGING,
        "vision",
        "v-failed",
        "COPYING_FAILED",
        src("v-failed"),
    );
    failed.status_message = Some("The KMS key is disabled.".into());
    staging.insert("v-failed".into(), Some(failed));
    staging.insert(
        "v-deleting".into(),
        Some(version(
            STAGING,
            "vision",
            "v-deleting",
            "DELETING",
            src("v-deleting"),
        )),
    );
    staging.insert("v-missing".into(), None);
    staging.insert("v-untrained".into(), None);
    live.versions.insert(key(STAGING, "vision"), staging);
    live.versions.insert(
        key(STAGING, "denied"),
        BTreeMap::from([("d1".into(), None)]),
    );

    let mut prod_same = version(PROD, "vision", "v-same", "STOPPED", src("v-same"));
    prod_same.kms_key_id = Some(format!("arn:aws:kms:{REGION}:{PROD}:key/old-key"));
    prod_same.output_config = Some(OutputConfig {
        s3_bucket: "acme-prod-models".into(),
        s3_key_prefix: Some("rekognition/".into()),
    });
    live.versions.insert(
        key(PROD, "vision"),
        BTreeMap::from([("v-new".into(), None), ("v-same".into(), Some(prod_same))]),
    );
    live.versions
        .insert(key(PROD, "managed"), BTreeMap::from([("m1".into(), None)]));

    // ml/vision lets staging copy any version; ml/denied denies staging explicitly.
    live.policies.insert(
        key(ML, "vision"),
        vec![LivePolicy {
            name: "staging-may-copy".into(),
            revision_id: "rev-1".into(),
            document: format!(
                r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{STAGING}:root"}},"Action":"rekognition:CopyProjectVersion","Resource":"arn:aws:rekognition:{REGION}:{ML}:project/vision/version/*"}}]}}"#
            ),
        }],
    );
    live.policies.insert(
        key(ML, "denied"),
        vec![
            LivePolicy {
                name: "allow-all".into(),
                revision_id: "rev-1".into(),
                document: r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"rekognition:CopyProjectVersion","Resource":"*"}]}"#.into(),
            },
            LivePolicy {
                name: "deny-staging".into(),
                revision_id: "rev-2".into(),
                document: format!(r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Deny","Principal":{{"AWS":"{STAGING}"}},"Action":"rekognition:CopyProjectVersion","Resource":"*"}}]}}"#),
            },
        ],
    );
    live.policies.insert(key(ML, "managed"), vec![]);
    live
}

fn entry<'a>(
    plan: &'a PlanDocument,
    account: &str,
    project: &str,
    version: &str,
) -> &'a plan::PlanEntry {
    plan.entries
        .iter()
        .find(|e| {
            e.target.account.name == account
                && e.target.project == project
                && e.target.version_name == version
        })
        .unwrap_or_else(|| {
            panic!(
                "no entry {account}/{project}/{version} in\n{}",
                render::plan::text(plan, true)
            )
        })
}

/// The managed policies the plan writes (created or updated).
fn written_policies(plan: &PlanDocument) -> Vec<plan::PlannedPolicy> {
    plan.grants
        .iter()
        .filter(|g| g.managed)
        .flat_map(|g| g.policies.clone())
        .filter(|p| !matches!(p.change, plan::PolicyChange::Unchanged { .. }))
        .collect()
}

#[test]
fn every_action_gets_its_reason() {
    let plan = plan::compute(&desired(), &live(), &full());
    let dump = render::plan::text(&plan, true);
    let dump = anstream::adapter::strip_str(&dump).to_string();
    let expect = |account: &str, project: &str, version: &str, action: Action, needle: &str| {
        let e = entry(&plan, account, project, version);
        let words = render::plan::entry_reason(e);
        assert_eq!(
            e.action, action,
            "{account}/{project}/{version}: {words}\n{dump}"
        );
        assert_eq!(e.action, e.reason.action(), "{words}");
        assert!(
            words.contains(needle),
            "{account}/{project}/{version}: {words:?} lacks {needle:?}"
        );
    };
    expect("staging", "vision", "v-new", Action::Copy, "policy allows");
    expect(
        "ml",
        "vision-archive",
        "v-new-local",
        Action::Copy,
        "same-account",
    );
    expect("prod", "managed", "m1", Action::Copy, "managePolicy");
    expect(
        "staging",
        "vision",
        "v-same",
        Action::Unchanged,
        "same source",
    );
    expect("prod", "vision", "v-same", Action::Unchanged, "STOPPED");
    expect(
        "staging",
        "vision",
        "v-copying",
        Action::InProgress,
        "COPYING_IN_PROGRESS",
    );
    expect(
        "staging",
        "vision",
        "v-other",
        Action::Conflict,
        "came from",
    );
    expect(
        "staging",
        "vision",
        "v-failed",
        Action::Conflict,
        "The KMS key is disabled.",
    );
    expect(
        "staging",
        "vision",
        "v-deleting",
        Action::Conflict,
        "DELETING",
    );
    expect(
        "staging",
        "vision",
        "v-missing",
        Action::Blocked,
        "does not exist",
    );
    expect(
        "staging",
        "vision",
        "v-untrained",
        Action::Blocked,
        "TRAINING_FAILED",
    );
    expect(
        "prod",
        "archive",
        "v-new",
        Action::Blocked,
        "create it first",
    );
    expect("prod", "vision", "v-new", Action::Blocked, "no policy");
    expect(
        "staging",
        "denied",
        "d1",
        Action::Blocked,
        "explicitly denies",
    );
    expect("qa", "vision", "v-new", Action::Unknown, "AccessDenied");

    // The missing policy is shown as the exact statement that would allow the copy.
    let statement = entry(&plan, "prod", "vision", "v-new")
        .missing_policy_statement
        .clone()
        .unwrap();
    assert_eq!(
        statement["Principal"]["AWS"],
        "arn:aws:iam::333333333333:root"
    );
    assert_eq!(statement["Action"], "rekognition:CopyProjectVersion");
    assert_eq!(statement["Resource"], version_arn(ML, "vision", "v-new"));

    // Conflicts carry a readable diff of desired against actual.
    let diff = entry(&plan, "staging", "vision", "v-other")
        .diff
        .clone()
        .unwrap();
    assert!(
        diff.contains(&format!(
            "-sourceProjectVersionArn: {}",
            version_arn(ML, "vision", "v-other")
        )),
        "{diff}"
    );
    assert!(
        diff.contains(&format!(
            "+sourceProjectVersionArn: {}",
            version_arn(ML, "vision", "v-same")
        )),
        "{diff}"
    );

    // Drift is shown apart and never triggers a copy.
    let drifted = entry(&plan, "prod", "vision", "v-same");
    assert_eq!(drifted.drift.len(), 1);
    assert_eq!(drifted.drift[0].field, "kmsKeyId");

    // The managed policy apply will write.
    let writes = written_policies(&plan);
    assert_eq!(writes.len(), 1);
    assert_eq!(writes[0].policy_name, "reko-promote-managed-1");
    assert_eq!(writes[0].change, plan::PolicyChange::Create);

    let s = plan.summary;
    assert_eq!(
        (
            s.copy,
            s.unchanged,
            s.in_progress,
            s.conflict,
            s.blocked,
            s.unknown,
            s.drift,
            s.policies
        ),
        (3, 2, 1, 3, 5, 1, 1, 1)
    );
    assert_eq!(plan.entries.len(), desired().placements.len());
}

#[test]
fn renderings_read_the_same_document() {
    let plan = plan::compute(&desired(), &live(), &full());
    let text = anstream::adapter::strip_str(&render::plan::text(&plan, false)).to_string();
    assert!(text.ends_with("Plan: 3 to copy, 2 unchanged, 1 in progress, 3 conflicts, 5 blocked, 1 unknown, 1 policy to write, 1 with drift.\n"), "{text}");
    assert!(text.contains("1 unchanged (--show-unchanged lists them)"));
    insta::assert_snapshot!("plan_text", text);
    let listed = anstream::adapter::strip_str(&render::plan::text(&plan, true)).to_string();
    assert!(listed.contains("= v-same"));
    insta::assert_snapshot!("plan_markdown", render::plan::markdown(&plan));
    let json = serde_json::to_value(&plan).unwrap();
    insta::assert_json_snapshot!("plan_json", json);
    // The JSON is the document: it reads back to the same plan.
    let back: PlanDocument = serde_json::from_value(json).unwrap();
    assert_eq!(back, plan);
}

/// The fixture's live state after someone copied v-new into staging.
fn v_new_copied_into_staging() -> LiveState {
    let mut moved = live();
    moved
        .versions
        .get_mut(&key(STAGING, "vision"))
        .unwrap()
        .insert(
            "v-new".into(),
            Some(version(
                STAGING,
                "vision",
                "v-new",
                "COPYING_IN_PROGRESS",
                Some(version_arn(ML, "vision", "v-new")),
            )),
        );
    moved
}

#[test]
fn fingerprints_change_when_the_destination_changes_even_from_nothing() {
    let desired = desired();
    let before = plan::compute(&desired, &live(), &full());
    // Someone copies v-new into staging after the plan: absent → present.
    let moved = v_new_copied_into_staging();
    let after = plan::compute(&desired, &moved, &full());
    let digest = |p: &PlanDocument, account: &str, project: &str, version: &str| {
        let entry = entry(p, account, project, version);
        p.fingerprints
            .iter()
            .find(|f| f.key == entry.key)
            .unwrap()
            .digest
            .clone()
    };
    assert_ne!(
        digest(&before, "staging", "vision", "v-new"),
        digest(&after, "staging", "vision", "v-new")
    );
    assert_eq!(
        digest(&before, "prod", "vision", "v-new"),
        digest(&after, "prod", "vision", "v-new")
    );
    // Fingerprints are per placement: another version of the same project did not move.
    assert_eq!(
        digest(&before, "staging", "vision", "v-same"),
        digest(&after, "staging", "vision", "v-same")
    );
    assert_eq!(before.manifests_digest, after.manifests_digest);

    // A policy revision change on the source moves every destination it feeds.
    let mut repoliced = live();
    repoliced.policies.get_mut(&key(ML, "vision")).unwrap()[0].revision_id = "rev-2".into();
    let after = plan::compute(&desired, &repoliced, &full());
    assert_ne!(
        digest(&before, "prod", "vision", "v-new"),
        digest(&after, "prod", "vision", "v-new")
    );

    // The source version replaced under the same name moves every placement it feeds.
    let mut retrained = live();
    let mut replaced = version(ML, "vision", "v-new", "TRAINING_COMPLETED", None);
    replaced.arn = replaced.arn.replace("1700000000001", "1795421805311");
    retrained
        .versions
        .get_mut(&key(ML, "vision"))
        .unwrap()
        .insert("v-new".into(), Some(replaced));
    let after = plan::compute(&desired, &retrained, &full());
    assert_ne!(
        digest(&before, "staging", "vision", "v-new"),
        digest(&after, "staging", "vision", "v-new")
    );
}

#[test]
fn selection_targets_and_excludes() {
    let desired = desired();
    let only_prod = Selection {
        targets: vec!["prod".into()],
        excludes: vec![],
    }
    .apply(&desired);
    assert!(
        only_prod
            .placements
            .iter()
            .all(|p| p.destination_account == "prod" || p.destination == "prod")
    );
    assert!(!only_prod.placements.is_empty());
    let no_vision = Selection {
        targets: vec![],
        excludes: vec!["vision".into()],
    }
    .apply(&desired);
    assert!(no_vision.placements.iter().all(|p| p.promotion != "vision"));
    assert_eq!(no_vision.placements.len(), 3);
}

#[test]
fn the_plan_document_holds_no_secret() {
    let json = serde_json::to_string(&plan::compute(&desired(), &live(), &full())).unwrap();
    for needle in ["SecretAccessKey", "SessionToken", "secret", "AKIA", "ASIA"] {
        assert!(!json.contains(needle), "plan JSON contains {needle}");
    }
}

/// The one managed policy (`reko-promote-managed-1`, revision `rev-7`) that packs `grants` of
/// the source project `managed` with `scope`, as ListProjectPolicies would show it.
fn managed_policy_granting(
    grants: &reko_promote::policy_pack::Grants,
    scope: PolicyScope,
) -> LivePolicy {
    let source = reko_promote::desired::ProjectRef {
        account_id: ML.into(),
        region: REGION.into(),
        name: "managed".into(),
        arn: None,
    };
    let packed = reko_promote::policy_pack::pack(&reko_promote::policy_pack::PackRequest::new(
        &source,
        grants,
        scope,
        Default::default(),
        reko_promote::plan::grants::MANAGED_PREFIX,
    ))
    .unwrap();
    assert_eq!(packed.len(), 1, "one document");
    LivePolicy {
        name: "reko-promote-managed-1".into(),
        revision_id: "rev-7".into(),
        document: packed[0].document_json.clone(),
    }
}

#[test]
fn a_targeted_plan_never_drops_a_managed_grant_it_cannot_see() {
    let desired = desired();
    let mut live = live();
    // The managed policy already grants m1 and a version no manifest in this run names.
    let m1 = version_arn(ML, "managed", "m1");
    let other = version_arn(ML, "managed", "m0");
    let grants: reko_promote::policy_pack::Grants =
        [(PROD.to_string(), [other.clone(), m1.clone()].into())].into();
    live.policies.insert(
        key(ML, "managed"),
        vec![managed_policy_granting(&grants, PolicyScope::Versions)],
    );
    // The full manifests name only m1, and prod has no copy in progress: the grant of m0 is
    // pruned.
    live.copies_in_progress.insert(
        PROD.into(),
        [(REGION.into(), CopiesInProgress::Read(Default::default()))].into(),
    );
    let whole = plan::compute(&desired, &live, &full());
    let writes = written_policies(&whole);
    assert_eq!(writes.len(), 1);
    assert_eq!(
        writes[0].change,
        plan::PolicyChange::Update {
            replaces_revision_id: "rev-7".into()
        }
    );
    assert!(
        !writes[0].document.contains(&other),
        "{}",
        writes[0].document
    );
    // A run narrowed to one promotion sees only part of the manifests: it keeps m0.
    let selection = Selection {
        targets: vec!["managed".into()],
        excludes: vec![],
    };
    let targeted = selection.apply(&desired);
    assert!(targeted.partial);
    let scope = RunScope::partial(vec![plan::PartialCause::Selection {
        targets: selection.targets.clone(),
        excludes: vec![],
    }]);
    let partial = plan::compute(&targeted, &live, &scope);
    assert!(partial.scope.partial);
    assert!(
        written_policies(&partial).is_empty(),
        "nothing to widen, nothing dropped: {:?}",
        partial.grants
    );
    let text = anstream::adapter::strip_str(&render::plan::text(&partial, false)).to_string();
    assert!(text.contains("Partial run (--target managed)"), "{text}");
}

/// The entry of the placement `promotion/destination/version` (found by key).
fn by_key<'a>(
    plan: &'a PlanDocument,
    promotion: &str,
    destination: &str,
    version: &str,
) -> &'a plan::PlanEntry {
    plan.entry(&reko_promote::desired::PlacementKey {
        promotion: promotion.into(),
        destination: destination.into(),
        version_name: version.into(),
    })
    .unwrap_or_else(|| panic!("no {promotion}/{destination}/{version}"))
}

#[test]
fn the_reasons_the_fixture_does_not_meet_on_plain_values() {
    let desired = desired();
    let reason = |live: &LiveState, desired: &DesiredState| {
        by_key(
            &plan::compute(desired, live, &full()),
            "vision",
            "staging",
            "v-new",
        )
        .reason
        .clone()
    };

    // An adapter as source, then as destination.
    let mut adapters = live();
    adapters
        .projects
        .get_mut(&key(ML, "vision"))
        .unwrap()
        .as_mut()
        .unwrap()
        .feature = ProjectFeature::ContentModeration;
    assert_eq!(
        reason(&adapters, &desired),
        Reason::Adapter {
            side: plan::Side::Source,
            feature: ProjectFeature::ContentModeration
        }
    );
    let mut adapters = live();
    adapters
        .projects
        .get_mut(&key(STAGING, "vision"))
        .unwrap()
        .as_mut()
        .unwrap()
        .feature = ProjectFeature::ContentModeration;
    let plan = plan::compute(&desired, &adapters, &full());
    let entry = by_key(&plan, "vision", "staging", "v-new");
    assert_eq!(entry.action, Action::Blocked);
    assert!(
        render::plan::entry_reason(entry).contains("CopyProjectVersion does not support adapters"),
        "{}",
        render::plan::entry_reason(entry)
    );
    // An adapter gets no grant.
    assert!(
        plan.grants.iter().all(|g| !g.grants.contains_key(STAGING)
            || g.project_arn != project_arn(ML, "vision")
            || !g.grants[STAGING].contains(&version_arn(ML, "vision", "v-new"))),
        "{:?}",
        plan.grants
    );

    // A project that could not be read.
    let mut unreadable = live();
    unreadable.read_errors.insert(
        key(STAGING, "vision"),
        AwsError {
            operation: Operation::DescribeProjectVersions,
            account: "staging".into(),
            account_id: STAGING.into(),
            arn: Some(project_arn(STAGING, "vision")),
            code: Some("InternalServerError".into()),
            message: "try again".into(),
            request_id: Some("req-2".into()),
            kind: ErrorKind::Other,
        },
    );
    let got = reason(&unreadable, &desired);
    assert!(
        matches!(
            got,
            Reason::ProjectUnreadable {
                side: plan::Side::Destination,
                ..
            }
        ),
        "{got:?}"
    );

    // Versions that were never read (an earlier read failed).
    let mut unread = live();
    unread.versions.remove(&key(STAGING, "vision"));
    assert_eq!(
        reason(&unread, &desired),
        Reason::NotRead {
            what: plan::NotRead::DestinationVersion
        }
    );
    let mut unread = live();
    unread.projects.remove(&key(ML, "vision"));
    assert_eq!(
        reason(&unread, &desired),
        Reason::NotRead {
            what: plan::NotRead::SourceProject
        }
    );

    // A missing source project.
    let mut gone = live();
    gone.projects.insert(key(ML, "vision"), None);
    assert_eq!(reason(&gone, &desired), Reason::SourceProjectMissing);

    // Pinned ARNs that no longer match (projects recreated, a version retrained).
    let pin = |f: &dyn Fn(&mut reko_promote::desired::Placement)| {
        let mut pinned = desired.clone();
        for p in &mut pinned.placements {
            f(p);
        }
        pinned
    };
    let other = |arn: String| arn.replace("1700000000", "1600000000");
    let pinned = pin(&|p| p.source_project.arn = Some(other(project_arn(ML, "vision"))));
    assert!(matches!(
        reason(&live(), &pinned),
        Reason::SourceProjectReplaced { .. }
    ));
    let pinned = pin(&|p| p.source_version_arn = Some(other(version_arn(ML, "vision", "v-new"))));
    assert!(matches!(
        reason(&live(), &pinned),
        Reason::SourceVersionReplaced { .. }
    ));
    let pinned = pin(&|p| p.destination_project.arn = Some(other(project_arn(STAGING, "vision"))));
    assert!(matches!(
        reason(&live(), &pinned),
        Reason::DestinationProjectReplaced { .. }
    ));
}

#[test]
fn the_renderers_alone_word_the_reasons() {
    // Reasons are data: their JSON names a code and carries values, never the sentence shown.
    let plan = plan::compute(&desired(), &live(), &full());
    let mut codes = std::collections::BTreeSet::new();
    for entry in &plan.entries {
        let json = serde_json::to_value(&entry.reason).unwrap();
        let code = json["code"].as_str().unwrap().to_string();
        let words = render::plan::entry_reason(entry);
        let text = json.to_string();
        assert!(!text.contains(&words), "{code}: {text} holds its words");
        // The first few words of the sentence are the renderer's, not the document's.
        let opening: String = words
            .split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" ");
        assert!(!text.contains(&opening), "{code}: {text} holds {opening:?}");
        codes.insert(code);
    }
    assert!(codes.len() >= 14, "{codes:?}");
}

#[test]
fn an_unknown_destination_account_gets_no_grant_and_keeps_what_it_has() {
    // Issue 11, defect 3, on plain values: the destination of a managed promotion cannot be
    // read; its placement is unknown, and the plan writes no policy on its behalf.
    let desired = desired();
    let mut live = live();
    live.inaccessible.insert(
        "prod".into(),
        AccountProblem::Session(SessionError::WrongAccount {
            account: "prod".into(),
            expected: PROD.into(),
            actual: "444444444444".into(),
            actual_arn: "arn:aws:sts::444444444444:assumed-role/ci/run".into(),
        }),
    );
    let plan = plan::compute(&desired, &live, &full());
    assert_eq!(
        by_key(&plan, "managed", "prod", "m1").action,
        Action::Unknown
    );
    assert!(written_policies(&plan).is_empty(), "{:?}", plan.grants);
    assert_eq!(plan.summary.policies, 0);
    assert!(
        plan.grants.iter().all(|g| !g.grants.contains_key(PROD)),
        "{:?}",
        plan.grants
    );
    assert!(
        plan.grants.iter().any(|g| g.withheld.contains(PROD)),
        "{:?}",
        plan.grants
    );
    let text = anstream::adapter::strip_str(&render::plan::text(&plan, false)).to_string();
    assert!(
        text.contains("grants to account 333333333333 on arn:aws:rekognition:eu-west-1:111111111111:project/managed/1700000000000 withheld"),
        "{text}"
    );
    // No Debug formatting in any text a user reads.
    for text in [
        render::plan::text(&plan, true),
        render::plan::markdown(&plan),
        serde_json::to_string(&plan).unwrap(),
    ] {
        for debug in [
            "ProviderError(",
            "SdkBody",
            "HeaderValue",
            "Some(",
            "extensions_1x",
        ] {
            assert!(!text.contains(debug), "{debug} in {text}");
        }
    }
}

#[test]
fn the_stale_check_pairs_placements_by_key_not_position() {
    use reko_promote::apply::stale::{StaleError, check};
    let desired = desired();
    let saved = plan::compute(&desired, &live(), &full());
    // The same plan with its entries in another order is the same plan.
    let mut reordered = saved.clone();
    reordered.entries.reverse();
    reordered.fingerprints.reverse();
    check(&saved, &reordered).unwrap();
    // One placement moving names that placement only.
    let moved = v_new_copied_into_staging();
    let fresh = plan::compute(&desired, &moved, &full());
    match check(&saved, &fresh) {
        Err(StaleError::LiveState { moved }) => {
            let keys: Vec<String> = moved.iter().map(|(k, _)| k.to_string()).collect();
            assert_eq!(keys, ["vision/staging/v-new"], "{moved:?}");
            let said = StaleError::LiveState { moved }.to_string();
            assert!(
                said.contains("destination version absent then, arn:aws:rekognition:eu-west-1:222222222222:project/vision/version/v-new/1700000000001 (COPYING_IN_PROGRESS) now"),
                "{said}"
            );
        }
        other => panic!("{other:?}"),
    }
}

/// A policy granting `account` the `arns` (one statement), as JSON.
fn granting(account: &str, arns: &[&str]) -> String {
    PolicyDocument {
        statements: vec![reko_promote::policy::Statement::allow_copy(
            None,
            vec![reko_promote::policy::account_principal("aws", account)],
            arns.iter().map(|a| a.to_string()).collect(),
        )],
    }
    .to_json()
}

#[test]
fn legacy_per_account_policies_are_migrated_then_deleted_last_and_hand_written_ones_counted() {
    let desired = desired();
    let mut live = live();
    let m1 = version_arn(ML, "managed", "m1");
    let policy = |name: &str, revision: &str, document: String| LivePolicy {
        name: name.into(),
        revision_id: revision.into(),
        document,
    };
    live.policies.insert(
        key(ML, "managed"),
        vec![
            // Legacy names: prod's (still needed) and an account no manifest names any more.
            policy(
                "reko-promote-333333333333",
                "rev-prod",
                granting(PROD, &[&m1]),
            ),
            policy(
                "reko-promote-444444444444",
                "rev-gone",
                granting("444444444444", &[&m1]),
            ),
            policy("team-policy", "rev-team", granting("555555555555", &[&m1])),
        ],
    );
    let plan = plan::compute(&desired, &live, &full());
    let grants = plan
        .grants
        .iter()
        .find(|g| g.project_arn.contains("project/managed/"))
        .unwrap();
    let changes: Vec<(&str, &plan::PolicyChange)> = grants
        .policies
        .iter()
        .map(|p| (p.policy_name.as_str(), &p.change))
        .collect();
    assert_eq!(
        changes,
        [
            ("reko-promote-managed-1", &plan::PolicyChange::Create),
            (
                "reko-promote-333333333333",
                &plan::PolicyChange::Delete {
                    revision_id: "rev-prod".into()
                }
            ),
            (
                "reko-promote-444444444444",
                &plan::PolicyChange::Delete {
                    revision_id: "rev-gone".into()
                }
            ),
        ]
    );
    assert_eq!(grants.writes, 3, "one create, two deletes");
    let capacity = grants.capacity.unwrap();
    assert_eq!(capacity.hand_written_policies, 1);
    assert_eq!(capacity.policies_used, 2);
    // The entry already allowed by the legacy policy still copies; nothing is blocked.
    assert_eq!(by_key(&plan, "managed", "prod", "m1").action, Action::Copy);
    // The write order apply follows: the packed document first, the deletes last.
    let live_managed: Vec<reko_promote::policy_pack::LivePolicy> = live.policies
        [&key(ML, "managed")]
        .iter()
        .filter(|p| plan::grants::is_managed_policy_name(&p.name))
        .map(|p| reko_promote::policy_pack::LivePolicy {
            name: p.name.clone(),
            revision_id: p.revision_id.clone(),
            document: p.document.clone(),
        })
        .collect();
    let packed = [reko_promote::policy_pack::ManagedPolicy {
        name: "reko-promote-managed-1".into(),
        document_json: grants.policies[0].document.clone(),
    }];
    let steps = reko_promote::policy_pack::write_steps(
        &live_managed,
        &packed,
        1,
        plan::grants::MANAGED_PREFIX,
    )
    .unwrap();
    assert!(matches!(
        &steps[0],
        reko_promote::policy_pack::WriteStep::Put { revision: None, .. }
    ));
    assert!(
        steps[1..]
            .iter()
            .all(|s| matches!(s, reko_promote::policy_pack::WriteStep::Delete { .. }))
    );
    // The text plan says what is deleted and the capacity in use.
    let text = anstream::adapter::strip_str(&render::plan::text(&plan, false)).to_string();
    assert!(text.contains("delete reko-promote-444444444444"), "{text}");
    assert!(text.contains("2 of 5 policies"), "{text}");
}

#[test]
fn conditions_the_product_cannot_evaluate_block_with_their_reason() {
    let desired = desired();
    let with_vision_policy = |statements: &str| {
        let mut live = live();
        live.policies.insert(
            key(ML, "vision"),
            vec![LivePolicy {
                name: "conditional".into(),
                revision_id: "rev-1".into(),
                document: format!(r#"{{"Version":"2012-10-17","Statement":[{statements}]}}"#),
            }],
        );
        let plan = plan::compute(&desired, &live, &full());
        let entry = by_key(&plan, "vision", "staging", "v-new");
        (entry.reason.clone(), render::plan::entry_reason(entry))
    };
    let allow = |condition: &str| {
        format!(
            r#"{{"Effect":"Allow","Principal":"*","Action":"rekognition:CopyProjectVersion","Resource":"*","Condition":{condition}}}"#
        )
    };
    // A key reko-promote knows is evaluated.
    let (reason, _) = with_vision_policy(&allow(&format!(
        r#"{{"StringEquals":{{"aws:PrincipalAccount":"{STAGING}"}}}}"#
    )));
    assert_eq!(reason, Reason::CopyAllowedByPolicy);
    // One it cannot know leaves the Allow undecided.
    let org_only = allow(r#"{"StringEquals":{"aws:PrincipalOrgID":"o-123"}}"#);
    let (reason, words) = with_vision_policy(&org_only);
    assert_eq!(
        reason,
        Reason::PolicyConditional {
            effect: reko_promote::policy::Effect::Allow
        }
    );
    assert!(words.contains("cannot evaluate"), "{words}");
    // A Deny resting on such a condition may refuse the copy an Allow grants.
    let (reason, words) = with_vision_policy(&format!(
        r#"{},{{"Effect":"Deny","Principal":"*","Action":"rekognition:Copy*","Resource":"*","Condition":{{"Bool":{{"aws:SecureTransport":"false"}}}}}}"#,
        allow(&format!(
            r#"{{"StringEquals":{{"aws:PrincipalAccount":"{STAGING}"}}}}"#
        ))
    ));
    assert_eq!(
        reason,
        Reason::PolicyConditional {
            effect: reko_promote::policy::Effect::Deny
        }
    );
    assert!(words.contains("may refuse"), "{words}");
}

/// The managed project's grants in `plan`, and whether its documents (as planned) let `account`
/// copy `arn`.
fn managed_grants(plan: &PlanDocument) -> &plan::SourceGrants {
    plan.grants
        .iter()
        .find(|g| g.project_arn.contains("project/managed/"))
        .expect("the managed project's grants")
}

fn planned_allows(plan: &PlanDocument, account: &str, arn: &str) -> bool {
    managed_grants(plan)
        .policies
        .iter()
        .filter(|p| !matches!(p.change, plan::PolicyChange::Delete { .. }))
        .flat_map(|p| reko_promote::policy_pack::pairs_of(&p.document))
        .any(|(a, r)| a == account && r == arn)
}

#[test]
fn withdrawals_wait_for_copies_in_progress_and_never_for_an_unknown_on_plain_values() {
    let desired = desired();
    let (m0, m1) = (
        version_arn(ML, "managed", "m0"),
        version_arn(ML, "managed", "m1"),
    );
    const GONE: &str = "444444444444";
    // The live managed policy grants prod a version the manifests dropped (m0), and an account
    // no manifest declares any more.
    let mut base = live();
    base.policies.insert(
        key(ML, "managed"),
        vec![LivePolicy {
            name: "reko-promote-managed-1".into(),
            revision_id: "rev-1".into(),
            document: PolicyDocument {
                statements: vec![reko_promote::policy::Statement::allow_copy(
                    None,
                    vec![
                        reko_promote::policy::account_principal("aws", PROD),
                        reko_promote::policy::account_principal("aws", GONE),
                    ],
                    vec![m0.clone(), m1.clone()],
                )],
            }
            .to_json(),
        }],
    );
    let outcome = |plan: &PlanDocument, account: &str, arn: &str| {
        managed_grants(plan)
            .withdrawals
            .iter()
            .find(|w| w.account_id == account && w.resource == arn)
            .map(|w| w.outcome.clone())
    };
    let with_copies = |found: CopiesInProgress| {
        let mut live = base.clone();
        live.copies_in_progress
            .insert(PROD.into(), [(REGION.into(), found)].into());
        plan::compute(&desired, &live, &full())
    };

    // Not read yet: prod's m0 is kept and the check asked for; the undeclared account's grants
    // are withdrawn, the plan saying they could not be checked.
    let unchecked = plan::compute(&desired, &base, &full());
    assert_eq!(
        outcome(&unchecked, PROD, &m0),
        Some(plan::WithdrawalOutcome::KeptCopiesNotChecked)
    );
    assert_eq!(outcome(&unchecked, PROD, &m1), None, "m1 is still needed");
    for arn in [&m0, &m1] {
        assert_eq!(
            outcome(&unchecked, GONE, arn),
            Some(plan::WithdrawalOutcome::WithdrawnAccountNotDeclared)
        );
        assert!(!planned_allows(&unchecked, GONE, arn));
    }
    assert!(planned_allows(&unchecked, PROD, &m0));
    assert_eq!(
        plan::grants::copy_checks_needed(&unchecked),
        [(PROD.to_string(), [REGION.to_string()].into())].into()
    );

    // A copy of m0 in progress in prod (whatever the destination project) keeps its grant.
    let copy = CopyInProgress {
        destination_version_arn: version_arn(PROD, "old-project", "m0"),
        source_version_arn: m0.clone(),
    };
    let copying = with_copies(CopiesInProgress::Read([copy.clone()].into()));
    assert_eq!(
        outcome(&copying, PROD, &m0),
        Some(plan::WithdrawalOutcome::KeptForCopiesInProgress {
            copies: vec![copy.clone()]
        })
    );
    assert!(planned_allows(&copying, PROD, &m0));
    assert!(plan::grants::copy_checks_needed(&copying).is_empty());
    let text = anstream::adapter::strip_str(&render::plan::text(&copying, false)).to_string();
    assert!(
        text.contains(&copy.destination_version_arn),
        "the held grant names its copy: {text}"
    );
    // Apply packs the same documents from the plan's grants alone.
    let grants = managed_grants(&copying);
    let packed = plan::grants::pack_project(
        grants,
        &base.policies[&key(ML, "managed")],
        grants.scope,
        false,
        &plan::grants::known_versions(&copying.entries, &grants.project_arn),
    )
    .unwrap();
    let planned: Vec<&str> = grants
        .policies
        .iter()
        .filter(|p| !matches!(p.change, plan::PolicyChange::Delete { .. }))
        .map(|p| p.document.as_str())
        .collect();
    let applied: Vec<&str> = packed
        .policies
        .iter()
        .map(|p| p.document_json.as_str())
        .collect();
    assert_eq!(planned, applied);

    // Copies of other versions, and completed ones (not listed), do not hold it.
    let other = with_copies(CopiesInProgress::Read(
        [CopyInProgress {
            destination_version_arn: version_arn(PROD, "managed", "m1"),
            source_version_arn: m1.clone(),
        }]
        .into(),
    ));
    assert_eq!(
        outcome(&other, PROD, &m0),
        Some(plan::WithdrawalOutcome::Withdrawn)
    );
    assert!(!planned_allows(&other, PROD, &m0));
    assert!(planned_allows(&other, PROD, &m1));
    // A plan saved while the copy was in progress is stale once it ends.
    assert!(matches!(
        reko_promote::apply::stale::check(&copying, &other),
        Err(reko_promote::apply::stale::StaleError::Policies { .. })
    ));

    // Copies that cannot be read: nothing of prod's is withdrawn.
    let problem = CopiesUnread::Aws {
        error: AwsError {
            operation: Operation::DescribeProjects,
            account: "prod".into(),
            account_id: PROD.into(),
            arn: None,
            code: Some("ThrottlingException".into()),
            message: "Rate exceeded".into(),
            request_id: None,
            kind: ErrorKind::Throttling,
        },
    };
    let unread = with_copies(CopiesInProgress::Unread(problem.clone()));
    assert_eq!(
        outcome(&unread, PROD, &m0),
        Some(plan::WithdrawalOutcome::KeptCopiesUnread { problem })
    );
    assert!(planned_allows(&unread, PROD, &m0));
    let text = anstream::adapter::strip_str(&render::plan::text(&unread, false)).to_string();
    assert!(text.contains("Rate exceeded"), "{text}");

    // A partial run withdraws nothing, so it checks nothing.
    let scope = RunScope::partial(vec![plan::PartialCause::ManifestFiles {
        files: vec!["manifests.yaml".into()],
    }]);
    let partial = plan::compute(&desired, &base, &scope);
    assert!(managed_grants(&partial).withdrawals.is_empty());
    assert!(plan::grants::copy_checks_needed(&partial).is_empty());
}

/// With `policyScope: versionNames` the live managed documents hold patterns
/// (`…/version/NAME/*`): a run narrowed to one promotion keeps the pattern of a version name it
/// does not see, and a full run whose destination's copies cannot be read keeps it too (never
/// withdraw on an unknown).
#[test]
fn a_pattern_grant_of_a_version_name_the_run_does_not_see_is_kept() {
    let mut desired = desired();
    for placement in desired
        .placements
        .iter_mut()
        .filter(|p| p.source_project.name == "managed")
    {
        placement.policy_scope = PolicyScope::VersionNames;
    }
    let mut live = live();
    let m1 = version_arn(ML, "managed", "m1");
    let dropped = version_arn(ML, "managed", "m0");
    let grants: reko_promote::policy_pack::Grants =
        [(PROD.to_string(), [dropped.clone(), m1.clone()].into())].into();
    let policy = managed_policy_granting(&grants, PolicyScope::VersionNames);
    let dropped_pattern = format!("arn:aws:rekognition:{REGION}:{ML}:project/managed/version/m0/*");
    assert!(
        policy.document.contains(&dropped_pattern),
        "{}",
        policy.document
    );
    live.policies.insert(key(ML, "managed"), vec![policy]);
    // Narrowed to one promotion: only adds.
    let selection = Selection {
        targets: vec!["managed".into()],
        excludes: vec![],
    };
    let scope = RunScope::partial(vec![plan::PartialCause::Selection {
        targets: selection.targets.clone(),
        excludes: vec![],
    }]);
    let partial = plan::compute(&selection.apply(&desired), &live, &scope);
    assert!(
        written_policies(&partial).is_empty(),
        "a partial run drops no pattern: {:?}",
        written_policies(&partial)
    );
    // A full run that could not read prod's copies keeps prod's grant.
    live.copies_in_progress.insert(
        PROD.into(),
        [(
            REGION.into(),
            CopiesInProgress::Unread(CopiesUnread::Aws {
                error: AwsError {
                    operation: Operation::DescribeProjects,
                    account: "prod".into(),
                    account_id: PROD.into(),
                    arn: None,
                    code: Some("ThrottlingException".into()),
                    message: "Rate exceeded".into(),
                    request_id: None,
                    kind: ErrorKind::Throttling,
                },
            }),
        )]
        .into(),
    );
    let full_plan = plan::compute(&desired, &live, &full());
    for write in written_policies(&full_plan) {
        assert!(
            write.document.contains(&dropped_pattern),
            "kept on an unknown: {}",
            write.document
        );
    }
    // Once prod's copies are read and none is in progress, the pattern is withdrawn.
    live.copies_in_progress.insert(
        PROD.into(),
        [(REGION.into(), CopiesInProgress::Read(Default::default()))].into(),
    );
    let withdrawn = plan::compute(&desired, &live, &full());
    let writes = written_policies(&withdrawn);
    assert_eq!(writes.len(), 1, "{writes:?}");
    assert!(!writes[0].document.contains(&dropped_pattern));
    assert!(writes[0].document.contains("project/managed/version/m1/*"));
}

/// The digest form of a placement's fingerprint as earlier releases computed it: each part built
/// as a `serde_json::Value` (maps sort their keys) and hashed as its compact text. Saved plans
/// carry these digests, so the product's direct form (no intermediate values) must give the
/// same bytes for every live state.
fn fingerprint_as_json_values(live: &LiveState, p: &reko_promote::desired::Placement) -> String {
    use sha2::{Digest, Sha256};
    let mut hasher = Sha256::new();
    let mut feed = |value: serde_json::Value| hasher.update(value.to_string().as_bytes());
    let source = ProjectKey::of(&p.source_project);
    let destination = ProjectKey::of(&p.destination_project);
    for account in [&p.source_account, &p.destination_account] {
        feed(serde_json::json!({ "account": account, "problem": live.inaccessible.get(account) }));
    }
    for (key, version) in [
        (&source, &p.source_version),
        (&destination, &p.version_name),
    ] {
        feed(serde_json::json!({
            "project": live.project(key),
            "readError": live.read_errors.get(key),
            "version": live.version(key, version).map(|v| v.map(|v| (
                &v.arn,
                &v.status,
                &v.source_project_version_arn,
            ))),
        }));
    }
    if p.is_cross_account() {
        let revisions: Vec<(&str, &str)> = live
            .policies
            .get(&source)
            .into_iter()
            .flatten()
            .map(|policy| (policy.name.as_str(), policy.revision_id.as_str()))
            .collect();
        feed(serde_json::json!({ "policies": revisions }));
    }
    hex::encode(hasher.finalize())
}

/// One change to the fixture's live state, picked by the property test below.
#[derive(Debug, Clone)]
enum LiveChange {
    /// The project at this index (of the fixture's) was not read.
    Unread(usize),
    /// The project does not exist.
    Absent(usize),
    /// The project's status and feature differ.
    Project(usize, String, bool),
    /// A read of the project failed.
    ReadError(usize, String),
    /// The version at this index of the project is absent, or has another status and source.
    Version(usize, usize, Option<(String, Option<String>)>),
    /// The account at this index cannot be reached.
    Inaccessible(usize),
    /// The project's policies have other names and revisions.
    Policies(usize, Vec<(String, String)>),
}

fn live_change() -> impl proptest::strategy::Strategy<Value = LiveChange> {
    use proptest::prelude::*;
    let text = "[a-zA-Z0-9 \"\\\\/é\\-]{0,12}";
    prop_oneof![
        (0..16usize).prop_map(LiveChange::Unread),
        (0..16usize).prop_map(LiveChange::Absent),
        (0..16usize, text, any::<bool>()).prop_map(|(i, s, f)| LiveChange::Project(i, s, f)),
        (0..16usize, text).prop_map(|(i, m)| LiveChange::ReadError(i, m)),
        (
            0..16usize,
            0..10usize,
            proptest::option::of((
                proptest::sample::select(VersionStatus::KNOWN.to_vec()).prop_map(String::from),
                proptest::option::of(text)
            ))
        )
            .prop_map(|(i, v, s)| LiveChange::Version(i, v, s)),
        (0..6usize).prop_map(LiveChange::Inaccessible),
        (0..16usize, proptest::collection::vec((text, text), 0..4))
            .prop_map(|(i, p)| LiveChange::Policies(i, p)),
    ]
}

fn changed(mut live: LiveState, changes: &[LiveChange]) -> LiveState {
    let projects: Vec<ProjectKey> = live.projects.keys().cloned().collect();
    let pick = |i: usize| projects[i % projects.len()].clone();
    let accounts = ["ml", "staging", "prod", "qa", "archive", "nobody"];
    for change in changes {
        match change.clone() {
            LiveChange::Unread(i) => {
                let k = pick(i);
                live.projects.remove(&k);
                live.versions.remove(&k);
            }
            LiveChange::Absent(i) => {
                live.projects.insert(pick(i), None);
            }
            LiveChange::Project(i, status, adapter) => {
                let k = pick(i);
                live.projects.insert(
                    k.clone(),
                    Some(LiveProject {
                        arn: project_arn(&k.account_id, &k.name),
                        status,
                        feature: if adapter {
                            ProjectFeature::parse("CONTENT_MODERATION")
                        } else {
                            ProjectFeature::CustomLabels
                        },
                    }),
                );
            }
            LiveChange::ReadError(i, message) => {
                let k = pick(i);
                live.read_errors.insert(
                    k.clone(),
                    AwsError {
                        operation: Operation::DescribeProjectVersions,
                        account: k.account_id.clone(),
                        account_id: k.account_id.clone(),
                        arn: Some(project_arn(&k.account_id, &k.name)),
                        code: Some("InternalServerError".into()),
                        message,
                        request_id: None,
                        kind: ErrorKind::Other,
                    },
                );
            }
            LiveChange::Version(i, v, state) => {
                let k = pick(i);
                let versions = live.versions.entry(k.clone()).or_default();
                let names: Vec<String> = versions.keys().cloned().collect();
                let name = names
                    .get(v % names.len().max(1))
                    .cloned()
                    .unwrap_or_else(|| format!("v{v}"));
                versions.insert(
                    name.clone(),
                    state.map(|(status, source)| {
                        version(&k.account_id, &k.name, &name, &status, source)
                    }),
                );
            }
            LiveChange::Inaccessible(i) => {
                live.inaccessible
                    .insert(accounts[i % accounts.len()].into(), qa_problem());
            }
            LiveChange::Policies(i, policies) => {
                live.policies.insert(
                    pick(i),
                    policies
                        .into_iter()
                        .map(|(name, revision_id)| LivePolicy {
                            name,
                            revision_id,
                            document: "{}".into(),
                        })
                        .collect(),
                );
            }
        }
    }
    live
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(256))]

    /// The plan's fingerprints are byte for byte the digests of the JSON-value form, whatever the
    /// live state holds (absent, unread, failed reads, odd statuses, escaped text, policies), so
    /// a saved plan of an earlier release is still judged by the same digests.
    #[test]
    fn fingerprints_match_the_json_value_form(
        changes in proptest::collection::vec(live_change(), 0..12)
    ) {
        let desired = desired();
        let live = changed(live(), &changes);
        let plan = plan::compute(&desired, &live, &full());
        let by_key: BTreeMap<_, _> = plan
            .fingerprints
            .iter()
            .map(|f| (f.key.clone(), f.digest.clone()))
            .collect();
        proptest::prop_assert_eq!(by_key.len(), desired.placements.len());
        for p in &desired.placements {
            proptest::prop_assert_eq!(
                by_key.get(&p.key()),
                Some(&fingerprint_as_json_values(&live, p)),
                "placement {:?}", p.key()
            );
        }
    }
}
