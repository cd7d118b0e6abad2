//! Planning: a pure function of the desired state and the live state, producing the plan
//! document.
//!
//! No I/O happens here: `state::read` fetched the live state, the renderers and `apply` consume
//! the [`PlanDocument`]. Each placement gets exactly one typed [`Reason`] (and so one
//! [`Action`]); settings that cannot change on an existing version are reported as drift; the
//! grants of every source project are computed once, from the entries that can be carried out,
//! with the policy documents apply writes; each placement gets a fingerprint of the state it was
//! planned against, so a saved plan can be refused once that state moves. Quality gates and
//! promotion chains (`gates`) then hold placements that would otherwise be copied; "now", which
//! soak times are measured against, is an input ([`compute_at`]). What runs and what is pruned
//! in destination projects declaring `running` or `prune` is `serving`'s part of the plan.

pub mod document;
pub mod gates;
pub mod grants;
pub mod serving;

use std::collections::{BTreeMap, BTreeSet};

use sha2::{Digest, Sha256};

use crate::desired::{DesiredState, Placement, PlacementKey, PolicyScope};
use crate::policy::{self, Caller, Decision, PolicyDocument};
use crate::state::{LiveState, LiveVersion, ProjectKey, Timestamp, VersionStatus};

pub use document::{
    AccountIssue, AccountRef, Action, ChainEdge, CopySettings, DestinationSide, Drift, Fingerprint,
    LiveVersionView, NotRead, PartialCause, PlanDocument, PlanEntry, PlannedPolicy, PolicyCapacity,
    PolicyChange, PolicyOverflow, PolicyRemedy, Reason, RunScope, Side, SourceGrants, SourceSide,
    Summary, Withdrawal, WithdrawalOutcome,
};
pub use document::{
    Guard, ProjectServing, PruneMode, RunningView, ServingAction, ServingReason, ServingStep,
    VersionKey,
};

/// SHA-256 of the desired state's meaning (where each placement was declared left out, so
/// moving a manifest around does not make a saved plan stale).
pub fn manifests_digest(desired: &DesiredState) -> String {
    let mut hasher = HashWriter(Sha256::new());
    for account in &desired.accounts {
        hasher.feed(account);
    }
    for placement in &desired.placements {
        let mut placement = placement.clone();
        placement.origin = Default::default();
        hasher.feed(&placement);
    }
    for serving in &desired.serving {
        let mut serving = serving.clone();
        serving.origin = Default::default();
        hasher.feed(&serving);
    }
    hex::encode(hasher.0.finalize())
}

/// Computes the plan of `desired` against `live`, for a run of `scope`, now (the system clock:
/// it only matters to `soak`; [`compute_at`] takes it as input).
pub fn compute(desired: &DesiredState, live: &LiveState, scope: &RunScope) -> PlanDocument {
    compute_at(desired, live, scope, Timestamp::now())
}

/// Computes the plan of `desired` against `live`, for a run of `scope`, at `now` (soak times
/// are measured against it). Pure.
pub fn compute_at(
    desired: &DesiredState,
    live: &LiveState,
    scope: &RunScope,
    now: Timestamp,
) -> PlanDocument {
    // The digests depend on the desired and live states alone, not on any decision: they are
    // computed on another core while this one decides (a third of a large plan's computation).
    let ((fingerprints, manifests_digest), mut plan) = crate::parallel::join(
        || {
            let fingerprints: Vec<Fingerprint> = desired
                .placements
                .iter()
                .map(|p| fingerprint(live, p))
                .collect();
            (fingerprints, manifests_digest(desired))
        },
        || decide_all(desired, live, scope, now),
    );
    plan.fingerprints = fingerprints;
    plan.manifests_digest = manifests_digest;
    plan
}

