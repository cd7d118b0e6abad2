//! Planning: a pure function of the desired state and the live state, producing the plan
//! document.
//!
//! No I/O happens here: `state::read` fetched the live state, the renderers and `apply` consume
//! the [`PlanDocument`]. Each placement gets exactly one [`Action`] with its reason; settings that
//! cannot change on an existing version are reported as drift; managed project policies are
//! computed as apply will write them; each destination project gets a fingerprint of the state it
//! was planned against, so a saved plan can be refused once that state moves.

pub mod document;

use std::collections::{BTreeMap, BTreeSet};

use sha2::{Digest, Sha256};

use crate::desired::{DesiredState, Placement};
use crate::policy::{self, Caller, Decision, PolicyDocument};
use crate::state::{LiveState, LiveVersion, ProjectKey, is_copyable_status};

pub use document::{
    AccountProblem, AccountRef, Action, CopySettings, DestinationSide, Drift, Fingerprint,
    LiveVersionView, PlanDocument, PlanEntry, PolicyChange, SourceSide, Summary,
};

/// Which placements a plan covers: `--target` and `--exclude`, each matching a promotion, an
/// account or a destination name.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    pub targets: Vec<String>,
    pub excludes: Vec<String>,
}

impl Selection {
    fn names(p: &Placement) -> [&str; 4] {
        [
            &p.promotion,
            &p.destination_account,
            &p.destination,
            &p.source_account,
        ]
    }

    pub fn includes(&self, p: &Placement) -> bool {
        let names = Self::names(p);
        (self.targets.is_empty() || self.targets.iter().any(|t| names.contains(&t.as_str())))
            && !self.excludes.iter().any(|e| names.contains(&e.as_str()))
    }

    /// The desired state restricted to the selection (marked partial when it leaves any
    /// placement out).
    pub fn apply(&self, desired: &DesiredState) -> DesiredState {
        let placements: Vec<Placement> = desired
            .placements
            .iter()
            .filter(|p| self.includes(p))
            .cloned()
            .collect();
        DesiredState {
            accounts: desired.accounts.clone(),
            partial: desired.partial || placements.len() < desired.placements.len(),
            placements,
        }
    }
}

/// SHA-256 of the desired state's meaning (where each placement was declared left out, so
/// moving a manifest around does not make a saved plan stale).
pub fn manifests_digest(desired: &DesiredState) -> String {
    let mut hasher = Sha256::new();
    for account in &desired.accounts {
        hasher.update(serde_json::to_vec(account).expect("serializable"));
    }
    for placement in &desired.placements {
        let mut placement = placement.clone();
        placement.origin = Default::default();
        hasher.update(serde_json::to_vec(&placement).expect("serializable"));
    }
    hex::encode(hasher.finalize())
}

pub use crate::policy::managed_policy_name;

/// Computes the plan.
pub fn compute(desired: &DesiredState, live: &LiveState) -> PlanDocument {
    let entries: Vec<PlanEntry> = desired
        .placements
        .iter()
        .map(|p| plan_placement(desired, live, p))
        .collect();
    let policies = managed_policies(desired, live, &entries);

    let mut summary = Summary::default();
    for entry in &entries {
        match entry.action {
            Action::Copy => summary.copy += 1,
            Action::Unchanged => summary.unchanged += 1,
            Action::InProgress => summary.in_progress += 1,
            Action::Conflict => summary.conflict += 1,
            Action::Blocked => summary.blocked += 1,
            Action::Unknown => summary.unknown += 1,
        }
        if !entry.drift.is_empty() {
            summary.drift += 1;
        }
    }
    summary.policies = policies.len();
    PlanDocument {
        format_version: PlanDocument::FORMAT_VERSION,
        tool_version: env!("CARGO_PKG_VERSION").to_string(),
        manifests_digest: manifests_digest(desired),
        summary,
        entries,
        policies,
        fingerprints: fingerprints(desired, live),
        account_problems: live
            .inaccessible
            .iter()
            .map(|(account, reason)| AccountProblem {
                account: account.clone(),
                reason: reason.clone(),
            })
            .collect(),
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
        action: Action::Unknown,
        reason: String::new(),
        promotion: p.promotion.clone(),
        destination: p.destination.clone(),
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
        live: None,
        diff: None,
        drift: Vec::new(),
        missing_policy_statement: None,
        declared_at: match p.origin.line {
            Some(line) => format!("{}:{line}", p.origin.file),
            None => p.origin.file.clone(),
        },
    };
    let (action, reason) = decide(desired, live, p, &mut entry);
    entry.action = action;
    entry.reason = reason;
    entry
}

