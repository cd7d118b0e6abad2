//! Text and markdown renderings of a [`PlanDocument`](crate::plan::PlanDocument).
//!
//! Both read only the document (the JSON output *is* the document), so the three formats cannot
//! disagree. This is the only place the words of a plan [`Reason`] are produced
//! ([`reason_text`]): the document carries typed reasons, and nothing decides on these words. Text groups entries by destination account and project, one line per placement with
//! a `+ = ~ ! ?` marker, unchanged entries collapsed to a count unless asked for; markdown is
//! shaped for a pull-request comment: a summary table up front, details in collapsible sections.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;

use owo_colors::OwoColorize;

use crate::plan::{
    Action, DestinationSide, NotRead, PlanDocument, PlanEntry, PolicyCapacity, PolicyChange,
    PolicyOverflow, PolicyRemedy, Reason, Side, SourceSide, Summary, WithdrawalOutcome,
};

/// The sentence saying why an entry has its action.
pub fn entry_reason(entry: &PlanEntry) -> String {
    reason_text(&entry.reason, &entry.source, &entry.target, &entry.region)
}

/// The sentence for `reason`, about a placement from `source` to `target` in `region`.
pub fn reason_text(
    reason: &Reason,
    source: &SourceSide,
    target: &DestinationSide,
    region: &str,
) -> String {
    let side_project = |side: Side| match side {
        Side::Source => format!(
            "source project `{}` of account `{}`",
            source.project, source.account.name
        ),
        Side::Destination => format!(
            "destination project `{}` of account `{}`",
            target.project, target.account.name
        ),
    };
    match reason {
        Reason::CopySameAccount => "missing in the destination (same-account copy)".into(),
        Reason::CopyAllowedByPolicy => {
            "missing in the destination; the source project's policy allows the copy".into()
        }
        Reason::CopyAfterManagedPolicy => "missing in the destination; apply first writes the \
                                           project policy that allows the copy (managePolicy)"
            .into(),
        Reason::Present { status } => format!("present, from the same source ({status})"),
        Reason::BeingCopied => "being copied (COPYING_IN_PROGRESS); apply waits for it".into(),
        Reason::OtherSource { actual_source } => format!(
            "`{}` already exists in project `{}` but came from {}",
            target.version_name,
            target.project,
            actual_source
                .as_deref()
                .unwrap_or("no source (trained in place)")
        ),
        Reason::CopyFailed { status_message } => format!(
            "the copy failed (COPYING_FAILED: {}); delete the version to retry",
            status_message.as_deref().unwrap_or("no message")
        ),
        Reason::BeingDeleted => {
            "the version is being deleted (DELETING); plan again once it is gone".into()
        }
        Reason::SourceProjectMissing => format!(
            "source project `{}` does not exist in account `{}` ({region})",
            source.project, source.account.name
        ),
        Reason::SourceProjectReplaced {
            actual_arn,
            pinned_arn,
        } => format!(
            "source project `{}` is {actual_arn}, not the {pinned_arn} the manifest pins \
             (recreated?)",
            source.project
        ),
        Reason::SourceVersionMissing => format!(
            "source version `{}` does not exist in project `{}` of account `{}`",
            source.version, source.project, source.account.name
        ),
        Reason::SourceVersionReplaced {
            actual_arn,
            pinned_arn,
        } => format!(
            "source version `{}` is {actual_arn}, not the {pinned_arn} the manifest pins",
            source.version
        ),
        Reason::SourceNotTrained {
            status,
            status_message,
        } => format!(
            "source version `{}` is {status}{}; only trained versions can be copied",
            source.version,
            status_message
                .as_deref()
                .map(|m| format!(" ({m})"))
                .unwrap_or_default()
        ),
        Reason::DestinationProjectMissing => format!(
            "destination project `{}` does not exist in account `{}` ({region}); create it \
             first (CopyProjectVersion does not create projects)",
            target.project, target.account.name
        ),
        Reason::DestinationProjectReplaced {
            actual_arn,
            pinned_arn,
        } => format!(
            "destination project `{}` is {actual_arn}, not the {pinned_arn} the manifest pins",
            target.project
        ),
        Reason::Adapter { side, feature } => format!(
            "{} is an adapter ({feature}): CopyProjectVersion does not support adapters, only \
             Custom Labels projects",
            side_project(*side)
        ),
        Reason::PolicyDenies => format!(
            "a policy of source project `{}` explicitly denies account {} the copy",
            source.project, target.account.account_id
        ),
        Reason::PolicyMissing => format!(
            "no policy of source project `{}` allows account {} to copy this version; add the \
             statement shown (PutProjectPolicy in account `{}`), or set `managePolicy: true`",
            source.project, target.account.account_id, source.account.name
        ),
        Reason::PolicyConditional {
            effect: crate::policy::Effect::Deny,
        } => format!(
            "a Deny statement of source project `{}` may refuse account {} the copy: its \
             condition is one reko-promote cannot evaluate (it evaluates aws:PrincipalAccount \
             and aws:PrincipalArn); check the condition, or narrow the statement \
             (PutProjectPolicy in account `{}`)",
            source.project, target.account.account_id, source.account.name
        ),
        Reason::PolicyConditional {
            effect: crate::policy::Effect::Allow,
        } => format!(
            "only a statement with a condition reko-promote cannot evaluate (it evaluates \
             aws:PrincipalAccount and aws:PrincipalArn) lets account {} copy from source \
             project `{}`; make the grant unconditional (PutProjectPolicy in account `{}`), or \
             set `managePolicy: true`",
            target.account.account_id, source.project, source.account.name
        ),
        Reason::PolicyOverflow { overflow } => format!(
            "the managed grants of source project `{}` do not fit: {}",
            source.project,
            overflow_text(overflow)
        ),
        Reason::PolicyNoSafeOrder { policies } => format!(
            "no order of writes replaces managed policies {} of source project `{}` while keeping \
             every needed grant (no free policy slot, no transitional document fits 2,000 \
             characters); remove a hand-written policy of the project, or apply the change in two \
             steps",
            policies.join(", "),
            source.project
        ),
        Reason::PolicyGrantInvalid { error } => {
            format!("the managed grants cannot be packed: {error}")
        }
        // The problem names the account, the role and AWS's answer.
        Reason::AccountUnreadable { problem, .. } => problem.to_string(),
        Reason::ProjectUnreadable { side, error } => {
            format!("cannot read {}: {error}", side_project(*side))
        }
        Reason::GateF1Below {
            f1_score,
            min_f1_score,
        } => format!(
            "gate: F1 {f1_score} < {min_f1_score} (source version `{}`)",
            source.version
        ),
        Reason::GateNoF1Score { min_f1_score } => format!(
            "gate: no F1 score: version not trained or not evaluated (minF1Score {min_f1_score})"
        ),
        Reason::GateTagMissing { key, required } => format!(
            "gate: tag {key} is missing on source version `{}` (required: {key}={required})",
            source.version
        ),
        Reason::GateTagDifferent {
            key,
            required,
            actual,
        } => format!(
            "gate: tag {key} is {actual} on source version `{}`, the gate requires {required}",
            source.version
        ),
        Reason::GateTagsUnreadable { error } => format!(
            "gate: the tags of source version `{}` could not be read: {error}",
            source.version
        ),
        Reason::WaitingFor { after } => format!(
            "waiting for `{}`: not yet COPYING_COMPLETED there from the same source",
            after.destination
        ),
        Reason::AfterHeld { after } => {
            format!("waiting for `{}`, which is itself held", after.destination)
        }
        Reason::Soaking {
            after,
            soak_seconds,
            copied_at,
            eligible_at,
        } => format!(
            "soaking: copied to `{}` at {copied_at}, soak {}; eligible after {eligible_at}",
            after.destination,
            humantime::format_duration(std::time::Duration::from_secs(*soak_seconds))
        ),
        Reason::NotRead { what } => format!(
            "the {} was not read",
            match what {
                NotRead::SourceProject => "source project",
                NotRead::SourceVersion => "source version",
                NotRead::DestinationProject => "destination project",
                NotRead::DestinationVersion => "destination version",
            }
        ),
    }
}

