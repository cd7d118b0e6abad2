//! The managed policy documents of one source project, packed into AWS's budget, and the safe
//! order of writes that puts them in place: the one function plan and apply both call.
//!
//! The grants (destination account → exact version ARNs) come from the plan's entries; this
//! module decides which live policies are managed (the packed names `reko-promote-managed-N`
//! and the legacy per-account names `reko-promote-<12 digits>[-N]`, migrated and deleted), what
//! the others leave of the budget, what a partial run or a withheld account keeps of the live
//! managed grants, which live grants a full run no longer needs and whether each is withdrawn or
//! kept (a copy it allows still in progress, or the account's copies unknown: [`withdrawals`],
//! from the copies `state::copies` read), and returns the documents (`policy_pack::pack`), the writes
//! (`policy_pack::write_steps`) and the capacity used, or the typed [`Reason`] the grants cannot
//! be written for. Packing and ordering themselves are `policy_pack`'s; reading and writing
//! policies are `state`'s and `apply`'s.

use std::collections::BTreeSet;

use crate::constraints::ProjectVersionArn;
use crate::desired::{PolicyScope, ProjectRef};
use crate::policy;
use crate::policy_pack::{
    self, Budget, Capacity, Grants, ManagedPolicy, PackError, PackRequest, WriteStep,
};
use crate::state::copies::CopyChecks;
use crate::state::{CopiesInProgress, CopiesUnread, CopyInProgress, LivePolicy, LiveState};

use super::document::{
    PlanDocument, PlanEntry, PolicyCapacity, PolicyOverflow, Reason, SourceGrants, Withdrawal,
    WithdrawalOutcome,
};

/// Managed policies are named `reko-promote-managed-1` … `reko-promote-managed-5`.
pub const MANAGED_PREFIX: &str = "reko-promote-managed";

/// Whether reko-promote manages the policy called `name`: a packed name, or a legacy
/// per-account one (`reko-promote-<12 digits>`, `reko-promote-<12 digits>-N`).
pub fn is_managed_policy_name(name: &str) -> bool {
    if policy_pack::is_packed_policy_name(MANAGED_PREFIX, name) {
        return true;
    }
    let Some(rest) = name.strip_prefix("reko-promote-") else {
        return false;
    };
    let (account, part) = match rest.split_once('-') {
        Some((account, part)) => (account, Some(part)),
        None => (rest, None),
    };
    let is_account = account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit());
    let part_ok =
        part.is_none_or(|p| !p.starts_with('0') && p.parse::<usize>().is_ok_and(|n| n >= 2));
    is_account && part_ok
}

/// The documents of one source project and the writes that put them in place.
#[derive(Debug, Clone)]
pub struct Packed {
    pub policies: Vec<ManagedPolicy>,
    /// The managed policies live now (packed or legacy names).
    pub managed_live: Vec<policy_pack::LivePolicy>,
    /// Every write, in the safe order (empty for an unmanaged project).
    pub steps: Vec<WriteStep>,
    pub capacity: PolicyCapacity,
}

/// The source project of `grants`, as the packer names it.
pub fn source_project(grants: &SourceGrants) -> ProjectRef {
    // `arn:PARTITION:rekognition:REGION:ACCOUNT:project/NAME/CREATED`
    let name = grants
        .project_arn
        .split_once(":project/")
        .map(|(_, rest)| rest.split('/').next().unwrap_or(rest))
        .unwrap_or_default();
    ProjectRef {
        account_id: grants.source_account.account_id.clone(),
        region: grants.region.clone(),
        name: name.to_string(),
        arn: Some(grants.project_arn.clone()),
    }
}

/// The version ARNs of `project_arn` the entries know (to read a live pattern as versions).
pub fn known_versions(entries: &[PlanEntry], project_arn: &str) -> BTreeSet<String> {
    entries
        .iter()
        .filter(|e| e.source.project_arn.as_deref() == Some(project_arn))
        .filter_map(|e| e.source.version_arn.clone())
        .collect()
}

/// Whether `arn` is a version ARN of `source`.
fn is_version_of(source: &ProjectRef, arn: &str) -> bool {
    ProjectVersionArn::parse(arn).is_ok_and(|v| {
        v.region == source.region && v.account_id == source.account_id && v.project == source.name
    })
}

