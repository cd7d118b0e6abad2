//! The apply report: what happened to every placement and every managed policy, as one
//! versioned, serializable document (`apply --format json`, schema
//! `schemas/apply-report.schema.json`).
//!
//! It is filled in by `apply` (orchestration) and holds data only: every outcome has a typed
//! [`ReportReason`]; the words are `render::apply`'s. It never holds credentials, only account
//! names and IDs, ARNs, AWS's status messages and error codes, and counts. Live progress while
//! applying is `progress`'s job, not this module's.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::aws::session::SessionError;
use crate::aws::{AwsError, CallCounts};
use crate::desired::PlacementKey;
use crate::plan::{
    DestinationSide, Guard, PlanEntry, Reason, ServingAction, ServingReason, ServingStep,
    SourceSide, VersionKey,
};
use crate::policy::Decision;
use crate::state::VersionStatus;

use super::policies::PolicyError;

/// What became of one placement.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    /// Copied by this run (or a concurrent one it waited for): COPYING_COMPLETED.
    Copied,
    /// Already present from the same source; nothing done.
    AlreadyThere,
    /// The copy was started and not waited for (`--no-wait`).
    Started,
    /// Still COPYING_IN_PROGRESS when the run stopped waiting (timeout, Ctrl-C, `--no-wait`);
    /// it goes on server-side and the next run picks it up.
    InProgress,
    /// The copy failed (COPYING_FAILED, or an AWS error starting it).
    Failed,
    /// Not done as things stand (see the reason).
    Blocked,
    /// The version name holds something else.
    Conflict,
    /// The live state could not be read.
    Unknown,
    /// Not started: `--fail-fast` after a failure, or Ctrl-C.
    Skipped,
    /// Held by a quality gate or a promotion chain (`after`, `soak`): not copied, not an error.
    Held,
}

impl Outcome {
    /// Whether this outcome makes the run fail.
    pub fn is_problem(self) -> bool {
        matches!(
            self,
            Outcome::Failed
                | Outcome::Blocked
                | Outcome::Conflict
                | Outcome::Unknown
                | Outcome::Skipped
        )
    }
}

/// Why apply stopped starting or waiting for copies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum StopCause {
    /// SIGINT/SIGTERM.
    Interrupted,
    /// `--fail-fast` after an earlier failure.
    FailFast,
    /// `--timeout` ran out.
    Timeout,
}

/// Who started a copy apply saw complete.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum StartedBy {
    /// This run.
    ThisRun,
    /// Another run, or an SDK retry of this run's call (the name was taken by the same copy).
    Another,
    /// A copy the plan found in progress.
    Earlier,
}

/// What a plan entry lacks for apply to act on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Missing {
    SourceProjectArn,
    SourceVersionArn,
    DestinationProjectArn,
}

/// Why a placement ended as it did: typed data, words in `render::apply`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(
    tag = "code",
    rename_all = "kebab-case",
    rename_all_fields = "camelCase"
)]
pub enum ReportReason {
    /// Not acted on: the plan's reason.
    Planned { reason: Box<Reason> },
    /// The copy completed (COPYING_COMPLETED or later).
    Copied { started_by: StartedBy },
    /// Started, not waited for (`--no-wait`).
    Started { started_by: StartedBy },
    /// Not started.
    NotStarted { cause: StopCause },
    /// Still copying when apply stopped waiting; it goes on in AWS.
    StillCopying { cause: StopCause },
    /// Not waited for (`--no-wait`): a copy the plan found in progress.
    NotWaited,
    /// No session in the destination account.
    NoSession { error: Box<SessionError> },
    /// The plan entry lacks what the call needs.
    Incomplete { missing: Missing },
    /// The managed policy this copy depends on could not be written.
    ManagedPolicyFailed { error: Box<PolicyError> },
    /// Read again just before copying, the source project's policies no longer allow it.
    PolicyNoLongerAllows { decision: Decision },
    /// The source project's policies could not be read again.
    PoliciesUnreadable { error: Box<SourcePolicyError> },
    /// The name was taken meanwhile by a version from another source.
    NameTaken { actual_source: Option<String> },
    /// CopyProjectVersion (or the read that follows a name in use) failed.
    CallFailed { error: Box<AwsError> },
    /// The copy ended COPYING_FAILED.
    CopyFailed { status_message: Option<String> },
    /// The version disappeared while being copied (deleted?).
    Gone,
    /// AWS answered with a version ARN outside the destination account and region.
    ForeignArn { arn: String },
    /// The copy's status could not be read, several rounds in a row.
    StatusUnreadable { error: Box<AwsError> },
}