/// The arithmetic of grants that do not fit, and the remedy.
pub fn overflow_text(overflow: &PolicyOverflow) -> String {
    use crate::policy_pack::thousands;
    let remedy = match overflow.remedy {
        PolicyRemedy::WidenScope(scope) => format!(
            "set `policyScope: {}` on the source (it fits), or send to fewer destination \
             accounts per source project",
            scope.manifest_name()
        ),
        PolicyRemedy::FewerAccounts => "send to fewer destination accounts per source project \
                                        (no policyScope fits them), or remove hand-written \
                                        policies of the project"
            .into(),
    };
    format!(
        "{} destination accounts need {} policies of at most 2,000 characters ({} characters, \
         policyScope {}) and {} are available ({} of 5 hand-written); remedy: {remedy}",
        overflow.accounts,
        overflow.needed_policies,
        thousands(overflow.needed_characters),
        overflow.scope.manifest_name(),
        overflow.available_policies,
        overflow.hand_written_policies,
    )
}

/// `3 of 5 policies, 5,812 of 10,000 characters (1 hand-written)`.
pub fn capacity_text(capacity: &PolicyCapacity) -> String {
    use crate::policy_pack::thousands;
    format!(
        "{} of {} policies, {} of {} characters ({} hand-written)",
        capacity.policies_used,
        capacity.policies_max,
        thousands(capacity.characters_used),
        thousands(capacity.characters_max),
        capacity.hand_written_policies
    )
}

