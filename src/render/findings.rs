//! Text rendering of a validation [`Report`](crate::manifest::findings::Report).
//!
//! One block per finding, compiler style: severity and code, then `file:line:column` and the
//! field path, then the message, what is allowed, and a hint. A last line sums up.

use std::fmt::Write;

use owo_colors::OwoColorize;

use crate::manifest::findings::{Finding, Report, Severity};

/// The report as text, ending with a summary line.
pub fn render(report: &Report) -> String {
    let mut out = String::new();
    for finding in &report.findings {
        render_finding(&mut out, finding);
    }
    let files = match report.files.len() {
        1 => "1 file".to_string(),
        n => format!("{n} files"),
    };
    if report.valid {
        let counts = report
            .counts
            .map(|c| {
                format!(
                    ": {} accounts, {} promotions, {} placements",
                    c.accounts, c.promotions, c.placements
                )
            })
            .unwrap_or_default();
        let warnings = match report.warnings {
            0 => String::new(),
            1 => " (1 warning)".into(),
            n => format!(" ({n} warnings)"),
        };
        let _ = writeln!(
            out,
            "{} {files} valid{counts}{warnings}",
            "ok:".green().bold()
        );
    } else {
        let _ = writeln!(
            out,
            "{} {} in {files}{}",
            "invalid:".red().bold(),
            plural(report.errors, "error"),
            match report.warnings {
                0 => String::new(),
                n => format!(", {}", plural(n, "warning")),
            }
        );
    }
    out
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}

fn render_finding(out: &mut String, finding: &Finding) {
    let code = serde_json::to_value(finding.code)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default();
    let head = match finding.severity {
        Severity::Error => format!("error[{code}]").red().bold().to_string(),
        Severity::Warning => format!("warning[{code}]").yellow().bold().to_string(),
    };
    let _ = write!(out, "{head} {}", finding.location().bold());
    if let Some(path) = &finding.path {
        let _ = write!(out, " {}", path.cyan());
    }
    let _ = writeln!(out);
    let _ = writeln!(out, "  {}", finding.message);
    if let Some(allowed) = &finding.allowed {
        let _ = writeln!(out, "  {} {allowed}", "allowed:".dimmed());
    }
    if let Some(hint) = &finding.hint {
        let _ = writeln!(out, "  {} {hint}", "hint:".blue());
    }
}
