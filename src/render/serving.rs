//! The words of serving and prune: the plan's `serving` section (starts `▶`, stops `■`,
//! deletes `-`, versions kept `=`, with reasons and guards) as text and markdown, and the apply
//! report's serving steps. They read only the plan document and the apply report.

use std::fmt::Write;

use owo_colors::OwoColorize;

use crate::apply::report::{ServingOutcome, ServingReport, ServingReportReason};
use crate::plan::{
    Guard, PlanDocument, ProjectServing, PruneMode, ServingAction, ServingReason, ServingStep,
};

/// Why a step is what it is, in words.
pub fn reason_text(reason: &ServingReason) -> String {
    match reason {
        // When it starts is the guard's to say (after the copy of the placement completes).
        ServingReason::StartAfterCopy { .. } => "the declared running version".into(),
        // The status is in the step's parentheses.
        ServingReason::NotRunning { .. } => "the declared running version, not serving".into(),
        ServingReason::StartFailedBefore { status_message } => format!(
            "the declared running version's last start failed{}; started again",
            status_message
                .as_deref()
                .map(|m| format!(" ({m})"))
                .unwrap_or_default()
        ),
        ServingReason::UnitsDiffer { desired, actual } => {
            format!("serving with {actual}, the manifests say {desired}")
        }
        ServingReason::Replaced { by } => {
            format!("replaced by `{by}` (blue/green)")
        }
        ServingReason::Pruned { promotion } => format!(
            "made by reko-promote (promotion `{promotion}`) and declared by no manifest any more"
        ),
        ServingReason::Serving { units } => format!("RUNNING with {units}, as declared"),
        ServingReason::Starting => "STARTING; it becomes RUNNING without a call".into(),
        ServingReason::Stopping => {
            "STOPPING; it can be started once STOPPED: apply again then".into()
        }
        ServingReason::NotReady {
            status,
            placement_action,
        } => format!(
            "the declared running version cannot be started as things stand ({}): nothing is \
             stopped either",
            match (status, placement_action) {
                (Some(status), _) => format!("it is {status}"),
                (None, Some(action)) => format!("its placement is {}", action.label()),
                (None, None) => "it is not there".into(),
            }
        ),
        ServingReason::WaitingForReplacement { by } => {
            format!("serving; kept until `{by}`, the declared running version, can be started")
        }
        ServingReason::StillServing => "made by reko-promote and declared by no manifest, but \
                                        still serving and no `running` replaces it: kept"
            .into(),
        ServingReason::NotMade => {
            "not made by reko-promote (no reko-promote:promotion tag): never touched".into()
        }
        ServingReason::OwnershipUnreadable { error } => {
            format!(
                "whether reko-promote made it is unknown (its tags could not be read: {error}): left alone"
            )
        }
        ServingReason::Busy { status } => {
            format!("{status}: not deleted while it is; a later apply prunes it")
        }
        ServingReason::PruneSkipped { promotion } => format!(
            "made by reko-promote (promotion `{promotion}`), declared by no manifest: \
             --no-prune keeps it this run"
        ),
    }
}

/// A guard, in words.
pub fn guard_text(guard: &Guard) -> String {
    match guard {
        Guard::CopyCompleted { placement } => format!("after the copy of {placement} completes"),
        Guard::ReplacementRunning { version_name } => {
            format!("only once `{version_name}` is RUNNING")
        }
        Guard::Stopped => "only once STOPPED".into(),
        Guard::Unchanged { .. } => "only if still the version planned".into(),
        Guard::Owned { .. } => "only if still tagged as made by reko-promote".into(),
    }
}

fn step_line(step: &ServingStep) -> String {
    let mut line = format!(
        "{} {}",
        step.action.label(),
        match &step.status {
            Some(status) => format!("({status})"),
            None => "(to be copied)".into(),
        }
    );
    if let Some(units) = &step.units
        && matches!(step.action, ServingAction::Start | ServingAction::Restart)
    {
        let _ = write!(line, " with {units}");
    }
    let _ = write!(line, ": {}", reason_text(&step.reason));
    let guards: Vec<String> = step
        .guards
        .iter()
        .filter(|g| !matches!(g, Guard::Unchanged { .. }))
        .map(guard_text)
        .collect();
    if !guards.is_empty() {
        let _ = write!(line, "; {}", guards.join(", "));
    }
    line
}

fn prune_text(mode: PruneMode) -> Option<&'static str> {
    match mode {
        PruneMode::Off => None,
        PruneMode::On => Some("prune: on"),
        PruneMode::SkippedNoPrune => Some("prune: skipped this run (--no-prune)"),
        PruneMode::SkippedPartial => Some(
            "prune: skipped (partial run: named manifest files, --target or --exclude; \
             nothing is deleted)",
        ),
    }
}

