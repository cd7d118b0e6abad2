//! The plan document: the one contract between `plan`, its renderers and `apply`.
//!
//! It is versioned (`formatVersion`) and serializable: `plan --format json` prints it, `plan
//! --out FILE` saves it for `apply --plan FILE`, and the text and markdown renderers read only
//! it, so the three outputs can never disagree. Its JSON Schema is `schemas/plan.schema.json`.
//! It never holds credentials: only account IDs, role ARNs, resource ARNs and digests.
//!
//! It holds data, not prose: every entry's [`Reason`] is a typed value carrying what it is
//! about, and the words are produced only by the renderers (`render::plan`). Entries are found
//! by their [`PlacementKey`], never by position.

use std::collections::{BTreeMap, BTreeSet};

use crate::aws::AwsError;
use crate::desired::{InferenceUnits, PlacementKey, PolicyScope, Score};
pub use crate::policy_pack::{Overflow as PolicyOverflow, Remedy as PolicyRemedy};
use crate::state::{AccountProblem, ProjectFeature, Timestamp, VersionStatus};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// What apply will do (or not) for one placement.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    /// Missing in the destination: apply copies it.
    Copy,
    /// Present, from the same source, healthy: nothing to do.
    Unchanged,
    /// Being copied (COPYING_IN_PROGRESS): apply waits for it.
    InProgress,
    /// The name exists but holds something else (another source, a failed copy, a version
    /// being deleted): apply leaves it alone and reports it.
    Conflict,
    /// Apply cannot do it as things stand (missing source or destination, source not trained,
    /// cross-account policy missing).
    Blocked,
    /// The live state could not be read (an account whose role cannot be assumed).
    Unknown,
    /// Not copied yet, by design: the source version fails a quality gate, or the destination it
    /// comes `after` does not hold it (long enough) yet. Not an error.
    Held,
}

impl Action {
    /// The one-character marker of the text plan.
    pub fn marker(self) -> char {
        match self {
            Action::Copy => '+',
            Action::Unchanged => '=',
            Action::InProgress => '~',
            Action::Conflict | Action::Blocked => '!',
            Action::Unknown => '?',
            Action::Held => '-',
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Action::Copy => "copy",
            Action::Unchanged => "unchanged",
            Action::InProgress => "in-progress",
            Action::Conflict => "conflict",
            Action::Blocked => "blocked",
            Action::Unknown => "unknown",
            Action::Held => "held",
        }
    }
}

/// An account as the plan acts in it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AccountRef {
    /// The name manifests use.
    pub name: String,
    pub account_id: String,
}

/// The source of a placement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SourceSide {
    pub account: AccountRef,
    pub project: String,
    /// The project ARN, when known (from the manifest or live state).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project_arn: Option<String>,
    pub version: String,
    /// The version ARN, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version_arn: Option<String>,
    /// The version's status, when read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version_status: Option<VersionStatus>,
}

/// The destination of a placement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct DestinationSide {
    pub account: AccountRef,
    pub project: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project_arn: Option<String>,
    /// The version's name in the destination project.
    pub version_name: String,
}

/// The CopyProjectVersion settings of a copy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CopySettings {
    pub s3_bucket: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub s3_key_prefix: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kms_key_id: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tags: BTreeMap<String, String>,
}

/// What the destination version looks like today, when it exists.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct LiveVersionView {
    pub arn: String,
    pub status: VersionStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_message: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_project_version_arn: Option<String>,
}

/// A difference apply cannot change on an existing version; shown, never acted on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Drift {
    /// `kmsKeyId`, `outputConfig.s3Bucket` or `outputConfig.s3KeyPrefix`.
    pub field: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub desired: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actual: Option<String>,
}

/// Which side of a copy a project is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Side {
    Source,
    Destination,
}

/// A piece of live state a decision needed and that was not read (a read of an earlier piece
/// failed, so this one was never attempted).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum NotRead {
    SourceProject,
    SourceVersion,
    DestinationProject,
    DestinationVersion,
}

