//! `reko-promote policy`: prints the project policies each source project needs for the
//! manifests' cross-account copies, exactly as `apply` writes them (same names, same packing).
//!
//! Version ARNs carry a creation timestamp no manifest has to state, so the command reads the
//! live source versions like `plan` does (`pipeline::plan_live`) and prints the plan's grants
//! (`render::policy`). Policies of projects with `managePolicy: false` are printed too (marked
//! unmanaged): there, the source account's owners must write them. Writing them is left to
//! `apply`.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use super::{AwsArgs, Format};

pub fn run(paths: &[PathBuf], format: Format, aws: &AwsArgs) -> anyhow::Result<ExitCode> {
    let Some(desired) = super::load_or_report(paths)? else {
        return Ok(ExitCode::from(1));
    };
    let runtime = super::runtime()?;
    let live = runtime.block_on(async {
        let ctx = crate::aws::AwsContext::load(&aws.options()).await;
        // The full set the manifests ask for, as a full apply writes it.
        crate::pipeline::plan_live(&ctx, &desired, &crate::plan::RunScope::full()).await
    });
    let report = crate::render::policy::report(&live.plan);
    let mut stdout = anstream::stdout();
    match format {
        Format::Json => writeln!(stdout, "{}", serde_json::to_string_pretty(&report)?)?,
        Format::Text => write!(stdout, "{}", crate::render::policy::text(&report))?,
    }
    Ok(if report.unresolved.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
