//! The managed-policy packer on generated grant sets: every document parses and fits, the set
//! fits the budget whenever the packer says so and grants exactly the input (checked by expanding
//! the statements and by the policy evaluator), the output is deterministic, an overflow is
//! consistent with a lower bound, and the write order of a repack never drops a kept grant.
//! Also the capacity figures: how many accounts fit in 5 policies for each scope.

use std::collections::{BTreeMap, BTreeSet};

use proptest::prelude::*;
use reko_promote::constraints::ProjectVersionArn;
use reko_promote::desired::{PolicyScope, ProjectRef};
use reko_promote::policy::{Caller, Decision, PolicyDocument, evaluate};
use reko_promote::policy_pack::{
    Budget, Grants, LivePolicy, ManagedPolicy, PackError, PackRequest, PrincipalForm, Remedy,
    WriteStep, lower_bound_policies, pack, pairs_of, scoped_resource, shrink_in_place, write_steps,
};

const MAX_CHARS: usize = 2000;
/// No generated account is this one.
const STRANGER: &str = "999999999999";

fn source(project: &str) -> ProjectRef {
    ProjectRef {
        account_id: "111111111111".into(),
        region: "eu-west-1".into(),
        name: project.into(),
        arn: None,
    }
}

fn version_arn(project: &str, name: &str, created: u64) -> String {
    format!("arn:aws:rekognition:eu-west-1:111111111111:project/{project}/version/{name}/{created}")
}

fn request<'a>(
    source: &'a ProjectRef,
    grants: &'a Grants,
    scope: PolicyScope,
    hand_written: usize,
) -> PackRequest<'a> {
    let budget = Budget::hand_written(hand_written, 0);
    PackRequest::new(source, grants, scope, budget, "reko-promote-managed")
}

/// A generated case: a source project, a pool of versions, and per account either one of a few
/// shared version sets (many accounts receive the same versions) or a set of its own.
#[derive(Debug, Clone)]
struct Case {
    project: String,
    /// (account ID, version ARNs) in generation order, which is not sorted.
    accounts: Vec<(String, Vec<String>)>,
    scope: PolicyScope,
    principal: PrincipalForm,
    hand_written: usize,
}

fn scope() -> impl Strategy<Value = PolicyScope> {
    prop_oneof![
        Just(PolicyScope::Versions),
        Just(PolicyScope::VersionNames),
        Just(PolicyScope::Project),
    ]
}

fn case() -> impl Strategy<Value = Case> {
    let pool = (1usize..40, 1usize..24);
    (
        "[a-z][a-z0-9-]{0,30}",
        pool,
        prop::collection::vec(prop::collection::btree_set(0usize..40, 1..=15), 1..6),
        prop::collection::vec(
            (
                any::<u64>(),
                prop::option::weighted(0.3, prop::collection::btree_set(0usize..40, 1..=15)),
                0usize..6,
            ),
            1..=700,
        ),
        scope(),
        prop_oneof![
            Just(PrincipalForm::AccountRoot),
            Just(PrincipalForm::AccountId)
        ],
        0usize..=4,
    )
        .prop_map(
            |(project, (pool_size, name_len), shared, accounts, scope, principal, hand_written)| {
                // Versions: names of varied length, several versions of some names.
                let versions: Vec<String> = (0..pool_size)
                    .map(|i| {
                        let name = format!("m{}{}", i % 7, "x".repeat(name_len + i % 5));
                        version_arn(&project, &name, 1_700_000_000_000 + i as u64)
                    })
                    .collect();
                let pick = |set: &BTreeSet<usize>| -> Vec<String> {
                    set.iter()
                        .map(|i| versions[i % pool_size].clone())
                        .collect()
                };
                let mut seen = BTreeSet::new();
                let accounts = accounts
                    .into_iter()
                    .filter_map(|(id, own, share)| {
                        let id = format!("{:012}", 100_000_000_000 + id % 800_000_000_000);
                        seen.insert(id.clone()).then(|| {
                            let set = own.unwrap_or_else(|| shared[share % shared.len()].clone());
                            (id, pick(&set))
                        })
                    })
                    .collect();
                Case {
                    project,
                    accounts,
                    scope,
                    principal,
                    hand_written,
                }
            },
        )
}