/// One line per source project with managed policies: scope and capacity in use.
fn capacity_lines(plan: &PlanDocument) -> Vec<String> {
    plan.grants
        .iter()
        .filter(|g| g.managed)
        .filter_map(|g| {
            let capacity = g.capacity.as_ref()?;
            Some(format!(
                "managed policies of {} (account `{}`): policyScope {}, {}{}",
                g.project_arn,
                g.source_account.name,
                g.scope.manifest_name(),
                capacity_text(capacity),
                if g.blocked.is_some() {
                    "; over budget: nothing is written"
                } else {
                    ""
                }
            ))
        })
        .collect()
}

/// What a planned policy change is, in a word.
fn change_verb(change: &PolicyChange) -> &'static str {
    match change {
        PolicyChange::Create => "create",
        PolicyChange::Update { .. } => "update",
        PolicyChange::Unchanged { .. } => "keep",
        PolicyChange::Delete { .. } => "delete",
    }
}

/// `2 account(s) may copy 10 resource(s)`: what a policy grants.
fn grant_text(grantees: &[String], document: &str) -> String {
    let resources: std::collections::BTreeSet<String> = crate::policy_pack::pairs_of(document)
        .into_iter()
        .map(|(_, resource)| resource)
        .collect();
    match grantees {
        [one] => format!("account {one} may copy {} version(s)", resources.len()),
        _ => format!(
            "{} accounts may copy {} version(s) or pattern(s)",
            grantees.len(),
            resources.len()
        ),
    }
}

/// The policies apply writes: (source account name, project ARN, policy, change).
fn policy_writes(
    plan: &PlanDocument,
) -> impl Iterator<Item = (&str, &str, &crate::plan::PlannedPolicy)> {
    plan.grants.iter().filter(|g| g.has_writes()).flat_map(|g| {
        g.policies
            .iter()
            .filter(|p| !matches!(p.change, PolicyChange::Unchanged { .. }))
            .map(move |p| (g.source_account.name.as_str(), g.project_arn.as_str(), p))
    })
}

/// `grants to account A on PROJECT withheld: ...`, for every destination account whose grants
/// the plan leaves as they are because one of its placements is unknown (managed policies only:
/// reko-promote writes no other).
fn withheld_lines(plan: &PlanDocument) -> Vec<String> {
    plan.grants
        .iter()
        .filter(|g| g.managed)
        .flat_map(|g| {
            g.withheld.iter().map(move |account| {
                format!(
                    "grants to account {account} on {} withheld: a placement there is unknown, so \
                     its policies are neither written nor withdrawn",
                    g.project_arn
                )
            })
        })
        .collect()
}