/// The grants the entries need: the plan's, plus what the live managed documents grant the
/// accounts that keep theirs (every account on a partial run; withheld accounts always). A live
/// pattern is read as the known versions it matches.
fn needed_grants(
    grants: &SourceGrants,
    source: &ProjectRef,
    managed_live: &[policy_pack::LivePolicy],
    keep_existing: bool,
    known: &BTreeSet<String>,
) -> Grants {
    let mut wanted: Grants = grants
        .grants
        .iter()
        .map(|(account, arns)| {
            let arns = arns.iter().filter(|a| is_version_of(source, a)).cloned();
            (account.clone(), arns.collect())
        })
        .collect();
    for live in managed_live {
        for (account, resource) in policy_pack::pairs_of(&live.document) {
            if keep_existing || grants.withheld.contains(&account) {
                let arns = versions_of(source, &resource, known, grants.scope);
                wanted.entry(account).or_default().extend(arns);
            }
        }
    }
    wanted.retain(|_, arns| !arns.is_empty());
    wanted
}

/// The versions a live grant's `resource` stands for: itself when it is a version ARN of
/// `source`, else the known versions the pattern matches. A by-name pattern
/// (`…/version/NAME/*`) that matches no known version (a name this run does not see: a partial
/// run, or a dropped version whose grant is kept) still stands for NAME when the source packs by
/// name or wider: the packer needs one version of that name to write the same pattern again, so
/// a stand-in ARN of that name is used. Under `versions` (exact ARNs) no stand-in is made: a
/// pattern is narrowed to the known versions it matches.
fn versions_of(
    source: &ProjectRef,
    resource: &str,
    known: &BTreeSet<String>,
    scope: PolicyScope,
) -> Vec<String> {
    if is_version_of(source, resource) {
        return vec![resource.to_string()];
    }
    let matched: Vec<String> = known
        .iter()
        .filter(|k| policy::wildcard_match(resource, k, policy::Wildcards::Arn))
        .cloned()
        .collect();
    if !matched.is_empty() || scope == PolicyScope::Versions {
        return matched;
    }
    // `…/version/NAME/*` → `…/version/NAME/0`, a version ARN the scoped packer maps back to
    // exactly `resource` (or the project pattern, when the scope is `project`).
    resource
        .strip_suffix("/*")
        .map(|by_name| format!("{by_name}/0"))
        .filter(|stand_in| is_version_of(source, stand_in))
        .into_iter()
        .collect()
}

/// The grants to pack: those the entries need, plus the withdrawals the plan keeps (for a copy
/// in progress: the version it copies; for an account whose copies are unknown: the grant as
/// it stands).
fn grants_to_pack(
    grants: &SourceGrants,
    source: &ProjectRef,
    managed_live: &[policy_pack::LivePolicy],
    keep_existing: bool,
    known: &BTreeSet<String>,
) -> Grants {
    let mut wanted = needed_grants(grants, source, managed_live, keep_existing, known);
    for withdrawal in grants.withdrawals.iter().filter(|w| w.outcome.keeps()) {
        let arns = match &withdrawal.outcome {
            WithdrawalOutcome::KeptForCopiesInProgress { copies } => copies
                .iter()
                .map(|c| c.source_version_arn.clone())
                .filter(|arn| is_version_of(source, arn))
                .collect(),
            _ => versions_of(source, &withdrawal.resource, known, grants.scope),
        };
        if !arns.is_empty() {
            wanted
                .entry(withdrawal.account_id.clone())
                .or_default()
                .extend(arns);
        }
    }
    wanted
}

/// What a plan knows of one destination account's copies in progress (in the source's region).
#[derive(Debug, Clone, Copy)]
pub enum CopyCheck<'a> {
    /// Read: these copies are under way.
    Read(&'a BTreeSet<CopyInProgress>),
    /// The read failed.
    Unread(&'a CopiesUnread),
    /// The account has no `Account` document: no role to read it with.
    NotDeclared,
    /// Not read (yet).
    NotChecked,
}

/// What `live` says of the copies in progress of `account_id` in `region`; `declared` holds the
/// IDs of the accounts the manifests declare.
pub fn copy_check<'a>(
    live: &'a LiveState,
    declared: &BTreeSet<String>,
    account_id: &str,
    region: &str,
) -> CopyCheck<'a> {
    if !declared.contains(account_id) {
        return CopyCheck::NotDeclared;
    }
    match live
        .copies_in_progress
        .get(account_id)
        .and_then(|regions| regions.get(region))
    {
        Some(CopiesInProgress::Read(copies)) => CopyCheck::Read(copies),
        Some(CopiesInProgress::Unread(problem)) => CopyCheck::Unread(problem),
        None => CopyCheck::NotChecked,
    }
}