/// Why an entry has its action: one variant per situation, carrying its data. Each variant
/// belongs to exactly one [`Action`] ([`Reason::action`]); the words are the renderers'.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(
    tag = "code",
    rename_all = "kebab-case",
    rename_all_fields = "camelCase"
)]
pub enum Reason {
    // copy
    /// Missing in the destination; source and destination are in one account.
    CopySameAccount,
    /// Missing in the destination; the source project's policies allow the copy.
    CopyAllowedByPolicy,
    /// Missing in the destination; apply first writes the managed policy that allows it.
    CopyAfterManagedPolicy,
    // unchanged
    /// Present, from the same source.
    Present {
        status: VersionStatus,
    },
    // in-progress
    /// Being copied (COPYING_IN_PROGRESS); apply waits for it.
    BeingCopied,
    // conflict
    /// The version name holds a version from another source (or trained in place: `None`).
    OtherSource {
        actual_source: Option<String>,
    },
    /// The copy failed (COPYING_FAILED); the version must be deleted to retry.
    CopyFailed {
        status_message: Option<String>,
    },
    /// The version is being deleted.
    BeingDeleted,
    // blocked
    SourceProjectMissing,
    /// The source project is not the one the manifest pins (recreated?).
    SourceProjectReplaced {
        actual_arn: String,
        pinned_arn: String,
    },
    SourceVersionMissing,
    SourceVersionReplaced {
        actual_arn: String,
        pinned_arn: String,
    },
    /// The source version is not a trained model.
    SourceNotTrained {
        status: VersionStatus,
        status_message: Option<String>,
    },
    /// The destination project does not exist (CopyProjectVersion does not create projects).
    DestinationProjectMissing,
    DestinationProjectReplaced {
        actual_arn: String,
        pinned_arn: String,
    },
    /// The project is an adapter (CONTENT_MODERATION): CopyProjectVersion does not copy adapters.
    Adapter {
        side: Side,
        feature: ProjectFeature,
    },
    /// A policy of the source project explicitly denies the destination account the copy.
    PolicyDenies,
    /// No policy of the source project allows the copy, and `managePolicy` is off.
    PolicyMissing,
    /// A statement of the source project's policies that would deny (`Deny`) or is the only one
    /// to allow (`Allow`) the copy has a condition reko-promote cannot evaluate (a key other
    /// than aws:PrincipalAccount and aws:PrincipalArn, or an operator it does not read).
    PolicyConditional {
        effect: crate::policy::Effect,
    },
    /// The managed grants of the source project do not fit AWS's budget of 5 policies of
    /// 2,000 characters (hand-written ones counted): apply writes nothing for them.
    PolicyOverflow {
        overflow: PolicyOverflow,
    },
    /// No order of writes replaces the managed policies while keeping every needed grant.
    PolicyNoSafeOrder {
        policies: Vec<String>,
    },
    /// The grants could not be packed (an account ID or version ARN the packer refuses).
    PolicyGrantInvalid {
        error: String,
    },
    // unknown
    /// An account could not be acted in.
    AccountUnreadable {
        account: String,
        problem: Box<AccountProblem>,
    },
    /// A project's state could not be read.
    ProjectUnreadable {
        side: Side,
        error: Box<AwsError>,
    },
    NotRead {
        what: NotRead,
    },
    // held
    /// The source version's F1 score is below the gate's minimum.
    GateF1Below {
        f1_score: Score,
        min_f1_score: Score,
    },
    /// The gate asks for an F1 score and the source version has none (not evaluated).
    GateNoF1Score {
        min_f1_score: Score,
    },
    /// The source version lacks a tag the gate requires.
    GateTagMissing {
        key: String,
        required: String,
    },
    /// The source version's tag has another value than the gate requires.
    GateTagDifferent {
        key: String,
        required: String,
        actual: String,
    },
    /// The source version's tags could not be read, so a `requireTags` gate cannot pass.
    GateTagsUnreadable {
        error: Box<AwsError>,
    },
    /// The destination this one comes `after` does not hold the version, from the same source,
    /// `COPYING_COMPLETED` yet.
    WaitingFor {
        after: PlacementKey,
    },
    /// The destination this one comes `after` is itself held (a chain).
    AfterHeld {
        after: PlacementKey,
    },
    /// The copy in the `after` destination is younger than `soak`: eligible at `eligible_at`.
    Soaking {
        after: PlacementKey,
        soak_seconds: u64,
        copied_at: Timestamp,
        eligible_at: Timestamp,
    },
}