/// The plan without its digests (`fingerprints`, `manifests_digest`: see [`compute_at`]).
fn decide_all(
    desired: &DesiredState,
    live: &LiveState,
    scope: &RunScope,
    now: Timestamp,
) -> PlanDocument {
    let mut entries: Vec<PlanEntry> = desired
        .placements
        .iter()
        .map(|p| plan_placement(desired, live, p))
        .collect();
    gates::hold(desired, live, now, &mut entries);
    let keep_existing = scope.partial || desired.partial;
    let scopes: BTreeMap<PlacementKey, PolicyScope> = desired
        .placements
        .iter()
        .map(|p| (p.key(), p.policy_scope))
        .collect();
    let declared: BTreeSet<String> = desired
        .accounts
        .iter()
        .map(|a| a.account_id.clone())
        .collect();
    let grants = source_grants(&entries, live, &scopes, &declared, keep_existing);
    block_unwritable(&mut entries, &grants);

    let mut summary = Summary::default();
    for entry in &entries {
        match entry.action {
            Action::Copy => summary.copy += 1,
            Action::Unchanged => summary.unchanged += 1,
            Action::InProgress => summary.in_progress += 1,
            Action::Conflict => summary.conflict += 1,
            Action::Blocked => summary.blocked += 1,
            Action::Unknown => summary.unknown += 1,
            Action::Held => summary.held += 1,
        }
        if !entry.drift.is_empty() {
            summary.drift += 1;
        }
    }
    summary.policies = grants
        .iter()
        .filter(|g| g.has_writes())
        .map(|g| g.writes)
        .sum();
    let mut scope = scope.clone();
    scope.partial = keep_existing;
    let serving = serving::plan(desired, live, &entries, &scope);
    for project in &serving {
        if project.unknown.is_some() {
            summary.unknown += 1;
        }
        for step in &project.steps {
            match step.action {
                ServingAction::Start => summary.start += 1,
                ServingAction::Restart => {
                    summary.start += 1;
                    summary.stop += 1;
                }
                ServingAction::Stop => summary.stop += 1,
                ServingAction::Delete => summary.delete += 1,
                ServingAction::Keep => {
                    if matches!(step.reason, ServingReason::UnitsDiffer { .. }) {
                        summary.drift += 1;
                    }
                }
            }
        }
    }
    PlanDocument {
        format_version: PlanDocument::FORMAT_VERSION,
        tool_version: env!("CARGO_PKG_VERSION").to_string(),
        manifests_digest: String::new(),
        scope,
        chains: gates::chain_edges(desired),
        summary,
        fingerprints: Vec::new(),
        entries,
        grants,
        account_problems: live
            .inaccessible
            .iter()
            .map(|(account, problem)| AccountIssue {
                account: account.clone(),
                problem: problem.clone(),
            })
            .collect(),
        serving,
    }
}

fn account_ref(desired: &DesiredState, name: &str, account_id: &str) -> AccountRef {
    AccountRef {
        name: desired
            .account(name)
            .map_or_else(|| name.to_string(), |a| a.name.clone()),
        account_id: account_id.to_string(),
    }
}

fn plan_placement(desired: &DesiredState, live: &LiveState, p: &Placement) -> PlanEntry {
    let source_key = ProjectKey::of(&p.source_project);
    let dest_key = ProjectKey::of(&p.destination_project);
    let source_project = live.project(&source_key).flatten();
    let source_version = live.version(&source_key, &p.source_version).flatten();
    let dest_project = live.project(&dest_key).flatten();
    let mut entry = PlanEntry {
        key: p.key(),
        action: Action::Unknown,
        reason: Reason::NotRead {
            what: NotRead::SourceProject,
        },
        region: p.region.clone(),
        source: SourceSide {
            account: account_ref(desired, &p.source_account, &p.source_project.account_id),
            project: p.source_project.name.clone(),
            project_arn: source_project
                .map(|s| s.arn.clone())
                .or_else(|| p.source_project.arn.clone()),
            version: p.source_version.clone(),
            version_arn: source_version
                .map(|v| v.arn.clone())
                .or_else(|| p.source_version_arn.clone()),
            version_status: source_version.map(|v| v.status.clone()),
        },
        target: DestinationSide {
            account: account_ref(
                desired,
                &p.destination_account,
                &p.destination_project.account_id,
            ),
            project: p.destination_project.name.clone(),
            project_arn: dest_project
                .map(|d| d.arn.clone())
                .or_else(|| p.destination_project.arn.clone()),
            version_name: p.version_name.clone(),
        },
        settings: CopySettings {
            s3_bucket: p.output_config.s3_bucket.clone(),
            s3_key_prefix: p.output_config.s3_key_prefix.clone(),
            kms_key_id: p.kms_key_id.clone(),
            tags: p.tags.clone(),
        },
        cross_account: p.is_cross_account(),
        manage_policy: p.manage_policy,
        live: None,
        diff: None,
        drift: Vec::new(),
        missing_policy_statement: None,
        declared_at: match p.origin.line {
            Some(line) => format!("{}:{line}", p.origin.file),
            None => p.origin.file.clone(),
        },
    };
    let reason = decide(desired, live, p, &mut entry);
    entry.action = reason.action();
    entry.reason = reason;
    entry
}

