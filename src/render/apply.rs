//! Renderings of an [`ApplyReport`]: the text summary (every problem in full, counts per
//! destination account, the totals; every placement with `-v`) and the words of every
//! [`ReportReason`]. The JSON form is the report itself. Live progress (`apply::progress`)
//! takes its words from here too: its printed lines and the lines under its overall bar.

use std::collections::BTreeMap;
use std::fmt::Write;

use crate::apply::Event;
use crate::apply::policies::PolicyError;
use crate::apply::progress::{Row, Words};
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
    match error {
        PolicyError::Unwritable {
            account,
            project_arn,
            reason,
        } => {
            let why = match reason.as_ref() {
                crate::plan::Reason::PolicyOverflow { overflow } => {
                    super::plan::overflow_text(overflow)
                }
                crate::plan::Reason::PolicyNoSafeOrder { policies } => format!(
                    "no order of writes replaces {} while keeping every needed grant",
                    policies.join(", ")
                ),
                crate::plan::Reason::PolicyGrantInvalid { error } => error.clone(),
                _ => return error.to_string(),
            };
            format!(
                "the managed policies of source project {project_arn} (account {account}) were \
                 not written: {why}"
            )
        }
        other => other.to_string(),
    }
}

pub(crate) fn stop_cause(cause: StopCause) -> &'static str {
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
        PolicyOutcome::Deleted => "deleted",
        PolicyOutcome::Failed => "failed",
    }
}

/// The text summary of a terminal or CI log: counts per destination account, every problem in
/// full (failed policies, and each placement that failed, was not done or is still copying),
/// then the totals. The full per-placement list is [`text_verbose`]'s and the JSON report's.
pub fn text(report: &ApplyReport) -> String {
    summary(report, false)
}

/// [`text`] with a line for every policy and every placement (`apply -v`).
pub fn text_verbose(report: &ApplyReport) -> String {
    summary(report, true)
}

fn summary(report: &ApplyReport, every_placement: bool) -> String {
    // The counts per destination first, so that the problems end up on the last screen.
    let mut out = per_destination(report);
    let mut left_out = 0;
    for p in &report.policies {
        if !every_placement && p.outcome != PolicyOutcome::Failed {
            left_out += 1;
            continue;
        }
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
    // Copies still going on when apply stopped waiting are no problem of their own: without -v
    // they are counted per reason (the per-destination table says where), not listed.
    let mut still_copying: Vec<(&PlacementReport, usize)> = Vec::new();
    for p in &report.placements {
        if !every_placement && p.outcome == Outcome::InProgress {
            match still_copying.iter_mut().find(|(q, _)| q.reason == p.reason) {
                Some((_, n)) => *n += 1,
                None => still_copying.push((p, 1)),
            }
            continue;
        }
        if !every_placement && !p.outcome.is_problem() {
            left_out += 1;
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
    for (p, n) in still_copying {
        let _ = writeln!(
            out,
            "{:<13} {}: {}",
            outcome_label(p.outcome),
            if n == 1 {
                destination_label(&p.target)
            } else {
                format!("{n} placements")
            },
            placement_reason(p)
        );
    }
    for r in &report.serving {
        if every_placement || r.outcome != crate::apply::ServingOutcome::Kept {
            let _ = writeln!(out, "{}", super::serving::report_line(r));
        }
    }
    if left_out > 0 {
        let _ = writeln!(
            out,
            "({left_out} placement(s) or policies done as planned: counted, listed by -v or \
             --format json)"
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
    for (label, n) in [
        ("versions started", s.versions_started),
        ("versions stopped", s.versions_stopped),
        ("versions deleted", s.versions_deleted),
        ("serving steps not done", s.serving_failed),
        ("serving steps pending", s.serving_pending),
    ] {
        if n > 0 {
            let _ = writeln!(out, "  {label:<26}{n:>6}");
        }
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

/// Counts per destination account: a row per account, a column per outcome that occurred
/// (problems together).
fn per_destination(report: &ApplyReport) -> String {
    #[derive(Default)]
    struct Counts {
        copied: usize,
        already_there: usize,
        started: usize,
        in_progress: usize,
        problems: usize,
    }
    let mut accounts: BTreeMap<&str, Counts> = BTreeMap::new();
    for p in &report.placements {
        let c = accounts.entry(p.target.account.name.as_str()).or_default();
        match p.outcome {
            Outcome::Copied => c.copied += 1,
            Outcome::AlreadyThere => c.already_there += 1,
            Outcome::Started => c.started += 1,
            Outcome::InProgress => c.in_progress += 1,
            _ => c.problems += 1,
        }
    }
    if accounts.is_empty() {
        return String::new();
    }
    let width = accounts.keys().map(|a| a.len()).max().unwrap_or(0).max(11);
    let started = accounts.values().any(|c| c.started > 0);
    let mut out = format!(
        "  {:<width$}  {:>7}  {:>13}{}  {:>11}  {:>8}\n",
        "destination",
        "copied",
        "already there",
        if started { "  started" } else { "" },
        "in progress",
        "problems"
    );
    for (account, c) in &accounts {
        let _ = writeln!(
            out,
            "  {account:<width$}  {:>7}  {:>13}{}  {:>11}  {:>8}",
            c.copied,
            c.already_there,
            if started {
                format!("  {:>7}", c.started)
            } else {
                String::new()
            },
            c.in_progress,
            c.problems
        );
    }
    out.push('\n');
    out
}

/// The words of a line of the live display (`apply::Progress` shows them).
pub fn row_line(row: &Row) -> String {
    match row {
        Row::Copy(active) => format!(
            "{} {}",
            destination_label(&active.copy.target),
            if active.started_earlier {
                "copying (started earlier)"
            } else {
                "copying"
            }
        ),
        Row::Account {
            account,
            copying,
            tally,
        } => format!(
            "{account}  {copying} copying, {}/{} done{}",
            tally.done,
            tally.total,
            if tally.failed > 0 {
                format!(", {} not copied", tally.failed)
            } else {
                String::new()
            }
        ),
        Row::MoreAccounts { accounts, copying } => {
            format!("{accounts} more account(s)  {copying} copying")
        }
    }
}

/// The words apply's live progress shows.
pub const PROGRESS_WORDS: Words = Words {
    event: event_line,
    row: row_line,
};

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
        Event::PolicyDeleted {
            account,
            project_arn,
            name,
        } => format!("policy deleted {name} on {project_arn} ({account})"),
        Event::PolicyFailed { project_arn, error } => {
            format!("policy failed on {project_arn}: {}", policy_error(error))
        }
        Event::CopyStarted(copy) => format!("copy started {}", destination_label(&copy.target)),
        Event::CopyJoined(copy) => format!(
            "copy already started by another run {}; waiting for it",
            destination_label(&copy.target)
        ),
        Event::Waiting(copy) => format!(
            "waiting for copy in progress {}",
            destination_label(&copy.target)
        ),
        Event::CopyCompleted(copy) => {
            format!("copy completed {}", destination_label(&copy.target))
        }
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
        Event::Serving(report) => super::serving::report_line(report),
    }
}