impl Reason {
    /// The action this reason leads to.
    pub fn action(&self) -> Action {
        use Reason::*;
        match self {
            CopySameAccount | CopyAllowedByPolicy | CopyAfterManagedPolicy => Action::Copy,
            Present { .. } => Action::Unchanged,
            BeingCopied => Action::InProgress,
            OtherSource { .. } | CopyFailed { .. } | BeingDeleted => Action::Conflict,
            SourceProjectMissing
            | SourceProjectReplaced { .. }
            | SourceVersionMissing
            | SourceVersionReplaced { .. }
            | SourceNotTrained { .. }
            | DestinationProjectMissing
            | DestinationProjectReplaced { .. }
            | Adapter { .. }
            | PolicyDenies
            | PolicyMissing
            | PolicyConditional { .. }
            | PolicyOverflow { .. }
            | PolicyNoSafeOrder { .. }
            | PolicyGrantInvalid { .. } => Action::Blocked,
            AccountUnreadable { .. } | ProjectUnreadable { .. } | NotRead { .. } => Action::Unknown,
            GateF1Below { .. }
            | GateNoF1Score { .. }
            | GateTagMissing { .. }
            | GateTagDifferent { .. }
            | GateTagsUnreadable { .. }
            | WaitingFor { .. }
            | AfterHeld { .. }
            | Soaking { .. } => Action::Held,
        }
    }
}

/// One placement and what apply does about it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PlanEntry {
    /// The placement's stable key (promotion, destination, version name).
    pub key: PlacementKey,
    /// Always `reason`'s action (stated apart for readers of the JSON).
    pub action: Action,
    pub reason: Reason,
    pub region: String,
    pub source: SourceSide,
    pub target: DestinationSide,
    pub settings: CopySettings,
    /// Whether the copy crosses accounts (and so needs a source project policy).
    pub cross_account: bool,
    /// Whether apply manages the source project's policies (`managePolicy`).
    pub manage_policy: bool,
    /// The destination version as it is, when it exists.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub live: Option<LiveVersionView>,
    /// Desired against actual, as a unified diff (conflicts).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub diff: Option<String>,
    /// Settings that differ on an existing version and that apply will not change.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub drift: Vec<Drift>,
    /// The project policy statement that would allow this cross-account copy, when none does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub missing_policy_statement: Option<serde_json::Value>,
    /// Where the placement is declared (`file:line`).
    pub declared_at: String,
}

/// What happens to a planned project policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(
    tag = "kind",
    rename_all = "kebab-case",
    rename_all_fields = "camelCase"
)]
pub enum PolicyChange {
    /// A new policy.
    Create,
    /// Replaces this revision.
    Update { replaces_revision_id: String },
    /// Already as wanted.
    Unchanged { revision_id: String },
    /// A managed policy no longer needed (withdrawn grants, or a legacy per-account name):
    /// deleted, last.
    Delete { revision_id: String },
}

/// One project policy document as apply writes it (managed) or the source account's owners
/// must (unmanaged).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PlannedPolicy {
    pub policy_name: String,
    /// The destination accounts it lets copy.
    pub grantee_account_ids: Vec<String>,
    /// The exact document (compact JSON, as written).
    pub document: String,
    pub change: PolicyChange,
}

