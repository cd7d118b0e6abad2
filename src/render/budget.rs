//! The markdown plan cut to a byte budget, for places that refuse long texts: GitHub refuses a
//! pull-request comment over 65,536 characters and a job summary over 1 MiB.
//!
//! [`markdown_within`] wraps `render::plan::markdown`: when the full rendering fits it is returned
//! as is; otherwise the plan is shown at the first of these [`Level`]s that fits: unchanged rows
//! collapsed to a count, then counts per destination account, then counts per promotion. Every
//! level keeps every row that needs a person (conflict, blocked, unknown and whatever the plan
//! adds to those later), and ends with a line saying where the full plan is. When even those
//! rows do not fit, they are cut with a count of what was left out. The result never exceeds the
//! budget. Which rows need a person is decided on the entry's [`Action`], never on words.

use std::collections::BTreeMap;
use std::fmt::Write;

use crate::plan::{Action, PlanDocument, PlanEntry};

use super::plan::{
    cell, entry_reason, groups, held_markdown, scope_line, source_text, summary_line,
};

/// `plan --format markdown`'s default budget: under GitHub's 65,536-character comment limit,
/// with room for the marker and footer a CI step adds.
pub const COMMENT_MAX_BYTES: usize = 60_000;

/// The budget of the markdown written for a CI job summary: GitHub refuses a step summary over
/// 1 MiB (1,048,576 bytes); this leaves room for what other steps write.
pub const JOB_SUMMARY_MAX_BYTES: usize = 1_000_000;

/// How much of the plan a budgeted rendering shows, from most to least.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    /// The whole markdown plan.
    Full,
    /// Every row but the unchanged ones, which are counted per destination.
    UnchangedCollapsed,
    /// Counts per destination account, and every row that needs a person.
    PerAccount,
    /// Counts per promotion, and every row that needs a person.
    PerPromotion,
    /// Only the rows that need a person, cut to fit with a count of those left out.
    AttentionOnly,
}

/// A markdown plan that fits its budget.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Budgeted {
    pub text: String,
    pub level: Level,
    /// Rows needing a person that did not fit (only at [`Level::AttentionOnly`]).
    pub rows_left_out: usize,
}

/// Whether an entry of this action needs a person and so is never left out of a shortened plan:
/// everything but the actions apply carries out by itself.
pub fn needs_attention(action: Action) -> bool {
    !matches!(
        action,
        Action::Copy | Action::Unchanged | Action::InProgress
    )
}

/// The markdown plan in at most `max_bytes` bytes (0: no limit).
pub fn markdown_within(plan: &PlanDocument, max_bytes: usize) -> Budgeted {
    let full = super::plan::markdown(plan);
    if max_bytes == 0 || full.len() <= max_bytes {
        return Budgeted {
            text: full,
            level: Level::Full,
            rows_left_out: 0,
        };
    }
    let header = header(plan);
    for level in [
        Level::UnchangedCollapsed,
        Level::PerAccount,
        Level::PerPromotion,
    ] {
        let body = match level {
            // Held placements have a section of their own, kept whole here.
            Level::UnchangedCollapsed => {
                unchanged_collapsed(plan)
                    + &held_markdown(plan)
                    + &super::serving::plan_markdown(plan)
            }
            Level::PerAccount => {
                counts_table(plan, "destination account", |e| {
                    e.target.account.name.clone()
                }) + &attention(plan, usize::MAX).0
            }
            _ => {
                counts_table(plan, "promotion", |e| e.key.promotion.clone())
                    + &attention(plan, usize::MAX).0
            }
        };
        let text = format!("{header}{body}{}", pointer(level, max_bytes));
        if text.len() <= max_bytes {
            return Budgeted {
                text,
                level,
                rows_left_out: 0,
            };
        }
    }
    let footer = pointer(Level::AttentionOnly, max_bytes);
    let room = max_bytes.saturating_sub(header.len() + footer.len());
    let (rows, rows_left_out) = attention(plan, room);
    let text = cut_to(format!("{header}{rows}{footer}"), max_bytes);
    Budgeted {
        text,
        level: Level::AttentionOnly,
        rows_left_out,
    }
}

/// The first bytes of `text` that fit in `max_bytes`, cut at a character boundary.
fn cut_to(mut text: String, max_bytes: usize) -> String {
    if text.len() > max_bytes {
        let mut end = max_bytes;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
    }
    text
}

fn header(plan: &PlanDocument) -> String {
    let mut out = format!(
        "### reko-promote plan\n\n**{}**\n\n",
        summary_line(&plan.summary)
    );
    if let Some(line) = scope_line(plan) {
        let _ = writeln!(out, "_{line}_\n");
    }
    out
}

