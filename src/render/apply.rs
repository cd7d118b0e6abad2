//! Renderings of an [`ApplyReport`]: the text summary (a line per placement that needs reading,
//! then the counts) and the words of every [`ReportReason`]. The JSON form is the report
//! itself. Progress lines (`apply::progress`) take their words from here too.

use std::fmt::Write;

use crate::apply::Event;
use crate::apply::policies::PolicyError;
use crate::apply::report::{
    ApplyReport, Missing, Outcome, PlacementReport, PolicyOutcome, ReportReason, StartedBy,
    StopCause, destination_label,
};

/// How an outcome is labelled in the text report.
pub fn outcome_label(outcome: Outcome) -> &'static str {
    match outcome {
        Outcome::Copied => "copied",
        Outcome::AlreadyThere => "already there",
        Outcome::Started => "started",
        Outcome::InProgress => "in progress",
        Outcome::Failed => "failed",
        Outcome::Blocked => "blocked",
        Outcome::Conflict => "conflict",
        Outcome::Unknown => "unknown",
        Outcome::Skipped => "skipped",
        Outcome::Held => "held",
    }
}

/// The words of a managed-policy failure.
pub fn policy_error(error: &PolicyError) -> String {
    error.to_string()
}

fn stop_cause(cause: StopCause) -> &'static str {
    match cause {
        StopCause::Interrupted => "apply was interrupted",
        StopCause::FailFast => "--fail-fast after an earlier failure",
        StopCause::Timeout => "--timeout ran out",
    }
}

/// The sentence saying why a placement ended as it did.
pub fn placement_reason(report: &PlacementReport) -> String {
    match &report.reason {
        ReportReason::Planned { reason } => {
            super::plan::reason_text(reason, &report.source, &report.target, &report.region)
        }
        ReportReason::Copied { started_by } => match started_by {
            StartedBy::ThisRun => "copy completed (COPYING_COMPLETED)".into(),
            StartedBy::Another => "copied (started by another run or a retried call)".into(),
            StartedBy::Earlier => "the copy found in progress completed".into(),
        },
        ReportReason::Started { started_by } => match started_by {
            StartedBy::ThisRun => "copy started; not waited for (--no-wait)".into(),
            _ => "the same copy was already started (another run, or a retried call); not \
                  waited for (--no-wait)"
                .into(),
        },
        ReportReason::NotStarted { cause } => format!("not started: {}", stop_cause(*cause)),
        ReportReason::StillCopying { cause } => format!(
            "still copying when {}; it continues in AWS and the next apply waits for it",
            stop_cause(*cause)
        ),
        ReportReason::NotWaited => "being copied; not waited for (--no-wait)".into(),
        ReportReason::NoSession { error } => error.to_string(),
        ReportReason::Incomplete { missing } => format!(
            "the plan entry lacks the {}",
            match missing {
                Missing::SourceProjectArn => "source project ARN",
                Missing::SourceVersionArn => "source version ARN",
                Missing::DestinationProjectArn => "destination project ARN",
            }
        ),
        ReportReason::ManagedPolicyFailed { error } => format!(
            "the managed policy could not be written: {}",
            policy_error(error)
        ),
        ReportReason::PolicyNoLongerAllows { decision } => format!(
            "no policy of source project {} (account {}) allows account {} to copy {} any more \
             ({})",
            report.source.project_arn.as_deref().unwrap_or_default(),
            report.source.account.account_id,
            report.target.account.account_id,
            report.source.version_arn.as_deref().unwrap_or_default(),
            match decision {
                crate::policy::Decision::ExplicitlyDenied => "explicitly denied",
                _ => "not allowed",
            }
        ),
        ReportReason::PoliciesUnreadable { error } => {
            format!("cannot read the source project's policies again: {error}")
        }
        ReportReason::NameTaken { actual_source } => format!(
            "`{}` was created in {} meanwhile from {}, not from {}",
            report.target.version_name,
            report.target.project_arn.as_deref().unwrap_or_default(),
            actual_source
                .as_deref()
                .unwrap_or("no source (trained in place)"),
            report.source.version_arn.as_deref().unwrap_or_default()
        ),
        ReportReason::CallFailed { error } => error.to_string(),
        ReportReason::CopyFailed { status_message } => format!(
            "COPYING_FAILED: {}",
            status_message.as_deref().unwrap_or("no StatusMessage")
        ),
        ReportReason::ForeignArn { arn } => format!(
            "AWS answered with {arn}, which is not in account {} ({}); reko-promote acts in no \
             account it did not ask for",
            report.target.account.account_id, report.region
        ),
        ReportReason::Gone => "the version disappeared while being copied (deleted?)".into(),
        ReportReason::StatusUnreadable { error } => {
            format!("the copy's status could not be read: {error}")
        }
    }
}

