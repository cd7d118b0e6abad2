//! `reko-promote import`: writes Promotion manifests declaring the copies that already exist in
//! one account's projects, then prints what it wrote and skipped (text or JSON).
//!
//! Reading and writing the manifests' text live in `crate::import`, the summary's words in
//! `render::import`; this file resolves the region, writes the files (refusing to overwrite
//! one, so a re-run never clobbers reviewed edits) and prints the summary.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;

use super::{AwsArgs, Format};

pub struct ImportArgs {
    pub paths: Vec<PathBuf>,
    pub account: String,
    pub projects: Vec<String>,
    pub source_account: Option<String>,
    pub out: PathBuf,
    pub region: Option<String>,
    pub format: Format,
}

pub fn run(args: ImportArgs, aws: &AwsArgs) -> anyhow::Result<ExitCode> {
    let Some(desired) = super::load_or_report(&args.paths)? else {
        return Ok(ExitCode::from(1));
    };
    let runtime = super::runtime()?;
    let imported = runtime.block_on(async {
        let ctx = crate::aws::AwsContext::load(&aws.options()).await;
        let region = args
            .region
            .clone()
            .or_else(|| ctx.base.region().map(|r| r.to_string()))
            .unwrap_or_else(|| "us-east-1".to_string());
        crate::import::read(
            &ctx,
            &desired,
            &crate::import::ImportRequest {
                account: args.account.clone(),
                projects: args.projects.clone(),
                source_account: args.source_account.clone(),
                region,
            },
        )
        .await
    })?;
    let files = crate::import::manifests(&imported, &args.out);
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("cannot create {}", args.out.display()))?;
    let mut written = Vec::new();
    for (name, text) in &files {
        let path = args.out.join(name);
        if path.exists() {
            anyhow::bail!(
                "{} exists; import never overwrites a manifest (remove it or choose another --out)",
                path.display()
            );
        }
        std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?;
        written.push(path.display().to_string());
    }
    let mut stdout = anstream::stdout();
    match args.format {
        Format::Json => writeln!(
            stdout,
            "{}",
            serde_json::to_string_pretty(&crate::render::import::Summary {
                written: &written,
                imported: &imported
            })?
        )?,
        Format::Text => write!(
            stdout,
            "{}",
            crate::render::import::text(&imported, &written)
        )?,
    }
    Ok(ExitCode::SUCCESS)
}
