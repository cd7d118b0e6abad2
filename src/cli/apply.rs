//! `reko-promote apply`: apply a saved plan (`--plan FILE`, refused when stale) or a fresh one
//! (shown, then confirmed on a terminal or by `--auto-approve`), with progress on stderr and the
//! report on stdout (text or JSON).
//!
//! Exit status: 0 everything done; 1 anything failed, blocked, in conflict, unknown, skipped or
//! still copying at `--timeout` (and every refusal: stale plan, no confirmation); 130 interrupted
//! (SIGINT/SIGTERM: no new copies, those in flight go on in AWS). The work itself is
//! `crate::apply`'s.

use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use super::{AwsArgs, Format};
use crate::apply::{self, ApplyOptions, Progress};
use crate::desired::Selection;

pub struct ApplyArgs {
    pub plan: Option<PathBuf>,
    pub paths: Vec<PathBuf>,
    pub auto_approve: bool,
    pub selection: Selection,
    pub wait: bool,
    pub timeout: Option<Duration>,
    pub fail_fast: bool,
    pub max_copies_in_flight: Option<usize>,
    pub format: Format,
    /// `-v`: the text report lists every placement.
    pub verbose: bool,
    /// `--no-prune`, `--replace-running`.
    pub serving: super::ServingArgs,
}

/// Exit status of an interrupted run (128 + SIGINT).
pub const INTERRUPTED: u8 = 130;

pub fn run(args: ApplyArgs, aws: &AwsArgs) -> anyhow::Result<ExitCode> {
    let mut stderr = anstream::stderr();
    // A saved plan's format is checked before anything else, AWS included.
    let saved = match &args.plan {
        Some(path) => match apply::stale::read_plan(path) {
            Ok(plan) => Some(plan),
            Err(e) => {
                writeln!(stderr, "error: {e}")?;
                return Ok(ExitCode::from(1));
            }
        },
        None => None,
    };
    let interactive = std::io::stdin().is_terminal() && std::io::stderr().is_terminal();
    if saved.is_none() && !args.auto_approve && !interactive {
        writeln!(
            stderr,
            "error: apply needs confirmation and there is no terminal to ask on; pass \
             --auto-approve, or apply a reviewed plan with `plan --out FILE` then `apply --plan FILE`"
        )?;
        return Ok(ExitCode::from(1));
    }
    let Some((desired, scope)) = super::load_selected(&args.paths, &args.selection)? else {
        return Ok(ExitCode::from(1));
    };
    let scope = args.serving.apply_to(scope);
    let runtime = super::runtime()?;
    runtime.block_on(async {
        let ctx = crate::aws::AwsContext::load(&aws.options()).await;
        let live = crate::pipeline::plan_live(&ctx, &desired, &scope).await;
        match &saved {
            Some(saved) => {
                if let Err(e) = apply::stale::check(saved, &live.plan) {
                    writeln!(stderr, "error: {e}")?;
                    writeln!(stderr, "Nothing was changed.")?;
                    return Ok(ExitCode::from(1));
                }
            }
            None => {
                let text = crate::render::plan::text(&live.plan, false);
                if args.format == Format::Json {
                    write!(stderr, "{text}")?;
                } else {
                    write!(anstream::stdout(), "{text}")?;
                }
                if live.plan.summary.has_changes() && !args.auto_approve && !confirm()? {
                    writeln!(stderr, "Apply cancelled; nothing was changed.")?;
                    return Ok(ExitCode::from(1));
                }
                if args.format == Format::Text {
                    writeln!(anstream::stdout())?;
                }
            }
        }
        // Until here nothing was written, and a signal may end the process as usual. From here
        // on, the first SIGINT/SIGTERM stops new copies and lets the report be written; a
        // second one exits at once.
        let (interrupt_tx, interrupt) = tokio::sync::watch::channel(false);
        tokio::spawn(async move {
            crate::signal::shutdown_signal().await;
            let _ = interrupt_tx.send(true);
            crate::signal::shutdown_signal().await;
            eprintln!("interrupted again: exiting now; copies in flight go on in AWS");
            std::process::exit(i32::from(INTERRUPTED));
        });
        let options = ApplyOptions {
            max_in_flight: args.max_copies_in_flight,
            wait: args.wait,
            timeout: args.timeout,
            fail_fast: args.fail_fast,
            ..ApplyOptions::default()
        };
        // A saved plan passed the check: what runs is exactly its entries and grants, not a
        // list computed again.
        let plan = saved.as_ref().unwrap_or(&live.plan);
        let progress = Progress::auto(plan, crate::render::apply::PROGRESS_WORDS);
        let report = apply::apply(&ctx, &live.sessions, plan, &options, &progress, interrupt).await;
        match args.format {
            Format::Text => write!(
                anstream::stdout(),
                "{}",
                if args.verbose {
                    crate::render::apply::text_verbose(&report)
                } else {
                    crate::render::apply::text(&report)
                }
            )?,
            Format::Json => writeln!(
                anstream::stdout(),
                "{}",
                serde_json::to_string_pretty(&report)?
            )?,
        }
        Ok(if report.interrupted {
            ExitCode::from(INTERRUPTED)
        } else if report.succeeded(args.wait) {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(1)
        })
    })
}

/// Asks `Apply these changes? [y/N]` on the terminal.
fn confirm() -> anyhow::Result<bool> {
    let mut stderr = std::io::stderr();
    write!(stderr, "Apply these changes? [y/N] ")?;
    stderr.flush()?;
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer)?;
    Ok(matches!(answer.trim(), "y" | "Y" | "yes" | "YES" | "Yes"))
}
