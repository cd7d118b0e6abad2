//! `reko-promote validate`: load the manifests, print the report, exit 1 on any error.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use super::Format;

pub fn run(paths: &[PathBuf], format: Format) -> anyhow::Result<ExitCode> {
    let loaded = crate::manifest::load(paths);
    let mut out = anstream::stdout();
    match format {
        Format::Text => write!(out, "{}", crate::render::findings::render(&loaded.report))?,
        Format::Json => writeln!(out, "{}", serde_json::to_string_pretty(&loaded.report)?)?,
    }
    let code = if loaded.report.valid {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    };
    // The process exits right after this: freeing every placement, finding and string one by
    // one would cost a few percent of a large validate for memory the OS takes back anyway.
    std::mem::forget(loaded);
    Ok(code)
}
