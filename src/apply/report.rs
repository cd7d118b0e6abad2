//! The apply report: what happened to every placement and every managed policy, as one
//! versioned, serializable document (`apply --format json`) and as a text summary table.
//!
//! It is filled in by `apply` (orchestration) and rendered here; it never holds credentials,
//! only account names and IDs, ARNs, AWS's status messages and counts. Live progress while
//! applying is `progress`'s job, not this module's.

use std::fmt::Write;

use serde::{Deserialize, Serialize};

use crate::aws::CallCounts;
use crate::plan::PlanEntry;

/// What became of one placement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
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
}

impl Outcome {
    pub fn label(self) -> &'static str {
        match self {
            Outcome::Copied => "copied",
            Outcome::AlreadyThere => "already there",
            Outcome::Started => "started",
            Outcome::InProgress => "in progress",
            Outcome::Failed => "failed",
            Outcome::Blocked => "blocked",
            Outcome::Conflict => "conflict",
            Outcome::Unknown => "unknown",
            Outcome::Skipped => "skipped",
        }
    }

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

/// One placement in the report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PlacementReport {
    /// `account/project/versionName` of the destination.
    pub placement: String,
    pub promotion: String,
    pub destination: String,
    pub region: String,
    pub outcome: Outcome,
    /// Why, in one sentence.
    pub reason: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_version_arn: Option<String>,
    /// The destination version, when it exists.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version_arn: Option<String>,
    /// The destination version's last status, when read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// AWS's StatusMessage, when read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_message: Option<String>,
}

impl PlacementReport {
    pub fn new(entry: &PlanEntry, outcome: Outcome, reason: impl Into<String>) -> Self {
        PlacementReport {
            placement: placement_key(entry),
            promotion: entry.promotion.clone(),
            destination: entry.destination.clone(),
            region: entry.region.clone(),
            outcome,
            reason: reason.into(),
            source_version_arn: entry.source.version_arn.clone(),
            version_arn: entry.live.as_ref().map(|l| l.arn.clone()),
            status: entry.live.as_ref().map(|l| l.status.clone()),
            status_message: entry.live.as_ref().and_then(|l| l.status_message.clone()),
        }
    }
}

/// `account/project/versionName`: how events and reports name a placement.
pub fn placement_key(entry: &PlanEntry) -> String {
    format!(
        "{}/{}/{}",
        entry.target.account.name, entry.target.project, entry.target.version_name
    )
}

/// What became of one managed policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PolicyOutcome {
    Created,
    Updated,
    /// Already as wanted (e.g. written by a concurrent run).
    Unchanged,
    Failed,
}

/// One managed policy in the report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PolicyReport {
    /// The source account's name.
    pub account: String,
    pub project_arn: String,
    pub policy_name: String,
    pub outcome: PolicyOutcome,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revision_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Counts per outcome.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
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
    pub policies_written: usize,
    pub policies_failed: usize,
}

/// The whole report of one apply run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
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
    /// AWS API calls made, per operation.
    pub calls: CallCounts,
}

impl ApplyReport {
    pub const FORMAT_VERSION: u32 = 1;

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
            }
        }
        for p in &self.policies {
            match p.outcome {
                PolicyOutcome::Created | PolicyOutcome::Updated => s.policies_written += 1,
                PolicyOutcome::Failed => s.policies_failed += 1,
                PolicyOutcome::Unchanged => {}
            }
        }
        self.summary = s;
    }

    /// Whether everything the plan asked for is done (or, with `--no-wait`, started).
    pub fn succeeded(&self, waited: bool) -> bool {
        !self.interrupted
            && !self.timed_out
            && self.summary.policies_failed == 0
            && !self
                .placements
                .iter()
                .any(|p| p.outcome.is_problem() || (waited && p.outcome == Outcome::InProgress))
    }

    /// The text summary: a line per placement that needs reading, then the table.
    pub fn text(&self) -> String {
        let mut out = String::new();
        for p in &self.policies {
            let _ = writeln!(
                out,
                "policy {} on {} ({}): {}{}",
                p.policy_name,
                p.project_arn,
                p.account,
                serde_json::to_value(p.outcome)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_default(),
                p.error
                    .as_deref()
                    .map(|e| format!(": {e}"))
                    .unwrap_or_default()
            );
        }
        for p in &self.placements {
            if p.outcome == Outcome::AlreadyThere {
                continue;
            }
            let _ = writeln!(
                out,
                "{:<13} {}: {}{}",
                p.outcome.label(),
                p.placement,
                p.reason,
                match (&p.status_message, p.outcome.is_problem()) {
                    (Some(m), true) if !p.reason.contains(m.as_str()) =>
                        format!(" (StatusMessage: {m})"),
                    _ => String::new(),
                }
            );
        }
        let s = &self.summary;
        let _ = writeln!(out);
        let _ = writeln!(out, "  {:<26}{:>6}", "copied", s.copied);
        let _ = writeln!(out, "  {:<26}{:>6}", "already there", s.already_there);
        if s.started > 0 {
            let _ = writeln!(out, "  {:<26}{:>6}", "started (not waited)", s.started);
        }
        let _ = writeln!(out, "  {:<26}{:>6}", "in progress", s.in_progress);
        let _ = writeln!(out, "  {:<26}{:>6}", "failed", s.failed);
        let _ = writeln!(
            out,
            "  {:<26}{:>6}",
            "blocked/conflict/unknown",
            s.blocked + s.conflict + s.unknown
        );
        if s.skipped > 0 {
            let _ = writeln!(out, "  {:<26}{:>6}", "skipped", s.skipped);
        }
        let _ = writeln!(out, "  {:<26}{:>6}", "policies written", s.policies_written);
        if s.policies_failed > 0 {
            let _ = writeln!(out, "  {:<26}{:>6}", "policies failed", s.policies_failed);
        }
        let _ = writeln!(
            out,
            "Apply {} in {}.{}",
            if self.interrupted {
                "interrupted"
            } else if self.timed_out {
                "timed out"
            } else if self.succeeded(false) {
                "complete"
            } else {
                "finished with problems"
            },
            humantime::format_duration(std::time::Duration::from_secs(
                self.elapsed_seconds.round() as u64
            )),
            if self.interrupted || self.timed_out {
                " Copies in progress continue in AWS; run apply again to wait for them."
            } else {
                ""
            }
        );
        out
    }
}

/// Now, as RFC 3339 UTC to the second.
pub fn now_rfc3339() -> String {
    humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string()
}