/// The closing line: what was left out and where the full plan is.
fn pointer(level: Level, max_bytes: usize) -> String {
    let shown = match level {
        Level::Full => "the whole plan",
        Level::UnchangedCollapsed => "unchanged placements counted, not listed",
        Level::PerAccount => {
            "counts per destination account and every placement that needs attention"
        }
        Level::PerPromotion => "counts per promotion and every placement that needs attention",
        Level::AttentionOnly => "only placements that need attention",
    };
    format!(
        "\n---\n_Shortened to fit {max_bytes} bytes ({shown}; no diffs or policy documents). The \
         full plan is in the CI job summary and the saved plan artifact, or run `reko-promote \
         plan --format markdown --max-bytes 0`._\n"
    )
}

/// Entries per action, in the actions' order.
fn counts<'a>(entries: impl IntoIterator<Item = &'a PlanEntry>) -> BTreeMap<Action, usize> {
    let mut counts = BTreeMap::new();
    for entry in entries {
        *counts.entry(entry.action).or_insert(0) += 1;
    }
    counts
}

fn counts_text(counts: &BTreeMap<Action, usize>) -> String {
    counts
        .iter()
        .map(|(action, n)| format!("{n} {}", action.label()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A markdown table row for one entry: marker, placement key, source, reason.
fn row(entry: &PlanEntry) -> String {
    format!(
        "| `{}` {} | `{}` | `{}` | {} |\n",
        entry.action.marker(),
        entry.action.label(),
        cell(&entry.key.to_string()),
        cell(&source_text(entry)),
        cell(&entry_reason(entry))
    )
}

const ROWS_HEAD: &str = "| | placement | source | reason |\n|---|---|---|---|\n";

/// Every destination's rows but the unchanged ones, which are counted.
fn unchanged_collapsed(plan: &PlanDocument) -> String {
    let mut out = String::new();
    for (title, entries) in groups(plan) {
        let counts = counts(entries.iter().copied());
        let listed: Vec<&&PlanEntry> = entries
            .iter()
            .filter(|e| e.action != Action::Unchanged)
            .collect();
        if listed.is_empty() {
            let _ = writeln!(out, "- **{}**: {}\n", cell(&title), counts_text(&counts));
            continue;
        }
        let open = listed.iter().any(|e| needs_attention(e.action));
        let _ = writeln!(
            out,
            "<details{}><summary><b>{}</b>: {}</summary>\n",
            if open { " open" } else { "" },
            cell(&title),
            counts_text(&counts)
        );
        out.push_str(ROWS_HEAD);
        for entry in listed {
            out.push_str(&row(entry));
        }
        let _ = writeln!(out, "\n</details>\n");
    }
    out
}

/// A table of counts per action for each value of `group_of` (in first-seen order).
fn counts_table(
    plan: &PlanDocument,
    heading: &str,
    group_of: impl Fn(&PlanEntry) -> String,
) -> String {
    let mut order: Vec<String> = Vec::new();
    let mut grouped: BTreeMap<String, Vec<&PlanEntry>> = BTreeMap::new();
    for entry in &plan.entries {
        let group = group_of(entry);
        if !grouped.contains_key(&group) {
            order.push(group.clone());
        }
        grouped.entry(group).or_default().push(entry);
    }
    let columns: Vec<Action> = counts(&plan.entries).into_keys().collect();
    let mut out = format!("| {heading} |");
    for action in &columns {
        let _ = write!(out, " {} |", action.label());
    }
    out.push_str("\n|---|");
    out.push_str(&"---:|".repeat(columns.len()));
    out.push('\n');
    for group in order {
        let counts = counts(grouped[&group].iter().copied());
        let _ = write!(out, "| {} |", cell(&group));
        for action in &columns {
            let _ = write!(out, " {} |", counts.get(action).copied().unwrap_or(0));
        }
        out.push('\n');
    }
    out.push('\n');
    out
}

/// The rows that need a person, in at most `room` bytes: the text and how many were left out.
fn attention(plan: &PlanDocument, room: usize) -> (String, usize) {
    let rows: Vec<&PlanEntry> = plan
        .entries
        .iter()
        .filter(|e| needs_attention(e.action))
        .collect();
    if rows.is_empty() {
        return (String::new(), 0);
    }
    let heading = format!("**Needs attention** ({})\n\n{ROWS_HEAD}", rows.len());
    let mut out = heading.clone();
    for (shown, entry) in rows.iter().enumerate() {
        let line = row(entry);
        let left = rows.len() - shown;
        // Room is kept for the line that counts what is left out.
        let tail = if left > 1 {
            more_line(left - 1).len()
        } else {
            0
        };
        if out.len() + line.len() + tail > room {
            if shown == 0 && out.len() + more_line(left).len() > room {
                return (String::new(), rows.len());
            }
            out.push_str(&more_line(left));
            return (out, left);
        }
        out.push_str(&line);
    }
    out.push('\n');
    (out, 0)
}

fn more_line(left: usize) -> String {
    format!("\n_… and {left} more placement(s) that need attention, not shown._\n")
}
