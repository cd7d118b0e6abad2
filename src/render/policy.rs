//! Renderings of the `policy` command's output: the project policies each source project needs,
//! as text (one commented JSON document each) or as the JSON [`PolicyReport`]. The report is
//! read off the plan's grants (computed once, by `plan`), never recomputed.

use std::fmt::Write;

use serde::Serialize;

use crate::plan::{Action, PlanDocument, PolicyChange};

/// One policy a source project needs.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NeededPolicy {
    pub source_account: String,
    pub project_arn: String,
    /// The accounts allowed to copy.
    pub grantee_account_ids: Vec<String>,
    /// Whether `apply` writes it (`managePolicy: true`).
    pub managed: bool,
    pub policy_name: String,
    pub document: serde_json::Value,
}

/// The output of `policy --format json`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PolicyReport {
    pub policies: Vec<NeededPolicy>,
    /// Cross-account placements for which no policy could be computed, and why.
    pub unresolved: Vec<String>,
}

/// The policies of every cross-account placement, as the plan's grants state them.
pub fn report(plan: &PlanDocument) -> PolicyReport {
    let policies = plan
        .grants
        .iter()
        .flat_map(|g| {
            g.policies
                .iter()
                .filter(|p| !matches!(p.change, PolicyChange::Delete { .. }))
                .map(move |p| NeededPolicy {
                    source_account: g.source_account.name.clone(),
                    project_arn: g.project_arn.clone(),
                    grantee_account_ids: p.grantee_account_ids.clone(),
                    managed: g.managed,
                    policy_name: p.policy_name.clone(),
                    document: serde_json::from_str(&p.document).unwrap_or(serde_json::Value::Null),
                })
        })
        .collect();
    let unresolved = plan
        .entries
        .iter()
        .filter(|e| e.cross_account)
        .filter_map(|e| {
            let why = if e.source.version_arn.is_none() {
                "the source version could not be read"
            } else if e.action == Action::Unknown {
                "the live state of this placement is unknown"
            } else {
                return None;
            };
            Some(format!(
                "{}/{} → {} ({}): {why}",
                e.source.project, e.source.version, e.target.account.name, e.key
            ))
        })
        .collect();
    PolicyReport {
        policies,
        unresolved,
    }
}

/// The report as text: each policy as a commented JSON document.
pub fn text(report: &PolicyReport) -> String {
    let mut out = String::new();
    for p in &report.policies {
        let _ = writeln!(
            out,
            "# {} ({}) — {} — lets account(s) {} copy{}",
            p.project_arn,
            p.source_account,
            p.policy_name,
            p.grantee_account_ids.join(", "),
            if p.managed {
                ""
            } else {
                " (managePolicy is off: write it yourself)"
            }
        );
        let _ = writeln!(
            out,
            "{}\n",
            serde_json::to_string_pretty(&p.document).unwrap_or_default()
        );
    }
    for u in &report.unresolved {
        let _ = writeln!(out, "# not computed: {u}");
    }
    if report.policies.is_empty() && report.unresolved.is_empty() {
        let _ = writeln!(out, "No cross-account copy: no project policy is needed.");
    }
    out
}