/// One line per destination account and kind of outcome for the managed grants a full run no
/// longer needs: withdrawn (checked, or the account no longer declared so not checked) or kept
/// (a copy they allow in progress, or the account's copies unknown), with its mark.
fn withdrawal_lines(plan: &PlanDocument) -> Vec<(WithdrawalMark, String)> {
    let mut lines = Vec::new();
    for g in plan.grants.iter().filter(|g| g.managed) {
        let mut by_account: BTreeMap<(&str, OutcomeKind), Vec<&WithdrawalOutcome>> =
            BTreeMap::new();
        for w in &g.withdrawals {
            by_account
                .entry((w.account_id.as_str(), outcome_kind(&w.outcome)))
                .or_default()
                .push(&w.outcome);
        }
        for ((account, _), outcomes) in by_account {
            let project = &g.project_arn;
            let n = outcomes.len();
            let line = match outcomes[0] {
                WithdrawalOutcome::Withdrawn => (
                    WithdrawalMark::Withdrawn,
                    format!(
                        "grants to account {account} on {project} withdrawn: {n} version(s) or \
                         pattern(s) no placement needs, no copy of them in progress there"
                    ),
                ),
                WithdrawalOutcome::WithdrawnAccountNotDeclared => (
                    WithdrawalMark::Withdrawn,
                    format!(
                        "grants to account {account} on {project} withdrawn ({n} version(s) or \
                         pattern(s)) without checking for copies in progress: the account has \
                         no Account document any more, so it cannot be read"
                    ),
                ),
                WithdrawalOutcome::KeptForCopiesInProgress { .. } => {
                    let copies: BTreeSet<&str> = outcomes
                        .iter()
                        .filter_map(|o| match o {
                            WithdrawalOutcome::KeptForCopiesInProgress { copies } => Some(copies),
                            _ => None,
                        })
                        .flatten()
                        .map(|c| c.destination_version_arn.as_str())
                        .collect();
                    (
                        WithdrawalMark::Kept,
                        format!(
                            "grants to account {account} on {project} kept although no placement needs \
                             them: copies they allow are in progress ({}); a full run after they \
                             end withdraws them",
                            copies.into_iter().collect::<Vec<_>>().join(", ")
                        ),
                    )
                }
                WithdrawalOutcome::KeptCopiesUnread { problem } => (
                    WithdrawalMark::Unknown,
                    format!(
                        "grants to account {account} on {project} kept although no placement needs \
                         them: its copies in progress could not be read ({problem}), and nothing \
                         is withdrawn on an unknown"
                    ),
                ),
                WithdrawalOutcome::KeptCopiesNotChecked => (
                    WithdrawalMark::Unknown,
                    format!(
                        "grants to account {account} on {project} kept although no placement needs \
                         them: its copies in progress were not read for this plan"
                    ),
                ),
            };
            lines.push(line);
        }
    }
    lines
}

/// How a withdrawal line is marked: withdrawn, kept for a copy in progress, kept on an unknown.
#[derive(Debug, Clone, Copy)]
enum WithdrawalMark {
    Withdrawn,
    Kept,
    Unknown,
}

impl WithdrawalMark {
    fn text(self) -> String {
        match self {
            WithdrawalMark::Withdrawn => "-".red().bold().to_string(),
            WithdrawalMark::Kept => colour_marker(Action::InProgress),
            WithdrawalMark::Unknown => colour_marker(Action::Unknown),
        }
    }

    fn emoji(self) -> &'static str {
        match self {
            WithdrawalMark::Withdrawn => "➖",
            WithdrawalMark::Kept => "⏳",
            WithdrawalMark::Unknown => "❓",
        }
    }
}

/// The kind of a withdrawal's outcome, to group them by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum OutcomeKind {
    Withdrawn,
    WithdrawnAccountNotDeclared,
    KeptForCopiesInProgress,
    KeptCopiesUnread,
    KeptCopiesNotChecked,
}

fn outcome_kind(outcome: &WithdrawalOutcome) -> OutcomeKind {
    match outcome {
        WithdrawalOutcome::Withdrawn => OutcomeKind::Withdrawn,
        WithdrawalOutcome::WithdrawnAccountNotDeclared => OutcomeKind::WithdrawnAccountNotDeclared,
        WithdrawalOutcome::KeptForCopiesInProgress { .. } => OutcomeKind::KeptForCopiesInProgress,
        WithdrawalOutcome::KeptCopiesUnread { .. } => OutcomeKind::KeptCopiesUnread,
        WithdrawalOutcome::KeptCopiesNotChecked => OutcomeKind::KeptCopiesNotChecked,
    }
}