/// The reason (and so the action) for one placement; fills the entry's live view, diff, drift
/// and missing policy statement along the way.
fn decide(
    desired: &DesiredState,
    live: &LiveState,
    p: &Placement,
    entry: &mut PlanEntry,
) -> Reason {
    for account in [&p.destination_account, &p.source_account] {
        if let Some(problem) = live.inaccessible.get(account) {
            return Reason::AccountUnreadable {
                account: account.clone(),
                problem: Box::new(problem.clone()),
            };
        }
    }
    let source_key = ProjectKey::of(&p.source_project);
    let dest_key = ProjectKey::of(&p.destination_project);
    for (side, key) in [(Side::Source, &source_key), (Side::Destination, &dest_key)] {
        if let Some(error) = live.read_errors.get(key) {
            return Reason::ProjectUnreadable {
                side,
                error: Box::new(error.clone()),
            };
        }
    }

    // The source must exist, be a Custom Labels project and hold a trained version.
    let source_project = match live.project(&source_key) {
        None => {
            return Reason::NotRead {
                what: NotRead::SourceProject,
            };
        }
        Some(None) => return Reason::SourceProjectMissing,
        Some(Some(project)) => project,
    };
    if let Some(pinned) = &p.source_project.arn
        && pinned != &source_project.arn
    {
        return Reason::SourceProjectReplaced {
            actual_arn: source_project.arn.clone(),
            pinned_arn: pinned.clone(),
        };
    }
    if !source_project.feature.is_copyable() {
        return Reason::Adapter {
            side: Side::Source,
            feature: source_project.feature.clone(),
        };
    }
    let source_version = match live.version(&source_key, &p.source_version) {
        None => {
            return Reason::NotRead {
                what: NotRead::SourceVersion,
            };
        }
        Some(None) => return Reason::SourceVersionMissing,
        Some(Some(version)) => version,
    };
    if let Some(pinned) = &p.source_version_arn
        && pinned != &source_version.arn
    {
        return Reason::SourceVersionReplaced {
            actual_arn: source_version.arn.clone(),
            pinned_arn: pinned.clone(),
        };
    }
    if !source_version.status.is_copyable_source() {
        return Reason::SourceNotTrained {
            status: source_version.status.clone(),
            status_message: source_version.status_message.clone(),
        };
    }

    // The destination project must exist and be a Custom Labels project.
    let dest_project = match live.project(&dest_key) {
        None => {
            return Reason::NotRead {
                what: NotRead::DestinationProject,
            };
        }
        Some(None) => return Reason::DestinationProjectMissing,
        Some(Some(project)) => project,
    };
    if let Some(pinned) = &p.destination_project.arn
        && pinned != &dest_project.arn
    {
        return Reason::DestinationProjectReplaced {
            actual_arn: dest_project.arn.clone(),
            pinned_arn: pinned.clone(),
        };
    }
    if !dest_project.feature.is_copyable() {
        return Reason::Adapter {
            side: Side::Destination,
            feature: dest_project.feature.clone(),
        };
    }

    match live.version(&dest_key, &p.version_name) {
        None => Reason::NotRead {
            what: NotRead::DestinationVersion,
        },
        Some(Some(existing)) => existing_version(p, &source_version.arn, existing, entry),
        Some(None) => {
            if !p.is_cross_account() {
                return Reason::CopySameAccount;
            }
            // The copy is made by the destination account's role (or its ambient identity).
            let role = desired
                .account(&p.destination_account)
                .and_then(|a| a.role_arn.clone());
            match policy_decision(live, p, role, &source_key, &source_version.arn) {
                Decision::Allowed => Reason::CopyAllowedByPolicy,
                Decision::ExplicitlyDenied => Reason::PolicyDenies,
                Decision::MayBeDenied => Reason::PolicyConditional {
                    effect: policy::Effect::Deny,
                },
                // The managed policy apply writes allows without conditions.
                Decision::MayBeAllowed if p.manage_policy => Reason::CopyAfterManagedPolicy,
                Decision::MayBeAllowed => Reason::PolicyConditional {
                    effect: policy::Effect::Allow,
                },
                Decision::NotAllowed if p.manage_policy => Reason::CopyAfterManagedPolicy,
                Decision::NotAllowed => {
                    let statement = policy::Statement::allow_copy(
                        None,
                        vec![policy::account_principal(
                            crate::constraints::partition_of_region(&p.region),
                            &p.destination_project.account_id,
                        )],
                        vec![source_version.arn.clone()],
                    );
                    entry.missing_policy_statement = Some(statement.to_value());
                    Reason::PolicyMissing
                }
            }
        }
    }
}