/// The grants one source project must carry, computed once from the plan's entries and used by
/// the plan, `apply` and `policy`: which destination accounts may copy which version ARNs, and
/// the policy documents that say so.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SourceGrants {
    pub source_account: AccountRef,
    pub project_arn: String,
    pub region: String,
    /// Whether apply writes these policies (`managePolicy: true`).
    pub managed: bool,
    /// Destination account id → the version ARNs it may copy. Only placements that can be
    /// carried out grant anything.
    pub grants: BTreeMap<String, BTreeSet<String>>,
    /// Destination accounts left out because a placement of theirs is unknown: their managed
    /// policies are neither written nor withdrawn.
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub withheld: BTreeSet<String>,
    /// The policy documents for these grants (packed), and the managed ones deleted.
    pub policies: Vec<PlannedPolicy>,
    /// How widely the documents grant (`policyScope`).
    #[serde(default)]
    pub scope: PolicyScope,
    /// The project's policy budget these documents use, hand-written policies counted (for
    /// grants that do not fit: what they would need).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capacity: Option<PolicyCapacity>,
    /// PutProjectPolicy and DeleteProjectPolicy calls apply makes, in the safe order.
    #[serde(default)]
    pub writes: usize,
    /// Why no document is written for these grants (they do not fit, or no safe write order).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blocked: Option<Reason>,
    /// The live managed grants a full run no longer needs, each withdrawn or kept, and why.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub withdrawals: Vec<Withdrawal>,
}

/// A live managed grant no entry needs any more (an account or a version dropped from the
/// manifests), and what the plan does with it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Withdrawal {
    /// The destination account granted.
    pub account_id: String,
    /// What it is granted, as the live document says it: a version ARN or a pattern.
    pub resource: String,
    pub outcome: WithdrawalOutcome,
}

/// Whether a grant no entry needs is withdrawn: CopyProjectVersion needs the grant until the
/// copy completes, so a grant whose copy is still in progress is kept, and one whose copies
/// cannot be known is not withdrawn.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(
    tag = "kind",
    rename_all = "kebab-case",
    rename_all_fields = "camelCase"
)]
pub enum WithdrawalOutcome {
    /// Withdrawn: the account was read and no copy the grant allows is in progress there.
    Withdrawn,
    /// Withdrawn without looking for copies in progress: the account has no `Account` document
    /// any more, so there is no role to read it with.
    WithdrawnAccountNotDeclared,
    /// Kept: these copies the grant allows are still in progress; a full run after they end
    /// (completed or failed) withdraws it.
    KeptForCopiesInProgress {
        copies: Vec<crate::state::CopyInProgress>,
    },
    /// Kept: the account's copies in progress could not be read; nothing is withdrawn on an
    /// unknown.
    KeptCopiesUnread { problem: crate::state::CopiesUnread },
    /// Kept: the account's copies in progress were not read for this plan (`plan` reads them
    /// where this outcome appears, then plans again).
    KeptCopiesNotChecked,
}

impl WithdrawalOutcome {
    /// Whether the grant stays in the documents.
    pub fn keeps(&self) -> bool {
        !matches!(
            self,
            WithdrawalOutcome::Withdrawn | WithdrawalOutcome::WithdrawnAccountNotDeclared
        )
    }
}

impl SourceGrants {
    /// Whether apply writes anything to this project.
    pub fn has_writes(&self) -> bool {
        self.managed && self.blocked.is_none() && self.writes > 0
    }
}

/// How much of a source project's policy budget is used: AWS allows 5 policies of 2,000
/// characters per project, hand-written ones included.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PolicyCapacity {
    pub policies_used: usize,
    pub policies_max: usize,
    pub characters_used: usize,
    pub characters_max: usize,
    /// The project's policies reko-promote does not manage (never touched, always counted).
    pub hand_written_policies: usize,
}

/// Why a run sees only part of the manifests.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(
    tag = "kind",
    rename_all = "kebab-case",
    rename_all_fields = "camelCase"
)]
pub enum PartialCause {
    /// Manifest files were named rather than the whole manifest directory.
    ManifestFiles { files: Vec<String> },
    /// `--target` / `--exclude` narrowed the placements.
    Selection {
        targets: Vec<String>,
        excludes: Vec<String>,
    },
}

