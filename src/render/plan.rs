//! Text and markdown renderings of a [`PlanDocument`](crate::plan::PlanDocument).
//!
//! Both read only the document (the JSON output *is* the document), so the three formats cannot
//! disagree. Text groups entries by destination account and project, one line per placement with
//! a `+ = ~ ! ?` marker, unchanged entries collapsed to a count unless asked for; markdown is
//! shaped for a pull-request comment: a summary table up front, details in collapsible sections.

use std::fmt::Write;

use owo_colors::OwoColorize;

use crate::plan::{Action, PlanDocument, PlanEntry, Summary};

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
    if summary.policies > 0 {
        parts.push(format!("{} to write", plural(summary.policies, "policy")));
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

/// Entries grouped by destination (account, project, region), in document order.
fn groups(plan: &PlanDocument) -> Vec<(String, Vec<&PlanEntry>)> {
    let mut groups: Vec<(String, Vec<&PlanEntry>)> = Vec::new();
    for entry in &plan.entries {
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

fn source_text(entry: &PlanEntry) -> String {
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
            let _ = writeln!(out, "      {}: {}", entry.action.label(), entry.reason);
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
    if !plan.policies.is_empty() {
        let _ = writeln!(out, "{}", "Project policies apply writes first".bold());
        for policy in &plan.policies {
            let verb = if policy.replaces_revision_id.is_some() {
                "update"
            } else {
                "create"
            };
            let _ = writeln!(
                out,
                "  {} {verb} {} on {} (account `{}`): {}",
                "+".green().bold(),
                policy.policy_name,
                policy.project_arn,
                policy.source_account.name,
                policy.grants.join("; ")
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
                problem.reason
            );
        }
        out.push('\n');
    }
    let _ = writeln!(out, "{}", summary_line(&plan.summary).bold());
    out
}

fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

/// The plan as GitHub/GitLab-flavoured markdown, for a pull-request comment.
pub fn markdown(plan: &PlanDocument) -> String {
    let s = &plan.summary;
    let mut out = String::new();
    let _ = writeln!(out, "### reko-promote plan\n");
    let _ = writeln!(out, "**{}**\n", summary_line(s));
    let _ = writeln!(out, "| action | count |\n|---|---:|");
    for (label, n) in [
        ("➕ copy", s.copy),
        ("✅ unchanged", s.unchanged),
        ("⏳ in progress", s.in_progress),
        ("⚠️ conflict", s.conflict),
        ("⛔ blocked", s.blocked),
        ("❓ unknown", s.unknown),
        ("📜 policies to write", s.policies),
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
                cell(&entry.reason)
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
    if !plan.policies.is_empty() {
        let _ = writeln!(out, "**Project policies apply writes first**\n");
        for policy in &plan.policies {
            let _ = writeln!(
                out,
                "- `{}` on `{}`: {}",
                policy.policy_name,
                policy.project_arn,
                policy.grants.join("; ")
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
    if !plan.account_problems.is_empty() {
        let _ = writeln!(out, "**Accounts that could not be read**\n");
        for problem in &plan.account_problems {
            let _ = writeln!(out, "- `{}`: {}", problem.account, cell(&problem.reason));
        }
        out.push('\n');
    }
    out
}