/// The line that says a plan covers only part of the manifests, when it does.
pub fn scope_line(plan: &PlanDocument) -> Option<String> {
    if !plan.scope.partial {
        return None;
    }
    let causes: Vec<String> = plan
        .scope
        .because
        .iter()
        .map(|cause| match cause {
            crate::plan::PartialCause::ManifestFiles { files } => {
                format!("manifest files named ({})", files.join(", "))
            }
            crate::plan::PartialCause::Selection { targets, excludes } => {
                let mut parts = Vec::new();
                if !targets.is_empty() {
                    parts.push(format!("--target {}", targets.join(", ")));
                }
                if !excludes.is_empty() {
                    parts.push(format!("--exclude {}", excludes.join(", ")));
                }
                parts.join(" ")
            }
        })
        .collect();
    Some(format!(
        "Partial run{}: it only adds; no grant is withdrawn and nothing is removed.",
        if causes.is_empty() {
            String::new()
        } else {
            format!(" ({})", causes.join("; "))
        }
    ))
}

/// `Plan: 3 to copy, 12 unchanged, 1 in progress, 1 conflict, 2 blocked.`
pub fn summary_line(summary: &Summary) -> String {
    let mut parts = vec![
        format!("{} to copy", summary.copy),
        format!("{} unchanged", summary.unchanged),
        format!("{} in progress", summary.in_progress),
        plural(summary.conflict, "conflict"),
        format!("{} blocked", summary.blocked),
    ];
    if summary.unknown > 0 {
        parts.push(format!("{} unknown", summary.unknown));
    }
    if summary.held > 0 {
        parts.push(format!("{} held", summary.held));
    }
    if summary.policies > 0 {
        parts.push(format!("{} to write", plural(summary.policies, "policy")));
    }
    if summary.start > 0 {
        parts.push(format!("{} to start", summary.start));
    }
    if summary.stop > 0 {
        parts.push(format!("{} to stop", summary.stop));
    }
    if summary.delete > 0 {
        parts.push(format!("{} to delete", summary.delete));
    }
    if summary.drift > 0 {
        parts.push(format!("{} with drift", summary.drift));
    }
    format!("Plan: {}.", parts.join(", "))
}

fn plural(n: usize, word: &str) -> String {
    match (n, word) {
        (1, _) => format!("1 {word}"),
        (_, "policy") => format!("{n} policies"),
        _ => format!("{n} {word}s"),
    }
}

/// Entries grouped by destination (account, project, region), in document order. Held entries
/// have their own section ([`held_text`], [`held_markdown`]).
pub(crate) fn groups(plan: &PlanDocument) -> Vec<(String, Vec<&PlanEntry>)> {
    let mut groups: Vec<(String, Vec<&PlanEntry>)> = Vec::new();
    for entry in plan.entries.iter().filter(|e| e.action != Action::Held) {
        let title = format!(
            "{} ({}) · project {} · {}",
            entry.target.account.name,
            entry.target.account.account_id,
            entry.target.project,
            entry.region
        );
        match groups.last_mut() {
            Some((last, entries)) if *last == title => entries.push(entry),
            _ => groups.push((title, vec![entry])),
        }
    }
    groups
}

pub(crate) fn source_text(entry: &PlanEntry) -> String {
    format!(
        "{}/{}/{}",
        entry.source.account.name, entry.source.project, entry.source.version
    )
}

fn colour_marker(action: Action) -> String {
    let marker = action.marker().to_string();
    match action {
        Action::Copy => marker.green().bold().to_string(),
        Action::Unchanged => marker.dimmed().to_string(),
        Action::InProgress => marker.yellow().bold().to_string(),
        Action::Conflict | Action::Blocked => marker.red().bold().to_string(),
        Action::Unknown => marker.magenta().bold().to_string(),
        Action::Held => marker.cyan().bold().to_string(),
    }
}

fn indent(text: &str, by: &str) -> String {
    text.lines().map(|l| format!("{by}{l}\n")).collect()
}