/// What part of the manifests a run covers. A partial run only adds: it never withdraws a
/// grant (managed policies only widen) nor removes anything (no prune).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RunScope {
    pub partial: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub because: Vec<PartialCause>,
    /// `--no-prune`: no version is deleted this run (what would be is shown, kept).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub no_prune: bool,
    /// `--replace-running`: a running version whose inference units differ from the manifests'
    /// is restarted with them (a restart interrupts inference); without it, that is drift.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub replace_running: bool,
}

impl RunScope {
    /// The whole manifest directory, nothing narrowed.
    pub fn full() -> Self {
        RunScope::default()
    }

    /// A run that sees only part of the manifests, for `because`.
    pub fn partial(because: Vec<PartialCause>) -> Self {
        RunScope {
            partial: !because.is_empty(),
            because,
            ..RunScope::default()
        }
    }
}

/// What one placement's live state looked like when the plan was computed: `apply --plan`
/// reads it again and refuses when it changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Fingerprint {
    pub key: PlacementKey,
    /// SHA-256 of the source project (ARN, feature), the source version (ARN, status), the
    /// destination project and version (present or absent, with status and source), the
    /// revisions of the source project's policies, and why any of them could not be read.
    pub digest: String,
}

/// Counts per action.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    pub copy: usize,
    pub unchanged: usize,
    pub in_progress: usize,
    pub conflict: usize,
    pub blocked: usize,
    pub unknown: usize,
    /// Placements held by a gate or a chain (not an error).
    #[serde(default)]
    pub held: usize,
    /// Entries with drift (counted apart: drift never triggers a copy).
    pub drift: usize,
    /// Project policies apply will write (created or updated).
    pub policies: usize,
    /// Versions apply starts (restarts included).
    #[serde(default)]
    pub start: usize,
    /// Versions apply stops (restarts included).
    #[serde(default)]
    pub stop: usize,
    /// Versions apply deletes (prune).
    #[serde(default)]
    pub delete: usize,
}

impl Summary {
    /// Whether apply has anything to do (copies, waits, policies, starts, stops, deletes).
    pub fn has_changes(&self) -> bool {
        self.copy + self.in_progress + self.policies + self.start + self.stop + self.delete > 0
    }

    /// Whether something needs a person: a conflict, a blocked or unknown entry.
    pub fn needs_attention(&self) -> bool {
        self.conflict + self.blocked + self.unknown > 0
    }

    /// `plan`'s exit status. With `detailed` (`--detailed-exitcode`): 0 nothing to do, 2
    /// changes pending, 1 anything blocked, in conflict or unknown; without it 0. A held
    /// placement alone is no change, unless `fail_on_held` (`--fail-on-held`): then 1.
    pub fn exit_status(&self, detailed: bool, fail_on_held: bool) -> u8 {
        if fail_on_held && self.held > 0 {
            1
        } else if !detailed {
            0
        } else if self.needs_attention() {
            1
        } else if self.has_changes() {
            2
        } else {
            0
        }
    }
}

/// One `after` edge of a promotion: `destination` comes after `after`, with an optional soak.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ChainEdge {
    pub promotion: String,
    pub destination: String,
    pub after: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub soak_seconds: Option<u64>,
}

/// An account that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AccountIssue {
    pub account: String,
    pub problem: AccountProblem,
}