/// The live managed grants of one source project a full run no longer needs (none on a partial
/// run, for an unmanaged project, or for a withheld account), each with its outcome: withdrawn,
/// or kept while `check` finds a copy it allows in progress or cannot say.
pub fn withdrawals<'a>(
    grants: &SourceGrants,
    live: &[LivePolicy],
    scope: PolicyScope,
    keep_existing: bool,
    known: &BTreeSet<String>,
    check: impl Fn(&str) -> CopyCheck<'a>,
) -> Vec<Withdrawal> {
    if !grants.managed || keep_existing {
        return Vec::new();
    }
    let source = source_project(grants);
    let managed_live = managed_live(live);
    let needed = needed_grants(grants, &source, &managed_live, keep_existing, known);
    let Some(needed) = scoped_pairs(&needed, scope) else {
        // An unparsable version ARN blocks the project: nothing is written, so nothing withdrawn.
        return Vec::new();
    };
    let still_granted = |account: &str, resource: &str| {
        needed.iter().any(|(a, r)| {
            a == account
                && (r == resource || policy::wildcard_match(r, resource, policy::Wildcards::Arn))
        })
    };
    let dropped: BTreeSet<policy_pack::Pair> = managed_live
        .iter()
        .flat_map(|p| policy_pack::pairs_of(&p.document))
        .filter(|(account, resource)| {
            !grants.withheld.contains(account) && !still_granted(account, resource)
        })
        .collect();
    dropped
        .into_iter()
        .map(|(account_id, resource)| {
            let outcome = match check(&account_id) {
                CopyCheck::Read(copies) => {
                    let allowed: Vec<CopyInProgress> = copies
                        .iter()
                        .filter(|c| {
                            is_version_of(&source, &c.source_version_arn)
                                && (c.source_version_arn == resource
                                    || policy::wildcard_match(
                                        &resource,
                                        &c.source_version_arn,
                                        policy::Wildcards::Arn,
                                    ))
                        })
                        .cloned()
                        .collect();
                    if allowed.is_empty() {
                        WithdrawalOutcome::Withdrawn
                    } else {
                        WithdrawalOutcome::KeptForCopiesInProgress { copies: allowed }
                    }
                }
                CopyCheck::Unread(problem) => WithdrawalOutcome::KeptCopiesUnread {
                    problem: problem.clone(),
                },
                CopyCheck::NotDeclared => WithdrawalOutcome::WithdrawnAccountNotDeclared,
                CopyCheck::NotChecked => WithdrawalOutcome::KeptCopiesNotChecked,
            };
            Withdrawal {
                account_id,
                resource,
                outcome,
            }
        })
        .collect()
}

/// The copy checks a plan still needs: for each destination account, the regions where a
/// withdrawal waits for its copies in progress to be read.
pub fn copy_checks_needed(plan: &PlanDocument) -> CopyChecks {
    let mut checks = CopyChecks::new();
    for g in &plan.grants {
        for w in &g.withdrawals {
            if w.outcome == WithdrawalOutcome::KeptCopiesNotChecked {
                checks
                    .entry(w.account_id.clone())
                    .or_default()
                    .insert(g.region.clone());
            }
        }
    }
    checks
}

/// The managed policies among `live` (packed or legacy names), as the packer takes them.
fn managed_live(live: &[LivePolicy]) -> Vec<policy_pack::LivePolicy> {
    live.iter()
        .filter(|p| is_managed_policy_name(&p.name))
        .map(|p| policy_pack::LivePolicy {
            name: p.name.clone(),
            revision_id: p.revision_id.clone(),
            document: p.document.clone(),
        })
        .collect()
}

/// The grants as the statements write them with `scope`: (account ID, resource or pattern);
/// `None` when a version ARN does not parse (the packer then reports it).
fn scoped_pairs(wanted: &Grants, scope: PolicyScope) -> Option<BTreeSet<policy_pack::Pair>> {
    let mut pairs = BTreeSet::new();
    for (account, arns) in wanted {
        for arn in arns {
            let version = ProjectVersionArn::parse(arn).ok()?;
            pairs.insert((
                account.clone(),
                policy_pack::scoped_resource(scope, &version),
            ));
        }
    }
    Some(pairs)
}

