//! Managed project policies at scale, against the sandbox through the real SDK: one source
//! project promoted to hundreds of destination accounts with one hand-written policy present.
//! The packed documents fit AWS's budget with the right `policyScope` (and the next plan is
//! empty), grants that cannot fit block their placements with the arithmetic and zero writes,
//! a full run withdraws the grants of dropped accounts (the hand-written policy untouched) but
//! keeps a grant while a copy it allows is in progress (withdrawn by the run after the copy
//! ends; an account no longer declared cannot be checked, and the plan says so), and two
//! concurrent targeted applies keep every grant.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use reko_promote::apply::{self, ApplyOptions, ApplyReport, Progress};
use reko_promote::aws::AwsContext;
use reko_promote::desired::{DesiredState, PolicyScope, Selection};
use reko_promote::plan::{
    Action, PartialCause, PlanDocument, PolicyRemedy, Reason, RunScope, WithdrawalOutcome,
};
use reko_promote::policy::{self, Caller, Decision, MAX_DOCUMENT_CHARS, PolicyDocument};
use reko_promote::policy_pack;
use reko_promote::sandbox::{Faults, SandboxConfig, SandboxHandle};
use reko_promote::state::CopiesUnread;

use crate::sandbox::helpers::{self, TestSandbox};
use crate::support::desired_from;

use crate::org;

const HAND_WRITTEN: &str = "team-hand-written";

/// Every (account, resource) pair the managed policies among `policies` grant.
pub fn managed_pairs(
    policies: &BTreeMap<String, reko_promote::sandbox::state::Policy>,
) -> BTreeSet<(String, String)> {
    policies
        .iter()
        .filter(|(name, _)| reko_promote::plan::grants::is_managed_policy_name(name))
        .flat_map(|(_, p)| policy_pack::pairs_of(&p.document))
        .collect()
}