fn policy_decision(
    live: &LiveState,
    p: &Placement,
    role_arn: Option<String>,
    source_key: &ProjectKey,
    version_arn: &str,
) -> Decision {
    let documents: Vec<PolicyDocument> = live
        .policies
        .get(source_key)
        .into_iter()
        .flatten()
        .filter_map(|policy| PolicyDocument::parse(&policy.document).ok())
        .collect();
    let caller = Caller {
        account_id: p.destination_project.account_id.clone(),
        iam_arn: role_arn,
        session_arn: None,
    };
    policy::evaluate(&documents, &caller, policy::COPY_ACTION, version_arn)
}

fn existing_version(
    p: &Placement,
    source_arn: &str,
    existing: &LiveVersion,
    entry: &mut PlanEntry,
) -> Reason {
    entry.live = Some(LiveVersionView {
        arn: existing.arn.clone(),
        status: existing.status.clone(),
        status_message: existing.status_message.clone(),
        source_project_version_arn: existing.source_project_version_arn.clone(),
    });
    let same_source = existing.source_project_version_arn.as_deref() == Some(source_arn);
    if !same_source {
        entry.diff = Some(conflict_diff(p, source_arn, existing));
        return Reason::OtherSource {
            actual_source: existing.source_project_version_arn.clone(),
        };
    }
    match &existing.status {
        VersionStatus::CopyingInProgress => Reason::BeingCopied,
        VersionStatus::CopyingFailed => {
            entry.diff = Some(conflict_diff(p, source_arn, existing));
            Reason::CopyFailed {
                status_message: existing.status_message.clone(),
            }
        }
        VersionStatus::Deleting => {
            entry.diff = Some(conflict_diff(p, source_arn, existing));
            Reason::BeingDeleted
        }
        status => {
            entry.drift = drift(p, existing);
            Reason::Present {
                status: status.clone(),
            }
        }
    }
}
fn conflict_diff(p: &Placement, source_arn: &str, existing: &LiveVersion) -> String {
    let mut desired = format!("sourceProjectVersionArn: {source_arn}\nstatus: COPYING_COMPLETED\n");
    let mut actual = format!(
        "sourceProjectVersionArn: {}\nstatus: {}\n",
        existing
            .source_project_version_arn
            .as_deref()
            .unwrap_or("(none)"),
        existing.status
    );
    if let Some(message) = &existing.status_message {
        actual.push_str(&format!("statusMessage: {message}\n"));
    }
    // The output location is compared only when AWS reported it.
    if let Some(output) = &existing.output_config {
        let location = |bucket: &str, prefix: Option<&str>| {
            format!("outputConfig: s3://{bucket}/{}\n", prefix.unwrap_or(""))
        };
        desired.push_str(&location(
            &p.output_config.s3_bucket,
            p.output_config.s3_key_prefix.as_deref(),
        ));
        actual.push_str(&location(
            &output.s3_bucket,
            output.s3_key_prefix.as_deref(),
        ));
    }
    similar::TextDiff::from_lines(&desired, &actual)
        .unified_diff()
        .context_radius(3)
        .header("desired", "actual")
        .to_string()
}