fn title(p: &ProjectServing) -> String {
    let mut title = format!(
        "{} ({}) · project {} · {}",
        p.account.name, p.account.account_id, p.project, p.region
    );
    if let Some(r) = &p.running {
        let _ = write!(title, " · running `{}` with {}", r.version_name, r.units);
    }
    if let Some(prune) = prune_text(p.prune) {
        let _ = write!(title, " · {prune}");
    }
    title
}

fn colour(action: ServingAction) -> String {
    let marker = action.marker().to_string();
    match action {
        ServingAction::Start | ServingAction::Restart => marker.green().bold().to_string(),
        ServingAction::Stop => marker.yellow().bold().to_string(),
        ServingAction::Delete => marker.red().bold().to_string(),
        ServingAction::Keep => marker.dimmed().to_string(),
    }
}

/// The plan's serving section as text (empty when no project declares `running` or `prune`).
pub fn plan_text(plan: &PlanDocument) -> String {
    let mut out = String::new();
    if plan.serving.is_empty() {
        return out;
    }
    let _ = writeln!(out, "{}", "Serving and prune".bold());
    for p in &plan.serving {
        let _ = writeln!(out, "  {}", title(p));
        if let Some(reason) = &p.unknown {
            let _ = writeln!(
                out,
                "    ? nothing planned: {}",
                super::plan::serving_unknown_text(reason)
            );
        }
        for step in &p.steps {
            let _ = writeln!(
                out,
                "    {} {}  {}",
                colour(step.action),
                step.key.version_name.bold(),
                step_line(step)
            );
        }
    }
    out.push('\n');
    out
}

/// The plan's serving section as markdown.
pub fn plan_markdown(plan: &PlanDocument) -> String {
    let mut out = String::new();
    if plan.serving.is_empty() {
        return out;
    }
    let _ = writeln!(out, "**Serving and prune**\n");
    for p in &plan.serving {
        let _ = writeln!(out, "- {}", super::plan::cell(&title(p)));
        if let Some(reason) = &p.unknown {
            let _ = writeln!(
                out,
                "  - ❓ nothing planned: {}",
                super::plan::cell(&super::plan::serving_unknown_text(reason))
            );
        }
        for step in &p.steps {
            let _ = writeln!(
                out,
                "  - `{}` `{}`: {}",
                step.action.marker(),
                super::plan::cell(&step.key.version_name),
                super::plan::cell(&step_line(step))
            );
        }
    }
    out.push('\n');
    out
}

/// How a serving outcome is labelled.
pub fn outcome_label(outcome: ServingOutcome) -> &'static str {
    match outcome {
        ServingOutcome::Started => "started",
        ServingOutcome::Restarted => "restarted",
        ServingOutcome::Stopped => "stopped",
        ServingOutcome::Deleted => "deleted",
        ServingOutcome::Kept => "kept",
        ServingOutcome::Failed => "failed",
        ServingOutcome::Skipped => "skipped",
        ServingOutcome::Pending => "pending",
    }
}

/// Why a serving step ended as it did.
pub fn report_reason(report: &ServingReport) -> String {
    match &report.reason {
        ServingReportReason::Planned { reason } => reason_text(reason),
        ServingReportReason::Done => match report.outcome {
            ServingOutcome::Started | ServingOutcome::Restarted => "RUNNING".into(),
            ServingOutcome::Stopped => "stopping".into(),
            ServingOutcome::Deleted => "deleted".into(),
            _ => "done".into(),
        },
        ServingReportReason::StartFailed { status_message } => format!(
            "the start ended FAILED: {}; the versions it was to replace keep serving",
            status_message
                .as_deref()
                .unwrap_or("AWS gave no StatusMessage")
        ),
        ServingReportReason::CallFailed { error } => error.to_string(),
        ServingReportReason::GuardNotMet { guard, status } => format!(
            "not done: {} did not hold{}",
            guard_text(guard),
            status
                .as_ref()
                .map(|s| format!(" (the version is {s})"))
                .unwrap_or_default()
        ),
        ServingReportReason::NoSession { error } => error.to_string(),
        ServingReportReason::NoProjectArn => "the plan lacks the destination project's ARN".into(),
        ServingReportReason::Gone => "the version is gone".into(),
        ServingReportReason::NotFinished { cause } => {
            format!("not finished: {}", super::apply::stop_cause(*cause))
        }
        ServingReportReason::StatusUnreadable { error } => {
            format!("its status could not be read: {error}")
        }
    }
}

/// One serving step of the apply report as a line.
pub fn report_line(report: &ServingReport) -> String {
    format!(
        "{} {} {}: {}",
        report.action.label(),
        outcome_label(report.outcome),
        report.key,
        report_reason(report)
    )
}
