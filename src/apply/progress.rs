//! Live progress of an apply run: indicatif bars on a terminal (one per copy and an overall
//! bar), and without one (CI logs) one plain line per event with an RFC 3339 UTC timestamp,
//! e.g. `2026-11-23T10:00:00Z copy started staging/defect-detector/defect-detector-v2`.
//!
//! It only displays what the orchestration tells it, in the words of the [`Describe`] function it
//! is given (`render::apply::event_line`: words are the renderers'), and the final summary is
//! `render::apply`'s too. Output goes to stderr so that stdout can carry the
//! report (`--format json`).

use std::collections::HashMap;
use std::io::Write;
use std::sync::Mutex;
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::policies::PolicyError;
use super::report::{PlacementReport, now_rfc3339};

/// Turns an event into the words shown for it.
pub type Describe = fn(&Event) -> String;

/// Something that happened during a run.
#[derive(Debug, Clone)]
pub enum Event {
    PolicyWritten {
        account: String,
        project_arn: String,
        name: String,
        created: bool,
    },
    PolicyDeleted {
        account: String,
        project_arn: String,
        name: String,
    },
    PolicyFailed {
        project_arn: String,
        error: PolicyError,
    },
    CopyStarted {
        placement: String,
    },
    /// The name was taken by the same copy (another run, or a retried call): waiting for it.
    CopyJoined {
        placement: String,
    },
    Waiting {
        placement: String,
    },
    CopyCompleted {
        placement: String,
    },
    /// The copy failed; the report says how.
    CopyFailed(PlacementReport),
    /// Not copied; the report says why.
    NotCopied(PlacementReport),
    Interrupted {
        in_flight: usize,
    },
}

enum Mode {
    Silent,
    Plain,
    Bars {
        multi: MultiProgress,
        overall: ProgressBar,
        bars: Mutex<HashMap<String, ProgressBar>>,
    },
}

/// Where events are shown.
pub struct Progress {
    mode: Mode,
    describe: Describe,
}

impl Progress {
    /// Bars when stderr is a terminal, plain lines otherwise.
    pub fn auto(total: usize, describe: Describe) -> Self {
        use std::io::IsTerminal;
        if std::io::stderr().is_terminal() {
            Self::bars(total, describe)
        } else {
            Self::plain(describe)
        }
    }

    pub fn plain(describe: Describe) -> Self {
        Progress {
            mode: Mode::Plain,
            describe,
        }
    }

    pub fn silent() -> Self {
        Progress {
            mode: Mode::Silent,
            describe: |_| String::new(),
        }
    }

    fn bars(total: usize, describe: Describe) -> Self {
        let multi = MultiProgress::with_draw_target(ProgressDrawTarget::stderr());
        let overall = multi.add(ProgressBar::new(total as u64));
        overall.set_style(
            ProgressStyle::with_template("{elapsed_precise} [{bar:30}] {pos}/{len} {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        overall.set_message("placements done");
        Progress {
            mode: Mode::Bars {
                multi,
                overall,
                bars: Mutex::new(HashMap::new()),
            },
            describe,
        }
    }

    /// Shows one event.
    pub fn event(&self, event: &Event) {
        let describe = self.describe;
        match &self.mode {
            Mode::Silent => {}
            Mode::Plain => {
                let line = format!("{} {}", now_rfc3339(), describe(event));
                let _ = writeln!(std::io::stderr().lock(), "{line}");
            }
            Mode::Bars {
                multi,
                overall,
                bars,
            } => {
                let mut bars = bars.lock().expect("bars lock");
                let spinner = |placement: &str| {
                    let bar = multi.add(ProgressBar::new_spinner());
                    bar.set_style(
                        ProgressStyle::with_template("  {spinner} {elapsed:>4} {prefix} {msg}")
                            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
                    );
                    bar.set_prefix(placement.to_string());
                    bar.enable_steady_tick(Duration::from_millis(120));
                    bar
                };
                match event {
                    Event::CopyStarted { placement }
                    | Event::CopyJoined { placement }
                    | Event::Waiting { placement } => {
                        let bar = bars
                            .entry(placement.clone())
                            .or_insert_with(|| spinner(placement));
                        bar.set_message(match event {
                            Event::CopyStarted { .. } => "copying",
                            _ => "copying (started earlier)",
                        });
                    }
                    Event::CopyCompleted { .. } | Event::CopyFailed(_) | Event::NotCopied(_) => {
                        let placement = match event {
                            Event::CopyCompleted { placement } => placement.clone(),
                            Event::CopyFailed(report) | Event::NotCopied(report) => {
                                super::report::destination_label(&report.target)
                            }
                            _ => String::new(),
                        };
                        if let Some(bar) = bars.remove(&placement) {
                            bar.finish_and_clear();
                        }
                        overall.inc(1);
                        let _ = multi.println(format!("  {}", describe(event)));
                    }
                    _ => {
                        let _ = multi.println(format!("  {}", describe(event)));
                    }
                }
            }
        }
    }

    /// Counts placements that needed nothing towards the overall bar.
    pub fn skip(&self, n: usize) {
        if let Mode::Bars { overall, .. } = &self.mode {
            overall.inc(n as u64);
        }
    }

    /// Clears the bars before the summary is printed.
    pub fn finish(&self) {
        if let Mode::Bars { overall, bars, .. } = &self.mode {
            for (_, bar) in bars.lock().expect("bars lock").drain() {
                bar.abandon();
            }
            overall.finish_and_clear();
        }
    }
}