fn drift(p: &Placement, existing: &LiveVersion) -> Vec<Drift> {
    let mut drift = Vec::new();
    let mut compare = |field: &str, desired: Option<&str>, actual: Option<&str>| {
        if desired != actual {
            drift.push(Drift {
                field: field.into(),
                desired: desired.map(str::to_string),
                actual: actual.map(str::to_string),
            });
        }
    };
    if let Some(output) = &existing.output_config {
        compare(
            "outputConfig.s3Bucket",
            Some(&p.output_config.s3_bucket),
            Some(&output.s3_bucket),
        );
        compare(
            "outputConfig.s3KeyPrefix",
            p.output_config.s3_key_prefix.as_deref(),
            output.s3_key_prefix.as_deref(),
        );
    }
    // AWS reports the key as an ARN; an alias or bare key id in the manifest cannot be compared
    // with it without a KMS call, so only like is compared with like.
    let desired_kms = p.kms_key_id.as_deref();
    let actual_kms = existing.kms_key_id.as_deref();
    let comparable = match (desired_kms, actual_kms) {
        (Some(d), Some(a)) => d.starts_with("arn:") == a.starts_with("arn:"),
        _ => true,
    };
    if comparable {
        compare("kmsKeyId", desired_kms, actual_kms);
    }
    drift
}

/// Whether an entry's placement can be carried out and so grants its version: a copy to make,
/// a copy already there or under way, or one only a missing (unmanaged) policy blocks.
fn grants_its_version(entry: &PlanEntry) -> bool {
    matches!(
        entry.action,
        Action::Copy | Action::Unchanged | Action::InProgress
    ) || entry.reason == Reason::PolicyMissing
}