fn capacity(c: Capacity, hand_written_policies: usize) -> PolicyCapacity {
    PolicyCapacity {
        policies_used: c.policies_used,
        policies_max: c.policies_max,
        characters_used: c.characters_used,
        characters_max: c.characters_max,
        hand_written_policies,
    }
}

/// Packs the grants of one source project against its `live` policies with `scope`; for a
/// managed project, also orders the writes from the live managed policies. `Err` is the reason
/// the placements that need these grants are blocked (and apply writes nothing).
pub fn pack_project(
    grants: &SourceGrants,
    live: &[LivePolicy],
    scope: PolicyScope,
    keep_existing: bool,
    known: &BTreeSet<String>,
) -> Result<Packed, Reason> {
    let source = source_project(grants);
    let hand_written: Vec<&LivePolicy> = live
        .iter()
        .filter(|p| !is_managed_policy_name(&p.name))
        .collect();
    let budget = Budget::hand_written(
        hand_written.len(),
        hand_written
            .iter()
            .map(|p| p.document.chars().count())
            .sum(),
    );
    let managed_live = managed_live(live);
    let wanted = grants_to_pack(grants, &source, &managed_live, keep_existing, known);
    // Withdrawals (and nothing to do) keep the live layout: no grant moves, a full project can
    // always shrink, and the next plan finds nothing to write.
    if grants.managed
        && managed_live
            .iter()
            .all(|p| policy_pack::is_packed_policy_name(MANAGED_PREFIX, &p.name))
        && let Some(keep) = scoped_pairs(&wanted, scope)
        && let Some((policies, steps)) = policy_pack::shrink_in_place(&managed_live, &keep)
    {
        return Ok(Packed {
            capacity: capacity(Capacity::of(&budget, &policies), hand_written.len()),
            policies,
            managed_live,
            steps,
        });
    }
    let request = PackRequest::new(&source, &wanted, scope, budget, MANAGED_PREFIX);
    let policies = policy_pack::pack(&request).map_err(|error| match error {
        PackError::Overflow { overflow, .. } => Reason::PolicyOverflow { overflow },
        other => Reason::PolicyGrantInvalid {
            error: other.to_string(),
        },
    })?;
    let steps = if grants.managed {
        policy_pack::write_steps(&managed_live, &policies, hand_written.len(), MANAGED_PREFIX)
            .map_err(|stuck| Reason::PolicyNoSafeOrder {
                policies: stuck.blocked,
            })?
    } else {
        Vec::new()
    };
    Ok(Packed {
        capacity: capacity(Capacity::of(&budget, &policies), hand_written.len()),
        policies,
        managed_live,
        steps,
    })
}

/// The capacity grants that overflow would need.
pub fn overflow_capacity(overflow: &PolicyOverflow, live: &[LivePolicy]) -> PolicyCapacity {
    let hand_written: Vec<&LivePolicy> = live
        .iter()
        .filter(|p| !is_managed_policy_name(&p.name))
        .collect();
    PolicyCapacity {
        policies_used: overflow.hand_written_policies + overflow.needed_policies,
        policies_max: policy::MAX_POLICIES_PER_PROJECT,
        characters_used: overflow.needed_characters
            + hand_written
                .iter()
                .map(|p| p.document.chars().count())
                .sum::<usize>(),
        characters_max: policy::MAX_POLICIES_PER_PROJECT * policy::MAX_DOCUMENT_CHARS,
        hand_written_policies: overflow.hand_written_policies,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn managed_names_are_the_packed_and_the_legacy_ones() {
        for name in [
            "reko-promote-managed-1",
            "reko-promote-managed-5",
            "reko-promote-222222222222",
            "reko-promote-222222222222-2",
        ] {
            assert!(is_managed_policy_name(name), "{name}");
        }
        for name in [
            "reko-promote-managed-6",
            "reko-promote-managed-01",
            "reko-promote-22222222222",
            "reko-promote-222222222222-1",
            "reko-promote-222222222222-x",
            "hand-written",
            "reko-promote",
        ] {
            assert!(!is_managed_policy_name(name), "{name}");
        }
    }
}
