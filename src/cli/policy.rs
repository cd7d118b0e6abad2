//! `reko-promote policy`: prints the project policies each source project needs for the
//! manifests' cross-account copies, exactly as `apply` writes them (same names, same packing).
//!
//! Version ARNs carry a creation timestamp no manifest has to state, so the command reads the
//! live source versions like `plan` does (`pipeline::plan_live`) and reuses the grant
//! computation of `plan` and the packing of `policy::managed_policy_set`. Policies of projects
//! with `managePolicy: false` are printed too (marked unmanaged): there, the source account's
//! owners must write them. Writing them is left to `apply`.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use serde::Serialize;

use super::{AwsArgs, Format};

/// One policy a source project needs.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NeededPolicy {
    pub source_account: String,
    pub project_arn: String,
    /// The account allowed to copy.
    pub grantee_account_id: String,
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
    /// Cross-account placements whose source version could not be read (no policy computed).
    pub unresolved: Vec<String>,
}

pub fn run(paths: &[PathBuf], format: Format, aws: &AwsArgs) -> anyhow::Result<ExitCode> {
    let Some(desired) = super::load_or_report(paths)? else {
        return Ok(ExitCode::from(1));
    };
    let runtime = super::runtime()?;
    let live = runtime.block_on(async {
        let ctx = crate::aws::AwsContext::load(&aws.options()).await;
        crate::pipeline::plan_live(&ctx, &desired).await
    });
    let report = needed_policies(&desired, &live.plan);
    let mut stdout = anstream::stdout();
    match format {
        Format::Json => writeln!(stdout, "{}", serde_json::to_string_pretty(&report)?)?,
        Format::Text => {
            for p in &report.policies {
                writeln!(
                    stdout,
                    "# {} ({}) — {} — lets account {} copy{}",
                    p.project_arn,
                    p.source_account,
                    p.policy_name,
                    p.grantee_account_id,
                    if p.managed {
                        ""
                    } else {
                        " (managePolicy is off: write it yourself)"
                    }
                )?;
                writeln!(stdout, "{}\n", serde_json::to_string_pretty(&p.document)?)?;
            }
            for u in &report.unresolved {
                writeln!(stdout, "# not computed: {u}")?;
            }
            if report.policies.is_empty() && report.unresolved.is_empty() {
                writeln!(
                    stdout,
                    "No cross-account copy: no project policy is needed."
                )?;
            }
        }
    }
    Ok(if report.unresolved.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// The policies of every cross-account placement, computed as apply computes its managed ones.
pub fn needed_policies(
    desired: &crate::desired::DesiredState,
    plan: &crate::plan::PlanDocument,
) -> PolicyReport {
    // `managed_grants` only looks at managePolicy placements; compute the grants of all of
    // them by marking every placement managed, and remember which really are.
    let mut all = desired.clone();
    let mut managed_projects = std::collections::BTreeSet::new();
    for p in &mut all.placements {
        if p.manage_policy {
            managed_projects.insert(crate::state::ProjectKey::of(&p.source_project));
        }
        p.manage_policy = true;
    }
    let mut policies = Vec::new();
    for grant in crate::plan::managed_grants(&all, &plan.entries) {
        let partition = crate::constraints::partition_of_region(&grant.project.region);
        for (account_id, arns) in &grant.by_account {
            // keep_existing=false: the full set the manifests ask for, as a full apply writes it.
            for (name, document) in crate::policy::managed_policy_set(
                partition,
                account_id,
                arns,
                std::iter::empty(),
                false,
            ) {
                policies.push(NeededPolicy {
                    source_account: grant.source_account.name.clone(),
                    project_arn: grant.project_arn.clone(),
                    grantee_account_id: account_id.clone(),
                    managed: managed_projects.contains(&grant.project),
                    policy_name: name,
                    document: serde_json::from_str(&document.to_json())
                        .expect("policy documents are JSON"),
                });
            }
        }
    }
    let unresolved = desired
        .placements
        .iter()
        .zip(&plan.entries)
        .filter(|(p, e)| p.is_cross_account() && e.source.version_arn.is_none())
        .map(|(p, _)| {
            format!(
                "{}/{} → {}: the source version could not be read",
                p.source_project.name, p.source_version, p.destination_account
            )
        })
        .collect();
    PolicyReport {
        policies,
        unresolved,
    }
}