/// The (account, resource) pairs the documents grant, by expanding every statement; panics on a
/// `*` principal or anything but an account in the requested form.
fn expand(policies: &[ManagedPolicy], form: PrincipalForm) -> BTreeSet<(String, String)> {
    let mut pairs = BTreeSet::new();
    for policy in policies {
        let document = PolicyDocument::parse(&policy.document_json).expect("parses");
        for statement in &document.statements {
            for principal in &statement.principals {
                let account = match form {
                    PrincipalForm::AccountRoot => principal
                        .strip_prefix("arn:aws:iam::")
                        .and_then(|rest| rest.strip_suffix(":root")),
                    PrincipalForm::AccountId => Some(principal.as_str())
                        .filter(|p| p.len() == 12 && p.bytes().all(|b| b.is_ascii_digit())),
                }
                .unwrap_or_else(|| panic!("not an account: {principal}"));
                for resource in &statement.resources {
                    pairs.insert((account.to_string(), resource.clone()));
                }
            }
        }
    }
    pairs
}

fn caller(account: &str) -> Caller {
    Caller {
        account_id: account.into(),
        iam_arn: None,
        session_arn: None,
    }
}

fn check_case(case: &Case) -> Result<(), TestCaseError> {
    let source = source(&case.project);
    let grants: Grants = case
        .accounts
        .iter()
        .map(|(a, vs)| (a.clone(), vs.iter().cloned().collect()))
        .collect();
    let request = PackRequest {
        principal: case.principal,
        ..request(&source, &grants, case.scope, case.hand_written)
    };
    let available = 5 - case.hand_written;
    let result = pack(&request);

    // Deterministic: again, and from the accounts inserted in reverse order.
    let reversed: Grants = case
        .accounts
        .iter()
        .rev()
        .map(|(a, vs)| (a.clone(), vs.iter().rev().cloned().collect()))
        .collect();
    prop_assert_eq!(&pack(&request), &result);
    prop_assert_eq!(
        &pack(&PackRequest {
            grants: &reversed,
            ..request
        }),
        &result
    );

    let lower_bound = lower_bound_policies(&request).expect("valid grants");
    match result {
        Ok(policies) => {
            prop_assert!(policies.len() <= available);
            prop_assert!(policies.len() >= lower_bound, "the bound is a bound");
            for (i, policy) in policies.iter().enumerate() {
                prop_assert_eq!(&policy.name, &format!("reko-promote-managed-{}", i + 1));
                prop_assert!(policy.document_json.chars().count() <= MAX_CHARS);
                prop_assert!(!policy.document_json.contains(char::is_whitespace));
                serde_json::from_str::<serde_json::Value>(&policy.document_json)
                    .expect("valid JSON");
            }
            let expected: BTreeSet<(String, String)> = grants
                .iter()
                .flat_map(|(account, versions)| {
                    versions.iter().map(move |v| {
                        let arn = ProjectVersionArn::parse(v).unwrap();
                        (account.clone(), scoped_resource(case.scope, &arn))
                    })
                })
                .collect();
            prop_assert_eq!(
                expand(&policies, case.principal),
                expected,
                "exactly the input"
            );

            let documents: Vec<PolicyDocument> = policies
                .iter()
                .map(|p| PolicyDocument::parse(&p.document_json).unwrap())
                .collect();
            let copy = "rekognition:CopyProjectVersion";
            for (account, versions) in grants.iter().step_by(grants.len() / 40 + 1) {
                for version in versions {
                    prop_assert_eq!(
                        evaluate(&documents, &caller(account), copy, version),
                        Decision::Allowed
                    );
                    prop_assert_eq!(
                        evaluate(&documents, &caller(STRANGER), copy, version),
                        Decision::NotAllowed
                    );
                }
            }

            // Replacing these policies by those of the first half of the accounts: every write
            // sequence keeps the kept grants (checked in the unit tests' replay; here: it exists
            // and ends with deletes only).
            let half: Grants = grants
                .iter()
                .take(grants.len().div_ceil(2))
                .map(|(a, v)| (a.clone(), v.clone()))
                .collect();
            // (A heuristic packing of a subset may in theory need more policies: then skip.)
            let Ok(smaller) = pack(&PackRequest {
                grants: &half,
                ..request
            }) else {
                return Ok(());
            };
            let live: Vec<LivePolicy> = policies
                .iter()
                .map(|p| LivePolicy {
                    name: p.name.clone(),
                    revision_id: format!("r-{}", p.name),
                    document: p.document_json.clone(),
                })
                .collect();
            // A repack may find no safe order on a full project (it is then blocked with a
            // reason); a withdrawal in place always exists and is what plans prefer for it.
            let steps =
                match write_steps(&live, &smaller, case.hand_written, "reko-promote-managed") {
                    Ok(steps) => steps,
                    Err(_) => {
                        let kept: BTreeSet<(String, String)> = smaller
                            .iter()
                            .flat_map(|p| pairs_of(&p.document_json))
                            .collect();
                        let (shrunk, steps) =
                            shrink_in_place(&live, &kept).expect("a withdrawal in place");
                        let granted: BTreeSet<(String, String)> = shrunk
                            .iter()
                            .flat_map(|p| pairs_of(&p.document_json))
                            .collect();
                        prop_assert_eq!(&granted, &kept, "the shrunk policies grant what is kept");
                        for policy in &shrunk {
                            prop_assert!(policy.document_json.len() <= MAX_CHARS);
                        }
                        steps
                    }
                };
            let first_delete = steps
                .iter()
                .position(|s| matches!(s, WriteStep::Delete { .. }))
                .unwrap_or(steps.len());
            let deletes_last = steps[first_delete..]
                .iter()
                .all(|s| matches!(s, WriteStep::Delete { .. }));
            prop_assert!(deletes_last, "deletes come last: {:?}", steps);
        }
        Err(PackError::Overflow { overflow, .. }) => {
            prop_assert!(overflow.needed_policies > available);
            prop_assert_eq!(overflow.available_policies, available);
            prop_assert!(overflow.needed_policies >= lower_bound);
            prop_assert!(overflow.needed_characters > 0);
            prop_assert!(overflow.needed_characters <= overflow.needed_policies * MAX_CHARS);
            // The packer is close to the bound: at most twice it, plus one.
            prop_assert!(overflow.needed_policies <= 2 * lower_bound + 1);
            let wider = |scope: PolicyScope| pack(&PackRequest { scope, ..request });
            match overflow.remedy {
                Remedy::WidenScope(scope) => {
                    prop_assert!(scope > case.scope);
                    prop_assert!(wider(scope).is_ok());
                }
                Remedy::FewerAccounts => {
                    for scope in PolicyScope::ALL.into_iter().filter(|s| *s > case.scope) {
                        prop_assert!(wider(scope).is_err());
                    }
                }
            }
        }
        Err(other) => return Err(TestCaseError::fail(format!("unexpected error: {other}"))),
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn packed_policies_fit_and_grant_exactly_the_input(case in case()) {
        check_case(&case)?;
    }
}

/// The most accounts that fit (all 5 policies free) when each receives `versions` versions,
/// the same ones for all (`shared`) or its own.
fn max_accounts(
    scope: PolicyScope,
    principal: PrincipalForm,
    versions: usize,
    shared: bool,
) -> usize {
    let project = "defect-detector";
    let source = source(project);
    let grants_of = |accounts: usize| -> Grants {
        (0..accounts)
            .map(|a| {
                let set = (0..versions)
                    .map(|v| {
                        let n = if shared { v } else { a * versions + v };
                        version_arn(
                            project,
                            &format!("defect-detector.2026-11-15T{n:08}"),
                            1_700_000_000_000 + n as u64,
                        )
                    })
                    .collect();
                (format!("{:012}", 200_000_000_000usize + a), set)
            })
            .collect()
    };
    let fits = |accounts: usize| {
        let grants = grants_of(accounts);
        pack(&PackRequest {
            principal,
            ..request(&source, &grants, scope, 0)
        })
        .is_ok()
    };
    let (mut low, mut high) = (0, 1);
    while fits(high) {
        low = high;
        high *= 2;
    }
    while high - low > 1 {
        let mid = (low + high) / 2;
        if fits(mid) {
            low = mid;
        } else {
            high = mid;
        }
    }
    low
}

#[test]
fn capacity_of_five_policies_by_scope() {
    let shapes = [(1, true), (10, true), (10, false)];
    let mut figures = BTreeMap::new();
    for principal in [PrincipalForm::AccountRoot, PrincipalForm::AccountId] {
        for scope in PolicyScope::ALL {
            for (versions, shared) in shapes {
                let accounts = max_accounts(scope, principal, versions, shared);
                println!(
                    "{principal:?} policyScope {:<12} {versions:>2} versions per account, {}: \
                     {accounts} accounts",
                    scope.manifest_name(),
                    if shared {
                        "the same for all"
                    } else {
                        "distinct"
                    },
                );
                figures.insert((principal, scope, versions, shared), accounts);
            }
        }
    }
    for principal in [PrincipalForm::AccountRoot, PrincipalForm::AccountId] {
        // Wider scopes never fit fewer accounts; shared versions never fewer than distinct ones.
        for (versions, shared) in shapes {
            let by_scope: Vec<usize> = PolicyScope::ALL
                .iter()
                .map(|s| figures[&(principal, *s, versions, shared)])
                .collect();
            assert!(by_scope.windows(2).all(|w| w[0] <= w[1]), "{by_scope:?}");
        }
        for scope in PolicyScope::ALL {
            assert!(
                figures[&(principal, scope, 10, true)] >= figures[&(principal, scope, 10, false)]
            );
        }
        // The project pattern is one short resource whatever the versions.
        assert_eq!(
            figures[&(principal, PolicyScope::Project, 1, true)],
            figures[&(principal, PolicyScope::Project, 10, false)]
        );
    }
    // Account IDs are less than half as long as account roots: about twice the accounts fit.
    assert!(
        figures[&(PrincipalForm::AccountId, PolicyScope::Project, 1, true)]
            > 2 * figures[&(PrincipalForm::AccountRoot, PolicyScope::Project, 1, true)]
    );
}

/// The shapes issue 12's acceptance tests name, as the packer sees them (one source project,
/// every account receiving the same versions): which fit and which are blocked.
#[test]
fn issue_12_shapes() {
    let project = "label-reader";
    let source = source(project);
    let grants_of = |accounts: usize, versions: usize| -> Grants {
        let set: BTreeSet<String> = (0..versions)
            .map(|v| version_arn(project, &format!("label-reader.v{v:02}"), 1_700_000_000_000))
            .collect();
        (0..accounts)
            .map(|a| (format!("{:012}", 200_000_000_000usize + a), set.clone()))
            .collect()
    };
    let outcome = |accounts, versions, scope, principal, hand_written| {
        let grants = grants_of(accounts, versions);
        let result = pack(&PackRequest {
            principal,
            ..request(&source, &grants, scope, hand_written)
        });
        let text = match &result {
            Ok(policies) => format!("fits in {} policies", policies.len()),
            Err(error) => error.to_string(),
        };
        println!(
            "{accounts} accounts x {versions} versions, {scope:?}, {principal:?}, {hand_written} hand-written: {text}"
        );
        result
    };
    use PolicyScope::{Project, Versions};
    use PrincipalForm::{AccountId, AccountRoot};
    // 200 accounts x 10 versions beside one hand-written policy: blocked with exact ARNs and
    // account roots (the remedy names `project`), fits with the project pattern.
    let blocked = outcome(200, 10, Versions, AccountRoot, 1).unwrap_err();
    assert!(matches!(
        blocked,
        PackError::Overflow { ref overflow, .. } if overflow.remedy == Remedy::WidenScope(Project)
    ));
    assert!(outcome(200, 10, Project, AccountRoot, 1).is_ok());
    // With bare account IDs the exact ARNs fit.
    assert!(outcome(200, 10, Versions, AccountId, 1).is_ok());
    // 600 accounts do not fit 5 policies of 2,000 characters even with the project pattern.
    for principal in [AccountRoot, AccountId] {
        let blocked = outcome(600, 10, Project, principal, 0).unwrap_err();
        assert!(matches!(
            blocked,
            PackError::Overflow { ref overflow, .. } if overflow.remedy == Remedy::FewerAccounts
        ));
    }
}

#[test]
fn policy_scope_reaches_every_placement_of_its_source() {
    let promotion = |name: &str, source: &str, destination: &str| {
        format!(
            "apiVersion: reko-promote/v1\nkind: Promotion\nname: {name}\nregion: eu-west-1\n\
             source: {source}\nversions: [{{ version: v1 }}]\n\
             destinations: {{ {destination}: {{ account: {destination}, project: {name} }} }}\n"
        )
    };
    let (_dir, path) = crate::support::manifests(&[(
        "promotions.yaml",
        [
            promotion(
                "to-staging",
                "{ account: ml, project: defect-detector, managePolicy: true, policyScope: versionNames }",
                "staging",
            ),
            promotion(
                "to-prod",
                "{ account: ml, project: defect-detector, managePolicy: true, policyScope: versionNames }",
                "prod",
            ),
            // Not managed: its scope shapes nothing, so it may differ.
            promotion(
                "to-prod-other",
                "{ account: ml, project: other, policyScope: project }",
                "prod",
            ),
        ]
        .join("---\n"),
    )]);
    let desired =
        crate::support::desired_from(&[crate::support::rel("tests/manifests/common"), path]);
    let scopes: BTreeMap<&str, PolicyScope> = desired
        .placements
        .iter()
        .map(|p| (p.promotion.as_str(), p.policy_scope))
        .collect();
    assert_eq!(
        scopes,
        [
            ("to-prod", PolicyScope::VersionNames),
            ("to-prod-other", PolicyScope::Project),
            ("to-staging", PolicyScope::VersionNames),
        ]
        .into()
    );
}