/// Why a source project's policies could not be read again.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum SourcePolicyError {
    #[error("{0}")]
    Session(SessionError),
    #[error("{0}")]
    Aws(AwsError),
}

/// One placement in the report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PlacementReport {
    pub key: PlacementKey,
    pub region: String,
    pub source: SourceSide,
    pub target: DestinationSide,
    pub outcome: Outcome,
    pub reason: ReportReason,
    /// The destination version, when it exists.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version_arn: Option<String>,
    /// The destination version's last status, when read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<VersionStatus>,
    /// AWS's StatusMessage, when read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_message: Option<String>,
}

impl PlacementReport {
    pub fn new(entry: &PlanEntry, outcome: Outcome, reason: ReportReason) -> Self {
        PlacementReport {
            key: entry.key.clone(),
            region: entry.region.clone(),
            source: entry.source.clone(),
            target: entry.target.clone(),
            outcome,
            reason,
            version_arn: entry.live.as_ref().map(|l| l.arn.clone()),
            status: entry.live.as_ref().map(|l| l.status.clone()),
            status_message: entry.live.as_ref().and_then(|l| l.status_message.clone()),
        }
    }
}

/// `account/project/versionName`: how events and reports name a placement's destination.
pub fn destination_label(target: &DestinationSide) -> String {
    format!(
        "{}/{}/{}",
        target.account.name, target.project, target.version_name
    )
}

/// What became of one managed policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum PolicyOutcome {
    Created,
    Updated,
    /// Already as wanted (e.g. written by a concurrent run).
    Unchanged,
    /// A managed policy no longer needed, deleted.
    Deleted,
    Failed,
}

/// One managed policy (or, on failure, a source project's set) in the report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PolicyReport {
    /// The source account's name.
    pub account: String,
    pub project_arn: String,
    /// The policy, or every policy of the project when none could be written.
    pub policy_names: Vec<String>,
    pub outcome: PolicyOutcome,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revision_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<PolicyError>,
}

/// What became of one serving step (start, restart, stop, delete, or a version kept).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum ServingOutcome {
    /// Started and RUNNING.
    Started,
    /// Stopped and started again with the declared units, RUNNING.
    Restarted,
    /// StopProjectVersion accepted (STOPPING, or STOPPED when a delete waited for it).
    Stopped,
    /// DeleteProjectVersion accepted.
    Deleted,
    /// Nothing to do, as planned.
    Kept,
    /// The call failed, or the start ended FAILED.
    Failed,
    /// Not done: a guard did not hold (the replacement is not RUNNING, the copy failed, the
    /// version moved), or the run stopped.
    Skipped,
    /// Not done yet: the copy it follows was not waited for (`--no-wait`) or is still going
    /// on; the next apply does it. A problem only when apply was to wait.
    Pending,
}

impl ServingOutcome {
    pub fn is_problem(self) -> bool {
        matches!(self, ServingOutcome::Failed | ServingOutcome::Skipped)
    }
}

/// Why a serving step ended as it did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(
    tag = "code",
    rename_all = "kebab-case",
    rename_all_fields = "camelCase"
)]
pub enum ServingReportReason {
    /// Kept: the plan's reason.
    Planned { reason: Box<ServingReason> },
    /// Done as planned.
    Done,
    /// The start ended FAILED: AWS's StatusMessage says why.
    StartFailed { status_message: Option<String> },
    /// The call (or a read it needed) failed.
    CallFailed { error: Box<AwsError> },
    /// A guard did not hold just before the step (the version's status then, when read).
    GuardNotMet {
        guard: Guard,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        status: Option<VersionStatus>,
    },
    /// No session in the destination account.
    NoSession { error: Box<SessionError> },
    /// The plan lacks the destination project's ARN.
    NoProjectArn,
    /// The version disappeared.
    Gone,
    /// The run stopped (interrupted, timeout) before or while waiting.
    NotFinished { cause: StopCause },
    /// Still not RUNNING/STOPPED when waiting gave up (status unreadable several rounds).
    StatusUnreadable { error: Box<AwsError> },
}

/// One serving step in the report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ServingReport {
    pub key: VersionKey,
    pub action: ServingAction,
    pub outcome: ServingOutcome,
    pub reason: ServingReportReason,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version_arn: Option<String>,
    /// The version's last status, when read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<VersionStatus>,
    /// AWS's StatusMessage, when read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_message: Option<String>,
}

impl ServingReport {
    /// The report with the version as read last (ARN, status, StatusMessage).
    pub fn read_as(mut self, version: &crate::state::LiveVersion) -> Self {
        self.version_arn = Some(version.arn.clone());
        self.status = Some(version.status.clone());
        self.status_message.clone_from(&version.status_message);
        self
    }