fn policy_outcome(outcome: PolicyOutcome) -> &'static str {
    match outcome {
        PolicyOutcome::Created => "created",
        PolicyOutcome::Updated => "updated",
        PolicyOutcome::Unchanged => "unchanged",
        PolicyOutcome::Failed => "failed",
    }
}

/// The text summary: a line per placement that needs reading, then the table.
pub fn text(report: &ApplyReport) -> String {
    let mut out = String::new();
    for p in &report.policies {
        let _ = writeln!(
            out,
            "policy {} on {} ({}): {}{}",
            p.policy_names.join(","),
            p.project_arn,
            p.account,
            policy_outcome(p.outcome),
            p.error
                .as_ref()
                .map(|e| format!(": {}", policy_error(e)))
                .unwrap_or_default()
        );
    }
    for p in &report.placements {
        if p.outcome == Outcome::AlreadyThere {
            continue;
        }
        let reason = placement_reason(p);
        let _ = writeln!(
            out,
            "{:<13} {}: {reason}{}",
            outcome_label(p.outcome),
            destination_label(&p.target),
            match (&p.status_message, p.outcome.is_problem()) {
                (Some(m), true) if !reason.contains(m.as_str()) => format!(" (StatusMessage: {m})"),
                _ => String::new(),
            }
        );
    }
    let s = &report.summary;
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
    if s.held > 0 {
        let _ = writeln!(out, "  {:<26}{:>6}", "held (gates, chains)", s.held);
    }
    let _ = writeln!(out, "  {:<26}{:>6}", "policies written", s.policies_written);
    if s.policies_failed > 0 {
        let _ = writeln!(out, "  {:<26}{:>6}", "policies failed", s.policies_failed);
    }
    let _ = writeln!(
        out,
        "Apply {} in {}.{}",
        if report.interrupted {
            "interrupted"
        } else if report.timed_out {
            "timed out"
        } else if report.succeeded(false) {
            "complete"
        } else {
            "finished with problems"
        },
        humantime::format_duration(std::time::Duration::from_secs(
            report.elapsed_seconds.round() as u64
        )),
        if report.interrupted || report.timed_out {
            " Copies in progress continue in AWS; run apply again to wait for them."
        } else {
            ""
        }
    );
    out
}

/// The words of one progress event (`apply::Progress` shows them).
pub fn event_line(event: &Event) -> String {
    let label = |report: &PlacementReport| destination_label(&report.target);
    match event {
        Event::PolicyWritten {
            account,
            project_arn,
            name,
            created,
        } => format!(
            "policy {} {name} on {project_arn} ({account})",
            if *created { "created" } else { "updated" }
        ),
        Event::PolicyFailed { project_arn, error } => {
            format!("policy failed on {project_arn}: {}", policy_error(error))
        }
        Event::CopyStarted { placement } => format!("copy started {placement}"),
        Event::CopyJoined { placement } => {
            format!("copy already started by another run {placement}; waiting for it")
        }
        Event::Waiting { placement } => format!("waiting for copy in progress {placement}"),
        Event::CopyCompleted { placement } => format!("copy completed {placement}"),
        Event::CopyFailed(report) => {
            format!(
                "copy failed {}: {}",
                label(report),
                placement_reason(report)
            )
        }
        Event::NotCopied(report) => {
            format!("not copied {}: {}", label(report), placement_reason(report))
        }
        Event::Interrupted { in_flight } => {
            format!("interrupted: no new copies; {in_flight} copy(ies) in flight continue in AWS")
        }
    }
}
