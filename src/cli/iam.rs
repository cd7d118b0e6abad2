//! `reko-promote iam`: prints the least-privilege IAM (permission and trust policies) the CI
//! principals (apply and read-only plan) and each account's apply and plan roles need for the
//! manifests, as JSON, Terraform or CloudFormation.
//!
//! Offline: the policies come from the desired state alone (`crate::iam`); creating the roles
//! is left to the user's infrastructure as code.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use super::IamFormat;

pub fn run(
    paths: &[PathBuf],
    format: IamFormat,
    ci_principal: &str,
    ci_plan_principal: &str,
) -> anyhow::Result<ExitCode> {
    let Some(desired) = super::load_or_report(paths)? else {
        return Ok(ExitCode::from(1));
    };
    let report = crate::iam::compute(&desired, ci_principal, ci_plan_principal);
    let mut stdout = anstream::stdout();
    match format {
        IamFormat::Json => writeln!(stdout, "{}", serde_json::to_string_pretty(&report)?)?,
        IamFormat::Terraform => write!(stdout, "{}", crate::iam::terraform(&report))?,
        IamFormat::Cloudformation => write!(stdout, "{}", crate::iam::cloudformation(&report))?,
    }
    if ci_principal == crate::iam::CI_PRINCIPAL_PLACEHOLDER {
        tracing::warn!("the CI principal is a placeholder; pass --ci-principal ARN");
    }
    if ci_plan_principal == crate::iam::CI_PLAN_PRINCIPAL_PLACEHOLDER {
        tracing::warn!("the CI plan principal is a placeholder; pass --ci-plan-principal ARN");
    }
    Ok(ExitCode::SUCCESS)
}