/// The plan: versioned, the single source of every rendering and of `apply --plan`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(title = "reko-promote plan document")]
pub struct PlanDocument {
    /// The version of this format; readers refuse versions they do not know.
    pub format_version: u32,
    /// The reko-promote version that computed it.
    pub tool_version: String,
    /// SHA-256 of the desired state the plan was computed from (the manifests' meaning, not
    /// their formatting).
    pub manifests_digest: String,
    /// Which part of the manifests the plan covers.
    pub scope: RunScope,
    /// The `after` edges of the promotions planned: (promotion, destination, the destination it
    /// comes after), for renderers drawing the chains.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub chains: Vec<ChainEdge>,
    pub summary: Summary,
    /// Every placement, in the desired state's order (found by key, never by position).
    pub entries: Vec<PlanEntry>,
    /// The grants and policy documents of every source project of a cross-account copy.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub grants: Vec<SourceGrants>,
    /// The live state each placement was planned against.
    pub fingerprints: Vec<Fingerprint>,
    /// Accounts that could not be read.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub account_problems: Vec<AccountIssue>,
    /// What runs and what is pruned in every destination project declaring `running` or
    /// `prune`: the starts, stops and deletes apply makes, and the versions kept, with why.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub serving: Vec<ProjectServing>,
}

impl PlanDocument {
    /// 2: typed reasons, placement keys, grants as data, per-placement fingerprints, scope.
    /// 3: packed managed policies (grantee lists, deletes, policyScope, capacity, writes).
    /// 4: the `held` action (quality gates, `after` chains and soak), `planned_at`, `chains`.
    /// 5: `serving` (start, stop, delete with reasons and guards, per destination project),
    /// `summary.start`/`stop`/`delete`, `scope.noPrune`/`replaceRunning`.
    pub const FORMAT_VERSION: u32 = 5;

    /// The entry of placement `key`.
    pub fn entry(&self, key: &PlacementKey) -> Option<&PlanEntry> {
        self.entries.iter().find(|e| &e.key == key)
    }

    /// Every entry by key.
    pub fn by_key(&self) -> BTreeMap<&PlacementKey, &PlanEntry> {
        self.entries.iter().map(|e| (&e.key, e)).collect()
    }
}

/// A version of a destination project, as the serving part of the plan names it. Serving steps
/// are found by this key (and their action), never by position.
#[derive(
    Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "camelCase")]
pub struct VersionKey {
    pub account_id: String,
    pub region: String,
    pub project: String,
    pub version_name: String,
}

impl std::fmt::Display for VersionKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}/{}/{}",
            self.account_id, self.project, self.version_name
        )
    }
}

/// What apply does to one version of a serving or pruned project.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum ServingAction {
    /// StartProjectVersion with the declared units, then wait for RUNNING.
    Start,
    /// Stop, wait for STOPPED, start with the declared units (`--replace-running`).
    Restart,
    /// StopProjectVersion (blue/green: once the replacement is RUNNING).
    Stop,
    /// DeleteProjectVersion (prune).
    Delete,
    /// Nothing: shown with why (serving as declared, drift, not made by reko-promote, busy).
    Keep,
}

impl ServingAction {
    /// The marker of the text plan.
    pub fn marker(self) -> char {
        match self {
            ServingAction::Start | ServingAction::Restart => '▶',
            ServingAction::Stop => '■',
            ServingAction::Delete => '-',
            ServingAction::Keep => '=',
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            ServingAction::Start => "start",
            ServingAction::Restart => "restart",
            ServingAction::Stop => "stop",
            ServingAction::Delete => "delete",
            ServingAction::Keep => "keep",
        }
    }
}