/// The action and reason for one placement; fills the entry's live view, diff, drift and
/// missing policy statement along the way.
fn decide(
    desired: &DesiredState,
    live: &LiveState,
    p: &Placement,
    entry: &mut PlanEntry,
) -> (Action, String) {
    use Action::*;
    for account in [&p.destination_account, &p.source_account] {
        if let Some(reason) = live.inaccessible.get(account) {
            return (
                Unknown,
                format!("cannot read account `{account}`: {reason}"),
            );
        }
    }
    let source_key = ProjectKey::of(&p.source_project);
    let dest_key = ProjectKey::of(&p.destination_project);
    for key in [&source_key, &dest_key] {
        if let Some(reason) = live.read_errors.get(key) {
            return (
                Unknown,
                format!(
                    "cannot read project `{}` of account {}: {reason}",
                    key.name, key.account_id
                ),
            );
        }
    }

    // The source must exist and be trained.
    let source_project = match live.project(&source_key) {
        None => return (Unknown, "the source project was not read".into()),
        Some(None) => {
            return (
                Blocked,
                format!(
                    "source project `{}` does not exist in account `{}` ({})",
                    p.source_project.name, p.source_account, p.region
                ),
            );
        }
        Some(Some(project)) => project,
    };
    if let Some(pinned) = &p.source_project.arn
        && pinned != &source_project.arn
    {
        return (
            Blocked,
            format!(
                "source project `{}` is {}, not the {pinned} the manifest pins (recreated?)",
                p.source_project.name, source_project.arn
            ),
        );
    }
    let source_version = match live.version(&source_key, &p.source_version) {
        None => return (Unknown, "the source version was not read".into()),
        Some(None) => {
            return (
                Blocked,
                format!(
                    "source version `{}` does not exist in project `{}` of account `{}`",
                    p.source_version, p.source_project.name, p.source_account
                ),
            );
        }
        Some(Some(version)) => version,
    };
    if let Some(pinned) = &p.source_version_arn
        && pinned != &source_version.arn
    {
        return (
            Blocked,
            format!(
                "source version `{}` is {}, not the {pinned} the manifest pins",
                p.source_version, source_version.arn
            ),
        );
    }
    if !is_copyable_status(&source_version.status) {
        return (
            Blocked,
            format!(
                "source version `{}` is {}{}; only trained versions can be copied",
                p.source_version,
                source_version.status,
                source_version
                    .status_message
                    .as_deref()
                    .map(|m| format!(" ({m})"))
                    .unwrap_or_default()
            ),
        );
    }

    // The destination project must exist.
    let dest_project = match live.project(&dest_key) {
        None => return (Unknown, "the destination project was not read".into()),
        Some(None) => {
            return (
                Blocked,
                format!(
                    "destination project `{}` does not exist in account `{}` ({}); create it \
                     first (CopyProjectVersion does not create projects)",
                    p.destination_project.name, p.destination_account, p.region
                ),
            );
        }
        Some(Some(project)) => project,
    };
    if let Some(pinned) = &p.destination_project.arn
        && pinned != &dest_project.arn
    {
        return (
            Blocked,
            format!(
                "destination project `{}` is {}, not the {pinned} the manifest pins",
                p.destination_project.name, dest_project.arn
            ),
        );
    }

    match live.version(&dest_key, &p.version_name) {
        None => (Unknown, "the destination version was not read".into()),
        Some(Some(existing)) => existing_version(p, &source_version.arn, existing, entry),
        Some(None) => {
            if !p.is_cross_account() {
                return (
                    Copy,
                    "missing in the destination (same-account copy)".into(),
                );
            }
            // The copy is made by the destination account's role (or its ambient identity).
            let role = desired
                .account(&p.destination_account)
                .and_then(|a| a.role_arn.clone());
            match policy_decision(live, p, role, &source_key, &source_version.arn) {
                Decision::Allowed => (
                    Copy,
                    "missing in the destination; the source project's policy allows the copy"
                        .into(),
                ),
                Decision::ExplicitlyDenied => (
                    Blocked,
                    format!(
                        "a policy of source project `{}` explicitly denies account {} the copy",
                        p.source_project.name, p.destination_project.account_id
                    ),
                ),
                Decision::NotAllowed if p.manage_policy => (
                    Copy,
                    "missing in the destination; apply first writes the project policy that \
                     allows the copy (managePolicy)"
                        .into(),
                ),
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
                    (
                        Blocked,
                        format!(
                            "no policy of source project `{}` allows account {} to copy this \
                             version; add the statement shown (PutProjectPolicy in account `{}`), \
                             or set `managePolicy: true`",
                            p.source_project.name,
                            p.destination_project.account_id,
                            p.source_account
                        ),
                    )
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
) -> (Action, String) {
    entry.live = Some(LiveVersionView {
        arn: existing.arn.clone(),
        status: existing.status.clone(),
        status_message: existing.status_message.clone(),
        source_project_version_arn: existing.source_project_version_arn.clone(),
    });
    let same_source = existing.source_project_version_arn.as_deref() == Some(source_arn);
    if !same_source {
        entry.diff = Some(conflict_diff(p, source_arn, existing));
        let actual = existing
            .source_project_version_arn
            .as_deref()
            .unwrap_or("no source (trained in place)");
        return (
            Action::Conflict,
            format!(
                "`{}` already exists in project `{}` but came from {actual}",
                p.version_name, p.destination_project.name
            ),
        );
    }
    match existing.status.as_str() {
        "COPYING_IN_PROGRESS" => (
            Action::InProgress,
            "being copied (COPYING_IN_PROGRESS); apply waits for it".into(),
        ),
        "COPYING_FAILED" => {
            entry.diff = Some(conflict_diff(p, source_arn, existing));
            (
                Action::Conflict,
                format!(
                    "the copy failed (COPYING_FAILED: {}); delete the version to retry",
                    existing.status_message.as_deref().unwrap_or("no message")
                ),
            )
        }
        "DELETING" => {
            entry.diff = Some(conflict_diff(p, source_arn, existing));
            (
                Action::Conflict,
                "the version is being deleted (DELETING); plan again once it is gone".into(),
            )
        }
        status => {
            entry.drift = drift(p, existing);
            (
                Action::Unchanged,
                format!("present, from the same source ({status})"),
            )
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

/// The grants managed policies must carry for one source project: destination account id →
/// the version ARNs the manifests send there.
#[derive(Debug, Clone)]
pub struct ManagedGrant {
    pub source_account: AccountRef,
    pub project: ProjectKey,
    pub project_arn: String,
    pub by_account: BTreeMap<String, BTreeSet<String>>,
}

/// The managed grants of every source project with `managePolicy: true` and cross-account
/// placements whose source is known live (`entries` are the plan's, in placement order).
pub fn managed_grants(desired: &DesiredState, entries: &[PlanEntry]) -> Vec<ManagedGrant> {
    let mut grants: BTreeMap<ProjectKey, ManagedGrant> = BTreeMap::new();
    for (p, entry) in desired.placements.iter().zip(entries) {
        if !p.manage_policy || !p.is_cross_account() {
            continue;
        }
        let (Some(version_arn), Some(project_arn)) =
            (&entry.source.version_arn, &entry.source.project_arn)
        else {
            continue;
        };
        let key = ProjectKey::of(&p.source_project);
        grants
            .entry(key.clone())
            .or_insert_with(|| ManagedGrant {
                source_account: entry.source.account.clone(),
                project: key,
                project_arn: project_arn.clone(),
                by_account: BTreeMap::new(),
            })
            .by_account
            .entry(p.destination_project.account_id.clone())
            .or_default()
            .insert(version_arn.clone());
    }
    grants.into_values().collect()
}

/// The managed policies apply will write.
fn managed_policies(
    desired: &DesiredState,
    live: &LiveState,
    entries: &[PlanEntry],
) -> Vec<PolicyChange> {
    let mut changes = Vec::new();
    for grant in managed_grants(desired, entries) {
        let partition = crate::constraints::partition_of_region(&grant.project.region);
        let existing = live
            .policies
            .get(&grant.project)
            .map(Vec::as_slice)
            .unwrap_or(&[]);
        for (account_id, arns) in &grant.by_account {
            let current = existing
                .iter()
                .map(|p| (p.name.as_str(), p.document.as_str()));
            for (name, document) in
                policy::managed_policy_set(partition, account_id, arns, current, desired.partial)
            {
                let current = existing.iter().find(|p| p.name == name);
                if current.is_some_and(|c| same_document(&c.document, &document)) {
                    continue;
                }
                changes.push(PolicyChange {
                    source_account: grant.source_account.clone(),
                    project_arn: grant.project_arn.clone(),
                    policy_name: name,
                    replaces_revision_id: current.map(|c| c.revision_id.clone()),
                    grants: vec![format!(
                        "account {account_id} may copy {} version(s)",
                        document
                            .statements
                            .iter()
                            .map(|s| s.resources.len())
                            .sum::<usize>()
                    )],
                });
            }
        }
    }
    changes
}

fn same_document(current: &str, wanted: &PolicyDocument) -> bool {
    PolicyDocument::parse(current).is_ok_and(|c| &c == wanted)
}

/// One fingerprint per destination project the plan touches.
fn fingerprints(desired: &DesiredState, live: &LiveState) -> Vec<Fingerprint> {
    let mut by_project: BTreeMap<ProjectKey, (BTreeSet<String>, BTreeSet<ProjectKey>)> =
        BTreeMap::new();
    for p in &desired.placements {
        let entry = by_project
            .entry(ProjectKey::of(&p.destination_project))
            .or_default();
        entry.0.insert(p.version_name.clone());
        entry.1.insert(ProjectKey::of(&p.source_project));
    }
    by_project
        .into_iter()
        .map(|(key, (versions, sources))| {
            let mut hasher = Sha256::new();
            let mut feed = |value: serde_json::Value| hasher.update(value.to_string().as_bytes());
            feed(serde_json::json!({ "project": live.project(&key) }));
            for name in &versions {
                let version = live.version(&key, name).map(|v| {
                    v.map(|v| {
                        (
                            v.arn.clone(),
                            v.status.clone(),
                            v.source_project_version_arn.clone(),
                        )
                    })
                });
                feed(serde_json::json!({ "version": name, "live": version }));
            }
            for source in &sources {
                let revisions: Vec<(String, String)> = live
                    .policies
                    .get(source)
                    .into_iter()
                    .flatten()
                    .map(|p| (p.name.clone(), p.revision_id.clone()))
                    .collect();
                feed(serde_json::json!({ "source": source, "policies": revisions }));
            }
            Fingerprint {
                account_id: key.account_id,
                region: key.region,
                project: key.name,
                digest: hex::encode(hasher.finalize()),
            }
        })
        .collect()
}
