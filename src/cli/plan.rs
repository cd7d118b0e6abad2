//! `reko-promote plan`: what apply would do, read from live AWS, as text, JSON or markdown
//! (the markdown cut to `--max-bytes` for a pull-request comment, `render::budget`).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;

use super::{AwsArgs, PlanFormat};
use crate::desired::Selection;
use crate::plan::PlanDocument;

pub struct PlanArgs {
    pub paths: Vec<PathBuf>,
    pub format: PlanFormat,
    pub out: Option<PathBuf>,
    pub detailed_exitcode: bool,
    pub fail_on_held: bool,
    /// `--now` / `REKO_PROMOTE_NOW`: the time to plan at, instead of the system clock.
    pub now: Option<String>,
    pub show_unchanged: bool,
    /// The markdown output's budget in bytes (0: none).
    pub max_bytes: usize,
    /// Where to write the markdown plan for a CI job summary.
    pub summary_out: Option<PathBuf>,
    pub selection: Selection,
    pub verbose: bool,
    /// `--no-prune`, `--replace-running`.
    pub serving: super::ServingArgs,
}

pub fn run(args: PlanArgs, aws: &AwsArgs) -> anyhow::Result<ExitCode> {
    let Some((desired, scope)) = super::load_selected(&args.paths, &args.selection)? else {
        return Ok(ExitCode::from(1));
    };
    let scope = args.serving.apply_to(scope);
    let now = match &args.now {
        Some(text) => crate::state::Timestamp::parse_rfc3339(text).with_context(|| {
            format!("--now (REKO_PROMOTE_NOW) `{text}` is not an RFC 3339 time such as 2026-11-24T09:30:00Z")
        })?,
        None => crate::state::Timestamp::now(),
    };
    // One thread: a plan's reads are I/O-bound and its computation is serial, and a second
    // worker only handed tasks across threads (context switches and wake-ups: a sixth of a
    // plan's CPU time; measured: M plan -15% CPU, L plan -8%, BENCHMARKS.md).
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let (ctx, live) = runtime.block_on(async {
        let options = crate::aws::AwsOptions {
            read_only: true,
            ..aws.options()
        };
        let ctx = crate::aws::AwsContext::load(&options).await;
        let live = crate::pipeline::plan_live_at(&ctx, &desired, &scope, now).await;
        (ctx, live)
    });
    let crate::pipeline::LivePlan {
        plan,
        live: live_state,
        sessions,
        calls,
    } = live;
    if let Some(out) = &args.out {
        save_plan(&plan, out)?;
    }
    if let Some(summary) = &args.summary_out {
        let markdown = crate::render::budget::markdown_within(
            &plan,
            crate::render::budget::JOB_SUMMARY_MAX_BYTES,
        );
        std::fs::write(summary, markdown.text)
            .with_context(|| format!("cannot write the plan summary to {}", summary.display()))?;
    }
    let mut stdout = anstream::stdout();
    match args.format {
        PlanFormat::Text => write!(
            stdout,
            "{}",
            crate::render::plan::text(&plan, args.show_unchanged)
        )?,
        PlanFormat::Json => {
            // Streamed, not built as one string: a plan of 10,000 placements is tens of MB.
            let mut out =
                std::io::BufWriter::with_capacity(OUTPUT_BUFFER, std::io::stdout().lock());
            serde_json::to_writer_pretty(&mut out, &plan)?;
            writeln!(out)?;
            out.flush()?;
        }
        PlanFormat::Markdown => write!(
            stdout,
            "{}",
            crate::render::budget::markdown_within(&plan, args.max_bytes).text
        )?,
    }
    if args.verbose {
        let mut stderr = anstream::stderr();
        let total: u64 = calls.values().sum();
        writeln!(stderr, "API calls: {total}")?;
        for (operation, count) in &calls {
            writeln!(stderr, "  {operation}: {count}")?;
        }
    }
    let code = exit_code(&plan, args.detailed_exitcode, args.fail_on_held);
    super::leave_to_exit((runtime, ctx, sessions, live_state, plan, desired, scope));
    Ok(code)
}

/// The buffer the JSON plan is written through: 64 KiB, so a plan of 10,000 placements (19 MB)
/// takes some 300 writes instead of 2,400 of 8 KiB (a 1 MiB buffer cost more page faults than
/// the writes it saved).
const OUTPUT_BUFFER: usize = 1 << 16;

/// `--detailed-exitcode` and `--fail-on-held`: see [`crate::plan::Summary::exit_status`].
pub fn exit_code(plan: &PlanDocument, detailed: bool, fail_on_held: bool) -> ExitCode {
    ExitCode::from(plan.summary.exit_status(detailed, fail_on_held))
}

/// Writes the plan atomically (temp file + rename), so a killed run never leaves half a plan.
pub fn save_plan(plan: &PlanDocument, path: &Path) -> anyhow::Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let temp = dir.join(format!(
        ".{}.tmp-{}",
        path.file_name().and_then(|n| n.to_str()).unwrap_or("plan"),
        std::process::id()
    ));
    let write = || -> anyhow::Result<()> {
        let mut out =
            std::io::BufWriter::with_capacity(OUTPUT_BUFFER, std::fs::File::create(&temp)?);
        serde_json::to_writer_pretty(&mut out, plan)?;
        writeln!(out)?;
        out.flush()?;
        Ok(())
    };
    write().with_context(|| format!("cannot write the plan to {}", temp.display()))?;
    std::fs::rename(&temp, path)
        .with_context(|| format!("cannot move the plan into place at {}", path.display()))?;
    Ok(())
}