    pub fn new(step: &ServingStep, outcome: ServingOutcome, reason: ServingReportReason) -> Self {
        ServingReport {
            key: step.key.clone(),
            action: step.action,
            outcome,
            reason,
            version_arn: step.version_arn.clone(),
            status: step.status.clone(),
            status_message: None,
        }
    }
}

/// Counts per outcome.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReportSummary {
    pub copied: usize,
    pub already_there: usize,
    pub started: usize,
    pub in_progress: usize,
    pub failed: usize,
    pub blocked: usize,
    pub conflict: usize,
    pub unknown: usize,
    pub skipped: usize,
    #[serde(default)]
    pub held: usize,
    pub policies_written: usize,
    pub policies_failed: usize,
    /// Versions started (restarts included).
    #[serde(default)]
    pub versions_started: usize,
    #[serde(default)]
    pub versions_stopped: usize,
    #[serde(default)]
    pub versions_deleted: usize,
    /// Serving steps that failed or were skipped.
    #[serde(default)]
    pub serving_failed: usize,
    /// Serving steps waiting for a copy still going on.
    #[serde(default)]
    pub serving_pending: usize,
}

/// The whole report of one apply run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(title = "reko-promote apply report")]
pub struct ApplyReport {
    /// The version of this format; readers refuse versions they do not know.
    pub format_version: u32,
    pub tool_version: String,
    /// RFC 3339 UTC.
    pub started_at: String,
    pub finished_at: String,
    pub elapsed_seconds: f64,
    /// The manifests digest of the plan that was applied.
    pub manifests_digest: String,
    /// Whether the run was interrupted (SIGINT/SIGTERM).
    pub interrupted: bool,
    /// Whether `--timeout` ran out while waiting.
    pub timed_out: bool,
    pub summary: ReportSummary,
    pub placements: Vec<PlacementReport>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub policies: Vec<PolicyReport>,
    /// Every serving step of the plan: starts, stops, deletes and versions kept.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub serving: Vec<ServingReport>,
    /// AWS API calls made, per operation.
    pub calls: CallCounts,
}

impl ApplyReport {
    /// 3: `serving` (starts, stops, deletes) and their counts in `summary`.
    pub const FORMAT_VERSION: u32 = 3;

    /// Recounts the summary from the placements and policies.
    pub fn tally(&mut self) {
        let mut s = ReportSummary::default();
        for p in &self.placements {
            match p.outcome {
                Outcome::Copied => s.copied += 1,
                Outcome::AlreadyThere => s.already_there += 1,
                Outcome::Started => s.started += 1,
                Outcome::InProgress => s.in_progress += 1,
                Outcome::Failed => s.failed += 1,
                Outcome::Blocked => s.blocked += 1,
                Outcome::Conflict => s.conflict += 1,
                Outcome::Unknown => s.unknown += 1,
                Outcome::Skipped => s.skipped += 1,
                Outcome::Held => s.held += 1,
            }
        }
        for p in &self.policies {
            match p.outcome {
                PolicyOutcome::Created | PolicyOutcome::Updated | PolicyOutcome::Deleted => {
                    s.policies_written += 1
                }
                PolicyOutcome::Failed => s.policies_failed += 1,
                PolicyOutcome::Unchanged => {}
            }
        }
        for r in &self.serving {
            match r.outcome {
                ServingOutcome::Started => s.versions_started += 1,
                ServingOutcome::Restarted => {
                    s.versions_started += 1;
                    s.versions_stopped += 1;
                }
                ServingOutcome::Stopped => s.versions_stopped += 1,
                ServingOutcome::Deleted => s.versions_deleted += 1,
                ServingOutcome::Kept => {}
                ServingOutcome::Failed | ServingOutcome::Skipped => s.serving_failed += 1,
                ServingOutcome::Pending => s.serving_pending += 1,
            }
        }
        self.summary = s;
    }

    /// Whether everything the plan asked for is done (or, with `--no-wait`, started).
    pub fn succeeded(&self, waited: bool) -> bool {
        !self.interrupted
            && !self.timed_out
            && self.summary.policies_failed == 0
            && self.summary.serving_failed == 0
            && (!waited || self.summary.serving_pending == 0)
            && !self
                .placements
                .iter()
                .any(|p| p.outcome.is_problem() || (waited && p.outcome == Outcome::InProgress))
    }

    /// The placement of `key`.
    pub fn placement(&self, key: &PlacementKey) -> Option<&PlacementReport> {
        self.placements.iter().find(|p| &p.key == key)
    }
}

/// Now, as RFC 3339 UTC to the second.
pub fn now_rfc3339() -> String {
    humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string()
}