/// The plan as text for a terminal or a CI log.
pub fn text(plan: &PlanDocument, show_unchanged: bool) -> String {
    let mut out = String::new();
    for (title, entries) in groups(plan) {
        let _ = writeln!(out, "{}", title.bold());
        let unchanged = entries
            .iter()
            .filter(|e| e.action == Action::Unchanged)
            .count();
        for entry in &entries {
            if entry.action == Action::Unchanged && !show_unchanged {
                continue;
            }
            let _ = writeln!(
                out,
                "  {} {}  ← {}",
                colour_marker(entry.action),
                entry.target.version_name.bold(),
                source_text(entry)
            );
            let _ = writeln!(
                out,
                "      {}: {}",
                entry.action.label(),
                entry_reason(entry)
            );
            if let Some(diff) = &entry.diff {
                out.push_str(&indent(diff.trim_end(), "      "));
            }
            if let Some(statement) = &entry.missing_policy_statement {
                let _ = writeln!(out, "      missing project policy statement:");
                let json = serde_json::to_string_pretty(statement).unwrap_or_default();
                out.push_str(&indent(&json, "        "));
            }
        }
        if unchanged > 0 && !show_unchanged {
            let _ = writeln!(
                out,
                "  {} {unchanged} unchanged (--show-unchanged lists them)",
                colour_marker(Action::Unchanged)
            );
        }
        out.push('\n');
    }
    for line in capacity_lines(plan) {
        let _ = writeln!(out, "  {line}");
    }
    out.push_str(&held_text(plan));
    for line in withheld_lines(plan) {
        let _ = writeln!(out, "{} {line}\n", colour_marker(Action::Unknown));
    }
    for (mark, line) in withdrawal_lines(plan) {
        let _ = writeln!(out, "{} {line}\n", mark.text());
    }
    let writes: Vec<_> = policy_writes(plan).collect();
    if !writes.is_empty() {
        let _ = writeln!(out, "{}", "Project policies apply writes first".bold());
        for (account, project_arn, policy) in writes {
            let _ = writeln!(
                out,
                "  {} {} {} on {} (account `{}`): {}",
                "+".green().bold(),
                change_verb(&policy.change),
                policy.policy_name,
                project_arn,
                account,
                grant_text(&policy.grantee_account_ids, &policy.document)
            );
        }
        out.push('\n');
    }
    let drifted: Vec<&PlanEntry> = plan
        .entries
        .iter()
        .filter(|e| !e.drift.is_empty())
        .collect();
    if !drifted.is_empty() {
        let _ = writeln!(
            out,
            "{}",
            "Drift on existing versions (apply never changes these)".bold()
        );
        for entry in drifted {
            for drift in &entry.drift {
                let _ = writeln!(
                    out,
                    "  ~ {}/{}/{}: {} is {}, the manifests say {}",
                    entry.target.account.name,
                    entry.target.project,
                    entry.target.version_name,
                    drift.field,
                    drift.actual.as_deref().unwrap_or("unset"),
                    drift.desired.as_deref().unwrap_or("unset")
                );
            }
        }
        out.push('\n');
    }
    if !plan.account_problems.is_empty() {
        let _ = writeln!(out, "{}", "Accounts that could not be read".bold());
        for problem in &plan.account_problems {
            let _ = writeln!(
                out,
                "  {} {}: {}",
                colour_marker(Action::Unknown),
                problem.account,
                problem.problem
            );
        }
        out.push('\n');
    }
    out.push_str(&super::serving::plan_text(plan));
    if let Some(line) = scope_line(plan) {
        let _ = writeln!(out, "{line}");
    }
    let _ = writeln!(out, "{}", summary_line(&plan.summary).bold());
    out
}

/// Why a serving project could not be planned, in words.
pub fn serving_unknown_text(reason: &Reason) -> String {
    match reason {
        Reason::AccountUnreadable { problem, .. } => problem.to_string(),
        Reason::ProjectUnreadable { error, .. } => error.to_string(),
        Reason::DestinationProjectMissing => "the destination project does not exist".into(),
        _ => "its versions were not read".into(),
    }
}

/// `text` as one markdown table cell.
pub(crate) fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