/// The grants of every source project of a cross-account placement, with the policy documents
/// that carry them (packed with the source's `policyScope`), what writing them changes, and the
/// capacity they use. Computed once, from the entries: only placements that can be carried out
/// grant anything, and a destination account with an unknown placement is withheld (its managed
/// grants neither written nor withdrawn). On a full run, managed grants no entry needs are
/// withdrawn, except while a copy they allow is in progress in the destination (or its copies
/// cannot be known: `grants::withdrawals`, from the copies `live` holds; `declared` holds the
/// IDs of the declared accounts, the others cannot be read); a partial run only adds.
pub fn source_grants(
    entries: &[PlanEntry],
    live: &LiveState,
    scopes: &BTreeMap<PlacementKey, PolicyScope>,
    declared: &BTreeSet<String>,
    keep_existing: bool,
) -> Vec<SourceGrants> {
    let mut by_project: BTreeMap<String, SourceGrants> = BTreeMap::new();
    let mut unknown: BTreeSet<(String, String)> = BTreeSet::new();
    for entry in entries.iter().filter(|e| e.cross_account) {
        let Some(project_arn) = &entry.source.project_arn else {
            continue;
        };
        let destination = entry.target.account.account_id.clone();
        let grants = by_project
            .entry(project_arn.clone())
            .or_insert_with(|| SourceGrants {
                source_account: entry.source.account.clone(),
                project_arn: project_arn.clone(),
                region: entry.region.clone(),
                managed: entry.manage_policy,
                grants: BTreeMap::new(),
                withheld: BTreeSet::new(),
                policies: Vec::new(),
                scope: PolicyScope::default(),
                capacity: None,
                writes: 0,
                blocked: None,
                withdrawals: Vec::new(),
            });
        grants.managed |= entry.manage_policy;
        if let Some(scope) = scopes.get(&entry.key) {
            // Manifest validation makes every promotion of one source agree; the widest wins.
            grants.scope = grants.scope.max(*scope);
        }
        if entry.action == Action::Unknown {
            unknown.insert((project_arn.clone(), destination));
            continue;
        }
        if let (true, Some(version_arn)) = (grants_its_version(entry), &entry.source.version_arn) {
            grants
                .grants
                .entry(destination)
                .or_default()
                .insert(version_arn.clone());
        }
    }
    for (project_arn, account_id) in unknown {
        if let Some(grants) = by_project.get_mut(&project_arn) {
            grants.grants.remove(&account_id);
            grants.withheld.insert(account_id);
        }
    }
    let source_keys: BTreeMap<&str, ProjectKey> = entries
        .iter()
        .filter_map(|e| {
            Some((
                e.source.project_arn.as_deref()?,
                ProjectKey {
                    account_id: e.source.account.account_id.clone(),
                    region: e.region.clone(),
                    name: e.source.project.clone(),
                },
            ))
        })
        .collect();
    by_project
        .into_values()
        .map(|mut g| {
            let existing = source_keys
                .get(g.project_arn.as_str())
                .and_then(|key| live.policies.get(key))
                .map(Vec::as_slice)
                .unwrap_or(&[]);
            let known = grants::known_versions(entries, &g.project_arn);
            g.withdrawals =
                grants::withdrawals(&g, existing, g.scope, keep_existing, &known, |account| {
                    grants::copy_check(live, declared, account, &g.region)
                });
            match grants::pack_project(&g, existing, g.scope, keep_existing, &known) {
                Ok(packed) => {
                    g.capacity = Some(packed.capacity);
                    g.writes = packed.steps.len();
                    g.policies = planned_policies(&packed, existing);
                }
                Err(reason) => {
                    if let Reason::PolicyOverflow { overflow } = &reason {
                        g.capacity = Some(grants::overflow_capacity(overflow, existing));
                    }
                    g.blocked = Some(reason);
                }
            }
            g
        })
        .filter(|g| {
            !g.policies.is_empty()
                || !g.withheld.is_empty()
                || !g.withdrawals.is_empty()
                || g.blocked.is_some()
        })
        .collect()
}

/// The packed documents with what writing each changes, then the managed policies deleted.
fn planned_policies(
    packed: &grants::Packed,
    existing: &[crate::state::LivePolicy],
) -> Vec<PlannedPolicy> {
    let mut policies: Vec<PlannedPolicy> = packed
        .policies
        .iter()
        .map(|p| {
            let current = existing.iter().find(|c| c.name == p.name);
            let change = match current {
                Some(c) if same_document(&c.document, &p.document_json) => {
                    PolicyChange::Unchanged {
                        revision_id: c.revision_id.clone(),
                    }
                }
                Some(c) => PolicyChange::Update {
                    replaces_revision_id: c.revision_id.clone(),
                },
                None => PolicyChange::Create,
            };
            let grantees: BTreeSet<String> = crate::policy_pack::pairs_of(&p.document_json)
                .into_iter()
                .map(|(account, _)| account)
                .collect();
            PlannedPolicy {
                policy_name: p.name.clone(),
                grantee_account_ids: grantees.into_iter().collect(),
                document: p.document_json.clone(),
                change,
            }
        })
        .collect();
    for live in &packed.managed_live {
        if !packed.policies.iter().any(|p| p.name == live.name) {
            let grantees: BTreeSet<String> = crate::policy_pack::pairs_of(&live.document)
                .into_iter()
                .map(|(account, _)| account)
                .collect();
            policies.push(PlannedPolicy {
                policy_name: live.name.clone(),
                grantee_account_ids: grantees.into_iter().collect(),
                document: live.document.clone(),
                change: PolicyChange::Delete {
                    revision_id: live.revision_id.clone(),
                },
            });
        }
    }
    policies
}

/// Placements waiting for managed grants that cannot be written are blocked, with the reason
/// (apply then makes no write for their source project).
fn block_unwritable(entries: &mut [PlanEntry], grants: &[SourceGrants]) {
    for g in grants.iter().filter(|g| g.managed) {
        let Some(reason) = &g.blocked else { continue };
        for entry in entries.iter_mut().filter(|e| {
            e.source.project_arn.as_deref() == Some(g.project_arn.as_str())
                && e.reason == Reason::CopyAfterManagedPolicy
        }) {
            entry.reason = reason.clone();
            entry.action = reason.action();
        }
    }
}