/// Why a serving step is what it is: typed data, the words are the renderers'.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(
    tag = "code",
    rename_all = "kebab-case",
    rename_all_fields = "camelCase"
)]
pub enum ServingReason {
    // start
    /// The declared running version is being copied (by this plan or earlier): started once
    /// its copy completes.
    StartAfterCopy { placement: PlacementKey },
    /// The declared running version is at rest (COPYING_COMPLETED, STOPPED, ...).
    NotRunning { status: VersionStatus },
    /// The declared running version's last start failed (FAILED): started again.
    StartFailedBefore {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        status_message: Option<String>,
    },
    // restart, or keep with drift
    /// The running version serves with other units than declared: restarted with
    /// `--replace-running`, drift without.
    UnitsDiffer {
        desired: InferenceUnits,
        actual: InferenceUnits,
    },
    // stop
    /// Blue/green: another version is declared running; this one stops once it is RUNNING.
    Replaced { by: String },
    // delete
    /// Made by reko-promote (for `promotion`), declared by no manifest any more.
    Pruned { promotion: String },
    // keep
    /// RUNNING with the declared units.
    Serving { units: InferenceUnits },
    /// STARTING: it becomes RUNNING without a call.
    Starting,
    /// STOPPING: it can be started once STOPPED (plan again then).
    Stopping,
    /// The declared running version cannot be started as things stand (its placement is
    /// held, blocked, in conflict or unknown, or its copy failed): nothing is stopped either.
    NotReady {
        status: Option<VersionStatus>,
        placement_action: Option<Action>,
    },
    /// Serving and owned (or declared), but the version declared running cannot start yet:
    /// kept serving until it can.
    WaitingForReplacement { by: String },
    /// Serving, made by reko-promote, declared by no manifest, and no `running` replaces it.
    StillServing,
    /// Not made by reko-promote (no `reko-promote:promotion` tag) and named by no manifest:
    /// never started, stopped or deleted.
    NotMade,
    /// Its tags could not be read, so whether reko-promote made it is unknown: left alone.
    OwnershipUnreadable { error: Box<AwsError> },
    /// In a state a delete must not touch (running, starting, stopping, being copied, trained
    /// or deleted).
    Busy { status: VersionStatus },
    /// Would be pruned; `--no-prune` keeps it this run.
    PruneSkipped { promotion: String },
}

/// What apply checks just before a step, and skips the step when it does not hold.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(
    tag = "kind",
    rename_all = "kebab-case",
    rename_all_fields = "camelCase"
)]
pub enum Guard {
    /// The copy of this placement completed (COPYING_COMPLETED).
    CopyCompleted { placement: PlacementKey },
    /// The replacement version is RUNNING (blue/green: never zero serving models).
    ReplacementRunning { version_name: String },
    /// This version is STOPPED (a stop this run comes first).
    Stopped,
    /// The version is still the one planned (same ARN) and in a status the step allows.
    Unchanged { version_arn: String },
    /// The version still carries reko-promote's ownership tag.
    Owned { promotion: String },
}

/// One step (or kept version) of a serving or pruned project.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ServingStep {
    pub key: VersionKey,
    pub action: ServingAction,
    pub reason: ServingReason,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub guards: Vec<Guard>,
    /// The version's ARN, when it exists.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version_arn: Option<String>,
    /// Its status when read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<VersionStatus>,
    /// The units a start or restart uses.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub units: Option<InferenceUnits>,
}

/// Whether a project's undeclared versions made by reko-promote are pruned this run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum PruneMode {
    /// No destination of the project declares `prune: true`.
    Off,
    /// Pruned.
    On,
    /// `prune: true`, but `--no-prune`: nothing deleted, what would be is kept and shown.
    SkippedNoPrune,
    /// `prune: true`, but a partial run (named manifest files, `--target`, `--exclude`): it
    /// cannot know what other manifests declare, so nothing is deleted.
    SkippedPartial,
}

/// The declared running version of a project.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RunningView {
    pub version_name: String,
    pub units: InferenceUnits,
}

/// What runs and what is pruned in one destination project.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProjectServing {
    pub account: AccountRef,
    pub region: String,
    pub project: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project_arn: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub running: Option<RunningView>,
    pub prune: PruneMode,
    /// Where `running`/`prune` are declared (`file:line`).
    pub declared_at: Vec<String>,
    /// Why nothing could be planned here (the account or project could not be read, or the
    /// project is missing): no step then.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unknown: Option<Reason>,
    /// Starts and restarts first, then stops, deletes, and the versions kept.
    pub steps: Vec<ServingStep>,
    /// SHA-256 of the live state the steps were planned on (every version's ARN, status and
    /// units, the ownership tags read, the running version's placement action).
    pub fingerprint: String,
}