/// The plan as GitHub/GitLab-flavoured markdown, for a pull-request comment.
pub fn markdown(plan: &PlanDocument) -> String {
    let s = &plan.summary;
    let mut out = String::new();
    let _ = writeln!(out, "### reko-promote plan\n");
    let _ = writeln!(out, "**{}**\n", summary_line(s));
    if let Some(line) = scope_line(plan) {
        let _ = writeln!(out, "_{line}_\n");
    }
    let _ = writeln!(out, "| action | count |\n|---|---:|");
    for (label, n) in [
        ("➕ copy", s.copy),
        ("✅ unchanged", s.unchanged),
        ("⏳ in progress", s.in_progress),
        ("⚠️ conflict", s.conflict),
        ("⛔ blocked", s.blocked),
        ("❓ unknown", s.unknown),
        ("⏸️ held", s.held),
        ("📜 policies to write", s.policies),
        ("▶️ start", s.start),
        ("⏹️ stop", s.stop),
        ("🗑️ delete", s.delete),
        ("↔️ drift", s.drift),
    ] {
        if n > 0 || matches!(label, "➕ copy" | "✅ unchanged") {
            let _ = writeln!(out, "| {label} | {n} |");
        }
    }
    out.push('\n');
    for (title, entries) in groups(plan) {
        let mut counts: Vec<String> = Vec::new();
        for action in [
            Action::Copy,
            Action::Unchanged,
            Action::InProgress,
            Action::Conflict,
            Action::Blocked,
            Action::Unknown,
        ] {
            let n = entries.iter().filter(|e| e.action == action).count();
            if n > 0 {
                counts.push(format!("{n} {}", action.label()));
            }
        }
        let attention = entries.iter().any(|e| {
            matches!(
                e.action,
                Action::Conflict | Action::Blocked | Action::Unknown
            )
        });
        let _ = writeln!(
            out,
            "<details{}><summary><b>{}</b>: {}</summary>\n",
            if attention { " open" } else { "" },
            cell(&title),
            counts.join(", ")
        );
        let _ = writeln!(out, "| | version | source | reason |\n|---|---|---|---|");
        for entry in &entries {
            let _ = writeln!(
                out,
                "| `{}` | `{}` | `{}` | {} |",
                entry.action.marker(),
                cell(&entry.target.version_name),
                cell(&source_text(entry)),
                cell(&entry_reason(entry))
            );
        }
        for entry in &entries {
            if let Some(diff) = &entry.diff {
                let _ = writeln!(
                    out,
                    "\n`{}`: desired against actual\n\n```diff\n{}\n```",
                    entry.target.version_name,
                    diff.trim_end()
                );
            }
            if let Some(statement) = &entry.missing_policy_statement {
                let _ = writeln!(
                    out,
                    "\n`{}`: the project policy statement that would allow the copy\n\n```json\n{}\n```",
                    entry.target.version_name,
                    serde_json::to_string_pretty(statement).unwrap_or_default()
                );
            }
        }
        let _ = writeln!(out, "\n</details>\n");
    }
    for line in capacity_lines(plan) {
        let _ = writeln!(out, "- {line}");
    }
    out.push_str(&held_markdown(plan));
    for line in withheld_lines(plan) {
        let _ = writeln!(out, "❓ {line}\n");
    }
    for (mark, line) in withdrawal_lines(plan) {
        let _ = writeln!(out, "{} {line}\n", mark.emoji());
    }
    let writes: Vec<_> = policy_writes(plan).collect();
    if !writes.is_empty() {
        let _ = writeln!(out, "**Project policies apply writes first**\n");
        for (_, project_arn, policy) in writes {
            let _ = writeln!(
                out,
                "- `{}` on `{}`: {}",
                policy.policy_name,
                project_arn,
                grant_text(&policy.grantee_account_ids, &policy.document)
            );
        }
        out.push('\n');
    }
    let drifted: Vec<&PlanEntry> = plan
        .entries
        .iter()
        .filter(|e| !e.drift.is_empty())
        .collect();
    if !drifted.is_empty() {
        let _ = writeln!(
            out,
            "**Drift on existing versions** (apply never changes these)\n"
        );
        for entry in drifted {
            for drift in &entry.drift {
                let _ = writeln!(
                    out,
                    "- `{}/{}/{}`: `{}` is `{}`, the manifests say `{}`",
                    entry.target.account.name,
                    entry.target.project,
                    entry.target.version_name,
                    drift.field,
                    drift.actual.as_deref().unwrap_or("unset"),
                    drift.desired.as_deref().unwrap_or("unset")
                );
            }
        }
        out.push('\n');
    }
    out.push_str(&super::serving::plan_markdown(plan));
    if !plan.account_problems.is_empty() {
        let _ = writeln!(out, "**Accounts that could not be read**\n");
        for problem in &plan.account_problems {
            let _ = writeln!(
                out,
                "- `{}`: {}",
                problem.account,
                cell(&problem.problem.to_string())
            );
        }
        out.push('\n');
    }
    out
}