fn same_document(current: &str, wanted: &str) -> bool {
    current == wanted
        || matches!(
            (PolicyDocument::parse(current), PolicyDocument::parse(wanted)),
            (Ok(c), Ok(w)) if c == w
        )
}

/// The fingerprint of one placement: everything its action depends on.
///
/// Each part is hashed as its compact JSON with object keys in sorted order (the shape a
/// `serde_json::Value` prints), written straight into the hasher: the digests stay byte for byte
/// those of plans saved by earlier releases, without building a JSON value per part (that was
/// most of a plan's computation; `tests::fingerprints_match_the_json_value_form` checks both
/// forms agree).
fn fingerprint(live: &LiveState, p: &Placement) -> Fingerprint {
    use serde::Serialize;

    /// `{"account":…,"problem":…}`.
    #[derive(Serialize)]
    struct AccountPart<'a> {
        account: &'a str,
        problem: Option<serde_json::Value>,
    }
    /// A project's fields in sorted key order.
    #[derive(Serialize)]
    struct ProjectFields<'a> {
        arn: &'a str,
        feature: &'a crate::state::ProjectFeature,
        status: &'a str,
    }
    /// `{"project":…,"readError":…,"version":…}`.
    #[derive(Serialize)]
    struct ProjectPart<'a> {
        project: Option<Option<ProjectFields<'a>>>,
        #[serde(rename = "readError")]
        read_error: Option<serde_json::Value>,
        version: Option<Option<(&'a str, &'a VersionStatus, &'a Option<String>)>>,
    }
    #[derive(Serialize)]
    struct PoliciesPart<'a> {
        policies: Vec<(&'a str, &'a str)>,
    }

    // Rare parts (an account problem, a read error) go through `Value`, whose maps sort their
    // keys at every depth, as the digest's form requires.
    fn sorted<T: Serialize>(value: Option<&T>) -> Option<serde_json::Value> {
        value.map(|v| serde_json::to_value(v).unwrap_or(serde_json::Value::Null))
    }
    let mut hasher = HashWriter(Sha256::new());
    let source = ProjectKey::of(&p.source_project);
    let destination = ProjectKey::of(&p.destination_project);
    for account in [&p.source_account, &p.destination_account] {
        hasher.feed(&AccountPart {
            account,
            problem: sorted(live.inaccessible.get(account)),
        });
    }
    for (key, version) in [
        (&source, &p.source_version),
        (&destination, &p.version_name),
    ] {
        hasher.feed(&ProjectPart {
            project: live.project(key).map(|project| {
                project.map(|project| ProjectFields {
                    arn: &project.arn,
                    feature: &project.feature,
                    status: &project.status,
                })
            }),
            read_error: sorted(live.read_errors.get(key)),
            version: live
                .version(key, version)
                .map(|v| v.map(|v| (v.arn.as_str(), &v.status, &v.source_project_version_arn))),
        });
    }
    if p.is_cross_account() {
        let policies = live
            .policies
            .get(&source)
            .into_iter()
            .flatten()
            .map(|policy| (policy.name.as_str(), policy.revision_id.as_str()))
            .collect();
        hasher.feed(&PoliciesPart { policies });
    }
    Fingerprint {
        key: p.key(),
        digest: hex::encode(hasher.0.finalize()),
    }
}

/// Feeds what is written into a SHA-256 hasher: each part's JSON goes straight in, with no
/// buffer of its own (the fingerprints and the manifests digest).
struct HashWriter(Sha256);

impl std::io::Write for HashWriter {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.update(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl HashWriter {
    /// Hashes one part as compact JSON: the same bytes `serde_json::to_vec` gives.
    fn feed<T: serde::Serialize>(&mut self, part: &T) {
        serde_json::to_writer(&mut *self, part).expect("serializable");
    }
}