/// An organisation of `destinations` accounts and one source project of `versions` versions
/// whose only policy is a hand-written one (granting an outside account).
async fn organisation(destinations: usize, versions: usize) -> TestSandbox {
    let shape = org::Shape {
        destinations,
        source_projects: 1,
        versions_per_project: versions,
    };
    let mut seed = org::seed(shape);
    for project in seed
        .projects
        .iter_mut()
        .filter(|p| p.account == org::SOURCE_ACCOUNT)
    {
        project.policies = vec![reko_promote::sandbox::seed::SeedPolicy {
            name: HAND_WRITTEN.into(),
            document: serde_yaml::Value::String(format!(
                r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::555555555555:root"}},"Action":"rekognition:CopyProjectVersion","Resource":"arn:aws:rekognition:{}:{}:project/{}/version/*"}}]}}"#,
                org::REGION,
                org::SOURCE_ACCOUNT,
                org::project_name(0)
            )),
        }];
    }
    helpers::start_with(SandboxConfig {
        seed,
        faults: Some(Faults {
            copy_duration_ms: 20,
            ..Faults::default()
        }),
        ..SandboxConfig::default()
    })
    .await
}

fn desired(destinations: usize, versions: usize, scope: PolicyScope) -> DesiredState {
    let dir = tempfile::tempdir().unwrap();
    let shape = org::Shape {
        destinations,
        source_projects: 1,
        versions_per_project: versions,
    };
    let settings = format!(
        ", managePolicy: true, policyScope: {}",
        scope.manifest_name()
    );
    org::write_manifests_with(shape, dir.path(), &settings);
    desired_from(&[dir.path().to_path_buf()])
}

async fn context(sb: &SandboxHandle) -> AwsContext {
    crate::support::org_context(sb, None).await
}

async fn plan(
    ctx: &AwsContext,
    desired: &DesiredState,
    scope: &RunScope,
) -> reko_promote::pipeline::LivePlan {
    reko_promote::pipeline::plan_live(ctx, desired, scope).await
}

async fn run(ctx: &AwsContext, live: &reko_promote::pipeline::LivePlan) -> ApplyReport {
    run_with(ctx, live, true).await
}

/// Applies `live`'s plan, waiting for the copies or (`wait: false`) only starting them.
async fn run_with(
    ctx: &AwsContext,
    live: &reko_promote::pipeline::LivePlan,
    wait: bool,
) -> ApplyReport {
    let options = ApplyOptions {
        wait,
        max_in_flight: None,
        timeout: Some(Duration::from_secs(60)),
        backoff: apply::wait::Backoff {
            initial: Duration::from_millis(20),
            max: Duration::from_millis(100),
        },
        ..ApplyOptions::default()
    };
    apply::apply(
        ctx,
        &live.sessions,
        &live.plan,
        &options,
        &Progress::silent(),
        apply::never_interrupted(),
    )
    .await
}

fn source_policies(sb: &SandboxHandle) -> BTreeMap<String, reko_promote::sandbox::state::Policy> {
    sb.state().rekognition[org::SOURCE_ACCOUNT][org::REGION].projects[&org::project_name(0)]
        .policies
        .clone()
}

fn version_arns(sb: &SandboxHandle) -> Vec<String> {
    sb.state().rekognition[org::SOURCE_ACCOUNT][org::REGION].projects[&org::project_name(0)]
        .versions
        .values()
        .map(|v| v.arn.clone())
        .collect()
}

/// Whether the live documents let `account` copy `version_arn`.
fn allowed(
    policies: &BTreeMap<String, reko_promote::sandbox::state::Policy>,
    account: &str,
    version_arn: &str,
) -> bool {
    let documents: Vec<PolicyDocument> = policies
        .values()
        .filter_map(|p| PolicyDocument::parse(&p.document).ok())
        .collect();
    let caller = Caller {
        account_id: account.into(),
        iam_arn: Some(org::role_arn(account)),
        session_arn: None,
    };
    policy::evaluate(&documents, &caller, policy::COPY_ACTION, version_arn) == Decision::Allowed
}

fn overflow_of(plan: &PlanDocument) -> reko_promote::plan::PolicyOverflow {
    let entry = plan
        .entries
        .iter()
        .find(|e| e.action == Action::Blocked)
        .expect("a blocked entry");
    match &entry.reason {
        Reason::PolicyOverflow { overflow } => *overflow,
        other => panic!("{other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_accounts_fit_with_the_project_scope_then_shrinking_withdraws_their_grants() {
    const ACCOUNTS: usize = 200;
    const VERSIONS: usize = 10;
    let sb = organisation(ACCOUNTS, VERSIONS).await;
    let ctx = context(&sb).await;
    let hand_written = source_policies(&sb)[HAND_WRITTEN].clone();

    // The default scope cannot fit 200 accounts × 10 exact ARNs: blocked, with the arithmetic.
    let narrow = plan(
        &ctx,
        &desired(ACCOUNTS, VERSIONS, PolicyScope::Versions),
        &RunScope::full(),
    )
    .await;
    assert_eq!(narrow.plan.summary.blocked, ACCOUNTS * VERSIONS);
    assert_eq!(narrow.plan.summary.policies, 0);
    let overflow = overflow_of(&narrow.plan);
    eprintln!("200×10, versions scope: {overflow:?}");
    assert_eq!(overflow.accounts, ACCOUNTS);
    assert_eq!(overflow.available_policies, 4);
    assert_eq!(overflow.hand_written_policies, 1);
    assert!(overflow.needed_policies > 4, "{overflow:?}");
    assert_eq!(
        overflow.remedy,
        PolicyRemedy::WidenScope(PolicyScope::Project)
    );
    let text = reko_promote::render::plan::text(&narrow.plan, false);
    assert!(text.contains("policyScope: project"), "{text}");
    sb.reset_call_counts();
    let report = run(&ctx, &narrow).await;
    assert_eq!(report.summary.blocked, ACCOUNTS * VERSIONS);
    assert_eq!(sb.calls_of("PutProjectPolicy"), 0);
    assert_eq!(sb.calls_of("CopyProjectVersion"), 0);

    // `policyScope: project` fits: every copy made, within the budget.
    let wide = desired(ACCOUNTS, VERSIONS, PolicyScope::Project);
    let planned = plan(&ctx, &wide, &RunScope::full()).await;
    assert_eq!(planned.plan.summary.copy, ACCOUNTS * VERSIONS);
    let grants = &planned.plan.grants[0];
    let capacity = grants.capacity.expect("capacity stated");
    assert!(capacity.policies_used <= 5, "{capacity:?}");
    assert_eq!(capacity.hand_written_policies, 1);
    sb.reset_call_counts();
    let report = run(&ctx, &planned).await;
    assert!(
        report.succeeded(true),
        "{}",
        reko_promote::render::apply::text(&report)
    );
    assert_eq!(report.summary.copied, ACCOUNTS * VERSIONS);
    let writes = sb.calls_of("PutProjectPolicy");
    let policies = source_policies(&sb);
    assert!(policies.len() <= 5, "{:?}", policies.keys());
    assert!(
        policies
            .values()
            .all(|p| p.document.chars().count() <= MAX_DOCUMENT_CHARS)
    );
    assert_eq!(
        writes as usize,
        policies.len() - 1,
        "one write per managed document"
    );
    eprintln!(
        "200×10, project scope: {} managed policies ({} of 10,000 characters with the hand-written one), {writes} writes",
        policies.len() - 1,
        capacity.characters_used
    );
    let again = plan(&ctx, &wide, &RunScope::full()).await;
    assert!(
        !again.plan.summary.has_changes(),
        "{:?}",
        again.plan.summary
    );

    // Shrink to 100 accounts: the other 100 are granted nothing; the hand-written policy stays.
    let shrunk = plan(
        &ctx,
        &desired(100, VERSIONS, PolicyScope::Project),
        &RunScope::full(),
    )
    .await;
    assert!(shrunk.plan.summary.policies > 0);
    let report = run(&ctx, &shrunk).await;
    assert!(
        report.succeeded(true),
        "{}",
        reko_promote::render::apply::text(&report)
    );
    let policies = source_policies(&sb);
    let arns = version_arns(&sb);
    for i in 0..ACCOUNTS {
        let account = org::destination_account(i);
        for arn in &arns {
            assert_eq!(
                allowed(&policies, &account, arn),
                i < 100,
                "{account} {arn}"
            );
        }
    }
    let kept = &policies[HAND_WRITTEN];
    assert_eq!(kept.revision_id, hand_written.revision_id);
    assert_eq!(kept.document, hand_written.document);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn six_hundred_accounts_are_blocked_with_the_arithmetic_in_any_scope() {
    const ACCOUNTS: usize = 600;
    let sb = organisation(ACCOUNTS, 2).await;
    let ctx = context(&sb).await;
    for scope in [PolicyScope::Versions, PolicyScope::Project] {
        let planned = plan(&ctx, &desired(ACCOUNTS, 2, scope), &RunScope::full()).await;
        assert_eq!(planned.plan.summary.blocked, ACCOUNTS * 2, "{scope:?}");
        let overflow = overflow_of(&planned.plan);
        assert_eq!(overflow.scope, scope);
        assert_eq!(overflow.accounts, ACCOUNTS);
        // Account roots are 30 characters: about 265 fit 4 documents whatever the resources.
        assert_eq!(overflow.remedy, PolicyRemedy::FewerAccounts, "{overflow:?}");
        eprintln!("600 accounts, {scope:?}: {overflow:?}");
        let text = reko_promote::render::plan::text(&planned.plan, false);
        assert!(text.contains("fewer destination accounts"), "{text}");
        sb.reset_call_counts();
        let report = run(&ctx, &planned).await;
        assert_eq!(report.summary.blocked, ACCOUNTS * 2);
        assert_eq!(sb.calls_of("PutProjectPolicy"), 0);
        assert_eq!(sb.calls_of("DeleteProjectPolicy"), 0);
        assert_eq!(sb.calls_of("CopyProjectVersion"), 0);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_concurrent_targeted_applies_keep_every_grant() {
    const ACCOUNTS: usize = 40;
    const VERSIONS: usize = 3;
    let sb = organisation(ACCOUNTS, VERSIONS).await;
    let whole = desired(ACCOUNTS, VERSIONS, PolicyScope::Versions);
    let half = |range: std::ops::Range<usize>| {
        let targets: Vec<String> = range.map(|i| format!("dest-{i:03}")).collect();
        let selection = Selection {
            targets: targets.clone(),
            excludes: vec![],
        };
        let scope = RunScope::partial(vec![PartialCause::Selection {
            targets,
            excludes: vec![],
        }]);
        (selection.apply(&whole), scope)
    };
    let (first, first_scope) = half(0..ACCOUNTS / 2);
    let (second, second_scope) = half(ACCOUNTS / 2..ACCOUNTS);
    let (ctx_a, ctx_b) = (context(&sb).await, context(&sb).await);
    let (a, b) = tokio::join!(
        async {
            let live = plan(&ctx_a, &first, &first_scope).await;
            run(&ctx_a, &live).await
        },
        async {
            let live = plan(&ctx_b, &second, &second_scope).await;
            run(&ctx_b, &live).await
        }
    );
    assert!(
        a.succeeded(true),
        "{}",
        reko_promote::render::apply::text(&a)
    );
    assert!(
        b.succeeded(true),
        "{}",
        reko_promote::render::apply::text(&b)
    );
    let policies = source_policies(&sb);
    let arns = version_arns(&sb);
    for i in 0..ACCOUNTS {
        for arn in &arns {
            assert!(
                allowed(&policies, &org::destination_account(i), arn),
                "dest-{i:03} {arn}"
            );
        }
    }
    assert!(policies.contains_key(HAND_WRITTEN));
    // A full plan afterwards has nothing left to do.
    let ctx = context(&sb).await;
    let again = plan(&ctx, &whole, &RunScope::full()).await;
    assert!(
        !again.plan.summary.has_changes(),
        "{:?}",
        again.plan.summary
    );
}

/// The manifests of `destinations` accounts receiving `versions` versions (`policyScope:
/// versions`), with every account up to `declared` declared (an `Account` document each) though
/// no promotion sends it anything; `edit_accounts` rewrites the accounts file.
fn desired_declaring(
    destinations: usize,
    declared: usize,
    versions: usize,
    edit_accounts: impl Fn(String) -> String,
) -> DesiredState {
    let settings = format!(
        ", managePolicy: true, policyScope: {}",
        PolicyScope::Versions.manifest_name()
    );
    let shape = |destinations| org::Shape {
        destinations,
        source_projects: 1,
        versions_per_project: versions,
    };
    let (dir, sent) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    org::write_manifests_with(shape(declared), dir.path(), &settings);
    org::write_manifests_with(shape(destinations), sent.path(), &settings);
    let promotion = format!("{}.yaml", org::project_name(0));
    std::fs::copy(sent.path().join(&promotion), dir.path().join(&promotion)).unwrap();
    let accounts = dir.path().join("accounts.yaml");
    let text = std::fs::read_to_string(&accounts).unwrap();
    std::fs::write(&accounts, edit_accounts(text)).unwrap();
    desired_from(&[dir.path().to_path_buf()])
}

/// Starts copies of every version into both accounts of a two-account organisation and leaves
/// them in progress (a copy takes `COPY_MS` of the sandbox's clock).
async fn two_accounts_copying(sb: &SandboxHandle, ctx: &AwsContext) {
    let mut faults = sb.faults();
    faults.copy_duration_ms = COPY_MS;
    sb.set_faults(faults).unwrap();
    let both = plan(
        ctx,
        &desired(2, 2, PolicyScope::Versions),
        &RunScope::full(),
    )
    .await;
    started(ctx, &both).await;
}

const COPY_MS: u64 = 60_000;

/// Applies `live`'s plan without waiting for the copies it starts, and checks it succeeded.
async fn started(ctx: &AwsContext, live: &reko_promote::pipeline::LivePlan) {
    let report = run_with(ctx, live, false).await;
    assert!(
        report.succeeded(false),
        "{}",
        reko_promote::render::apply::text(&report)
    );
}

/// The outcomes of the plan's withdrawals, by (account ID, resource).
fn withdrawals(plan: &PlanDocument) -> BTreeMap<(String, String), WithdrawalOutcome> {
    plan.grants
        .iter()
        .flat_map(|g| &g.withdrawals)
        .map(|w| {
            (
                (w.account_id.clone(), w.resource.clone()),
                w.outcome.clone(),
            )
        })
        .collect()
}

fn plain(text: &str) -> String {
    anstream::adapter::strip_str(text).to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn copies_in_progress_keep_their_grants_until_they_end_even_for_a_dropped_account() {
    let sb = organisation(2, 2).await;
    let ctx = context(&sb).await;
    let hand_written = source_policies(&sb)[HAND_WRITTEN].clone();
    two_accounts_copying(&sb, &ctx).await;
    let (kept, dropped) = (org::destination_account(0), org::destination_account(1));
    let arns = version_arns(&sb);

    // dest-001 is dropped from the promotion (still declared) while both accounts' copies are
    // in progress: dest-000's placements need their grants, dest-001's copies keep theirs.
    let manifests = desired_declaring(1, 2, 2, |text| text);
    sb.reset_call_counts();
    let one = plan(&ctx, &manifests, &RunScope::full()).await;
    // The check reads dest-001 only: every project listed (one call), each one's versions.
    let reads = |sb: &SandboxHandle| {
        (
            sb.calls_of("DescribeProjects"),
            sb.calls_of("DescribeProjectVersions"),
        )
    };
    assert_eq!(
        reads(&sb),
        (3, 3),
        "src and dest-000 by name, dest-001 listed"
    );
    assert_eq!(one.plan.summary.in_progress, 2, "{:?}", one.plan.summary);
    assert_eq!(one.plan.summary.policies, 0, "nothing is withdrawn yet");
    let held = withdrawals(&one.plan);
    assert_eq!(held.len(), arns.len(), "{held:?}");
    let copy_prefix = format!(
        "arn:aws:rekognition:{}:{dropped}:project/{}/version/",
        org::REGION,
        org::project_name(0)
    );
    for arn in &arns {
        match &held[&(dropped.clone(), arn.clone())] {
            WithdrawalOutcome::KeptForCopiesInProgress { copies } => {
                assert_eq!(copies.len(), 1, "{copies:?}");
                assert_eq!(&copies[0].source_version_arn, arn);
                assert!(
                    copies[0].destination_version_arn.starts_with(&copy_prefix),
                    "{copies:?}"
                );
            }
            other => panic!("{arn}: {other:?}"),
        }
    }
    let text = plain(&reko_promote::render::plan::text(&one.plan, false));
    assert!(
        text.contains(&format!("grants to account {dropped} on ")),
        "{text}"
    );
    assert!(text.contains("copies they allow are in progress"), "{text}");
    assert!(text.contains(&copy_prefix), "{text}");
    let markdown = reko_promote::render::plan::markdown(&one.plan);
    assert!(
        markdown.contains("copies they allow are in progress"),
        "{markdown}"
    );
    let json = serde_json::to_string(&one.plan).unwrap();
    assert!(
        json.contains("\"kind\":\"kept-for-copies-in-progress\""),
        "{json}"
    );
    sb.reset_call_counts();
    started(&ctx, &one).await;
    assert_eq!(sb.calls_of("PutProjectPolicy"), 0);
    assert_eq!(sb.calls_of("DeleteProjectPolicy"), 0);
    let policies = source_policies(&sb);
    for arn in &arns {
        assert!(allowed(&policies, &kept, arn), "kept: {arn}");
        assert!(
            allowed(&policies, &dropped, arn),
            "kept while copying: {arn}"
        );
    }

    // The copies complete: the next full run withdraws dest-001's grants, and only those.
    sb.advance_clock(Duration::from_millis(COPY_MS + 1_000));
    let after = plan(&ctx, &manifests, &RunScope::full()).await;
    assert_eq!(after.plan.summary.unchanged, 2, "{:?}", after.plan.summary);
    assert!(after.plan.summary.policies > 0, "{:?}", after.plan.summary);
    let outcomes = withdrawals(&after.plan);
    assert_eq!(outcomes.len(), arns.len(), "{outcomes:?}");
    assert!(
        outcomes
            .values()
            .all(|o| *o == WithdrawalOutcome::Withdrawn),
        "{outcomes:?}"
    );
    let report = run(&ctx, &after).await;
    assert!(
        report.succeeded(true),
        "{}",
        reko_promote::render::apply::text(&report)
    );
    let policies = source_policies(&sb);
    for arn in &arns {
        assert!(allowed(&policies, &kept, arn), "kept: {arn}");
        assert!(!allowed(&policies, &dropped, arn), "withdrawn: {arn}");
    }
    assert_eq!(policies[HAND_WRITTEN].revision_id, hand_written.revision_id);
    sb.reset_call_counts();
    let again = plan(&ctx, &manifests, &RunScope::full()).await;
    assert_eq!(
        reads(&sb),
        (2, 2),
        "nothing to withdraw: no account is listed"
    );
    assert!(
        !again.plan.summary.has_changes(),
        "{:?}",
        again.plan.summary
    );
    assert!(withdrawals(&again.plan).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_account_no_longer_declared_is_withdrawn_without_the_copy_check_and_the_plan_says_so() {
    let sb = organisation(2, 2).await;
    let ctx = context(&sb).await;
    let hand_written = source_policies(&sb)[HAND_WRITTEN].clone();
    two_accounts_copying(&sb, &ctx).await;
    let (kept, dropped) = (org::destination_account(0), org::destination_account(1));
    // dest-001 is gone from the manifests altogether (no Account document): its role is
    // unknown, so its copies cannot be looked for.
    sb.reset_call_counts();
    let one = plan(
        &ctx,
        &desired(1, 2, PolicyScope::Versions),
        &RunScope::full(),
    )
    .await;
    assert_eq!(one.plan.summary.in_progress, 2, "{:?}", one.plan.summary);
    assert!(one.plan.summary.policies > 0, "{:?}", one.plan.summary);
    assert_eq!(
        sb.calls_of("DescribeProjects"),
        2,
        "the source and dest-000, by name: no account is listed for copies"
    );
    let outcomes = withdrawals(&one.plan);
    assert_eq!(outcomes.len(), 2, "{outcomes:?}");
    for ((account, _), outcome) in &outcomes {
        assert_eq!(account, &dropped);
        assert_eq!(*outcome, WithdrawalOutcome::WithdrawnAccountNotDeclared);
    }
    let text = plain(&reko_promote::render::plan::text(&one.plan, false));
    assert!(
        text.contains(
            "without checking for copies in progress: the account has no Account document any more"
        ),
        "{text}"
    );
    started(&ctx, &one).await;
    let policies = source_policies(&sb);
    for arn in version_arns(&sb) {
        assert!(allowed(&policies, &kept, &arn), "kept: {arn}");
        assert!(!allowed(&policies, &dropped, &arn), "withdrawn: {arn}");
    }
    assert_eq!(policies[HAND_WRITTEN].revision_id, hand_written.revision_id);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_account_whose_copies_cannot_be_read_keeps_its_grants() {
    let sb = organisation(2, 2).await;
    let ctx = context(&sb).await;
    two_accounts_copying(&sb, &ctx).await;
    let dropped = org::destination_account(1);
    // dest-001 is still declared, but with a role that does not exist: its copies are unknown.
    let broken_role = org::role_arn(&dropped);
    let manifests = desired_declaring(1, 2, 2, |text| {
        text.replace(
            &broken_role,
            &format!("arn:aws:iam::{dropped}:role/missing"),
        )
    });
    let one = plan(&ctx, &manifests, &RunScope::full()).await;
    assert_eq!(one.plan.summary.policies, 0, "{:?}", one.plan.summary);
    let outcomes = withdrawals(&one.plan);
    assert_eq!(outcomes.len(), 2, "{outcomes:?}");
    for outcome in outcomes.values() {
        match outcome {
            WithdrawalOutcome::KeptCopiesUnread {
                problem: CopiesUnread::Account { problem },
            } => assert!(problem.to_string().contains("role/missing"), "{problem}"),
            other => panic!("{other:?}"),
        }
    }
    let text = plain(&reko_promote::render::plan::text(&one.plan, false));
    assert!(
        text.contains("its copies in progress could not be read"),
        "{text}"
    );
    sb.reset_call_counts();
    started(&ctx, &one).await;
    assert_eq!(sb.calls_of("PutProjectPolicy"), 0);
    let policies = source_policies(&sb);
    for arn in version_arns(&sb) {
        assert!(
            allowed(&policies, &dropped, &arn),
            "kept on an unknown: {arn}"
        );
    }
}