fn held_entries(plan: &PlanDocument) -> Vec<&PlanEntry> {
    plan.entries
        .iter()
        .filter(|e| e.action == Action::Held)
        .collect()
}

/// `account/project/version`, where a held placement would go.
fn destination_text(entry: &PlanEntry) -> String {
    format!(
        "{}/{}/{}",
        entry.target.account.name, entry.target.project, entry.target.version_name
    )
}

/// The text section of held placements (gates, `after` chains, soak), when there are any.
pub fn held_text(plan: &PlanDocument) -> String {
    let held = held_entries(plan);
    let mut out = String::new();
    if held.is_empty() {
        return out;
    }
    let _ = writeln!(
        out,
        "{}",
        "Held (not copied yet: gates and promotion chains)".bold()
    );
    for entry in held {
        let _ = writeln!(
            out,
            "  {} {}  ← {}",
            colour_marker(Action::Held),
            destination_text(entry).bold(),
            source_text(entry)
        );
        let _ = writeln!(out, "      held: {}", entry_reason(entry));
    }
    out.push('\n');
    out
}

/// The markdown section of held placements, with each promotion's chain as a Mermaid
/// flowchart when it has `after` edges.
pub fn held_markdown(plan: &PlanDocument) -> String {
    let held = held_entries(plan);
    let mut out = String::new();
    if !held.is_empty() {
        let _ = writeln!(
            out,
            "<details open><summary><b>Held</b>: {} not copied yet (gates and promotion chains)</summary>\n",
            held.len()
        );
        let _ = writeln!(out, "| destination | source | reason |\n|---|---|---|");
        for entry in &held {
            let _ = writeln!(
                out,
                "| `{}` | `{}` | {} |",
                cell(&destination_text(entry)),
                cell(&source_text(entry)),
                cell(&entry_reason(entry))
            );
        }
        let _ = writeln!(out, "\n</details>\n");
    }
    out.push_str(&chains_mermaid(plan));
    out
}

/// A Mermaid node id for a destination name (Mermaid ids allow letters, digits and `_`).
fn mermaid_id(promotion: &str, destination: &str) -> String {
    format!("{promotion}__{destination}")
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect()
}

/// Each promotion's `after` edges as a Mermaid flowchart (GitHub renders it), with the number
/// of held placements per destination; empty when no promotion has edges.
pub fn chains_mermaid(plan: &PlanDocument) -> String {
    let mut out = String::new();
    let mut promotions: Vec<&str> = plan.chains.iter().map(|e| e.promotion.as_str()).collect();
    promotions.dedup();
    for promotion in promotions {
        let edges: Vec<_> = plan
            .chains
            .iter()
            .filter(|e| e.promotion == promotion)
            .collect();
        let mut nodes: Vec<&str> = edges
            .iter()
            .flat_map(|e| [e.after.as_str(), e.destination.as_str()])
            .collect();
        nodes.sort_unstable();
        nodes.dedup();
        let _ = writeln!(out, "**Promotion chain `{promotion}`**\n");
        let _ = writeln!(out, "```mermaid\nflowchart LR");
        for node in &nodes {
            let held = plan
                .entries
                .iter()
                .filter(|e| {
                    e.key.promotion == promotion
                        && e.key.destination == *node
                        && e.action == Action::Held
                })
                .count();
            let label = if held > 0 {
                format!("{node} ({held} held)")
            } else {
                node.to_string()
            };
            let _ = writeln!(
                out,
                "  {}[\"{}\"]",
                mermaid_id(promotion, node),
                label.replace('"', "'")
            );
        }
        for edge in edges {
            let arrow = match edge.soak_seconds {
                Some(s) => format!(
                    " -- \"soak {}\" --> ",
                    humantime::format_duration(std::time::Duration::from_secs(s))
                ),
                None => " --> ".to_string(),
            };
            let _ = writeln!(
                out,
                "  {}{arrow}{}",
                mermaid_id(promotion, &edge.after),
                mermaid_id(promotion, &edge.destination)
            );
        }
        let _ = writeln!(out, "```\n");
    }
    out
}
