//! Live progress of an apply run: on a terminal an overall bar pinned at the top of at most a
//! screenful of lines, and without one (CI logs) one plain line per event with an RFC 3339 UTC
//! timestamp, e.g. `2026-11-23T10:00:00Z copy started staging/defect-detector/defect-detector-v2`.
//!
//! On a terminal each copy in flight has its own line while they fit the terminal's height
//! (less [`MARGIN`]); when there are more, one line per destination account counts them, and
//! when even the accounts do not fit, the last line counts the rest ([`rows`], a pure function).
//! Only problems and policy writes are printed above the bars; finished copies only move the
//! counts (the final report and `--format json` list every placement).
//!
//! It only displays what the orchestration tells it, in the words of the [`Words`] it is given
//! (`render::apply::PROGRESS_WORDS`: words are the renderers'), and the final summary is
//! `render::apply`'s too. Output goes to stderr so that stdout can carry the report
//! (`--format json`).

use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::sync::Mutex;
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::policies::PolicyError;
use super::report::{PlacementReport, now_rfc3339};
use crate::desired::PlacementKey;
use crate::plan::{Action, DestinationSide, PlanDocument, PlanEntry};

/// Terminal lines left free below the copies' lines: the overall bar, the lines printed above
/// the bars as they scroll, and the shell prompt.
pub const MARGIN: usize = 6;

/// The words progress shows: for an event (a printed line) and for a line of the live display.
#[derive(Clone, Copy)]
pub struct Words {
    pub event: fn(&Event) -> String,
    pub row: fn(&Row) -> String,
}

/// The copy an event is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopyRef {
    pub key: PlacementKey,
    pub target: DestinationSide,
}

impl CopyRef {
    pub fn of(entry: &PlanEntry) -> Self {
        CopyRef {
            key: entry.key.clone(),
            target: entry.target.clone(),
        }
    }
}

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
    CopyStarted(CopyRef),
    /// The name was taken by the same copy (another run, or a retried call): waiting for it.
    CopyJoined(CopyRef),
    /// A copy the plan found in progress: waiting for it.
    Waiting(CopyRef),
    CopyCompleted(CopyRef),
    /// The copy failed; the report says how.
    CopyFailed(PlacementReport),
    /// Not copied; the report says why.
    NotCopied(PlacementReport),
    Interrupted {
        in_flight: usize,
    },
    /// A serving step ended (started, stopped, deleted, failed or skipped).
    Serving(super::report::ServingReport),
}

/// A copy in flight, as the live display knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Active {
    pub copy: CopyRef,
    /// Started before this run reached it (by another run, or found in progress by the plan).
    pub started_earlier: bool,
}

/// A destination account's copies: those the plan asked for, and how far they are.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    /// Placements the plan copies or waits for in the account.
    pub total: usize,
    /// Of those, finished (copied, failed or not done).
    pub done: usize,
    /// Of those finished, failed or not done.
    pub failed: usize,
}

/// One line of the live display, under the overall bar.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Row {
    /// One copy in flight.
    Copy(Active),
    /// A destination account's copies in flight, when they do not fit one line each.
    Account {
        account: String,
        copying: usize,
        tally: Tally,
    },
    /// The accounts that do not fit a line each either.
    MoreAccounts { accounts: usize, copying: usize },
}

/// Which thing a line shows, to keep its bar (and elapsed time) while it stays on screen.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum RowId {
    Copy(PlacementKey),
    Account(String),
    MoreAccounts,
}

impl Row {
    fn id(&self) -> RowId {
        match self {
            Row::Copy(active) => RowId::Copy(active.copy.key.clone()),
            Row::Account { account, .. } => RowId::Account(account.clone()),
            Row::MoreAccounts { .. } => RowId::MoreAccounts,
        }
    }
}

/// The lines to show for the copies in flight (`active`, in start order) in at most `lines`
/// lines: one per copy when they fit; otherwise one per destination account with copies in
/// flight (in name order, with its `tallies`), the last line counting the accounts that do not
/// fit.
pub fn rows(active: &[Active], tallies: &BTreeMap<String, Tally>, lines: usize) -> Vec<Row> {
    let lines = lines.max(1);
    if active.len() <= lines {
        return active.iter().cloned().map(Row::Copy).collect();
    }
    let mut copying: BTreeMap<&str, usize> = BTreeMap::new();
    for a in active {
        *copying
            .entry(a.copy.target.account.name.as_str())
            .or_insert(0) += 1;
    }
    let fit = if copying.len() <= lines {
        copying.len()
    } else {
        lines - 1
    };
    let mut out: Vec<Row> = copying
        .iter()
        .take(fit)
        .map(|(account, n)| Row::Account {
            account: (*account).to_string(),
            copying: *n,
            tally: tallies.get(*account).copied().unwrap_or_default(),
        })
        .collect();
    if fit < copying.len() {
        out.push(Row::MoreAccounts {
            accounts: copying.len() - fit,
            copying: copying.values().skip(fit).sum(),
        });
    }
    out
}

/// The live display's state on a terminal.
struct Live {
    active: Vec<Active>,
    tallies: BTreeMap<String, Tally>,
    /// The placements the plan copies or waits for, and their destination account.
    planned: HashMap<PlacementKey, String>,
    shown: Vec<(RowId, ProgressBar)>,
}

enum Mode {
    Silent,
    Plain,
    Bars {
        multi: MultiProgress,
        overall: ProgressBar,
        live: Mutex<Live>,
    },
}

/// Where events are shown.
pub struct Progress {
    mode: Mode,
    words: Words,
}

/// The terminal's height in lines, when stderr is one.
fn terminal_height() -> Option<usize> {
    console::Term::stderr()
        .size_checked()
        .map(|(rows, _)| usize::from(rows))
}

impl Progress {
    /// Bars when stderr is a terminal, plain lines otherwise; `plan` is what is applied.
    pub fn auto(plan: &PlanDocument, words: Words) -> Self {
        use std::io::IsTerminal;
        if std::io::stderr().is_terminal() {
            Self::bars(plan, words)
        } else {
            Self::plain(words)
        }
    }

    pub fn plain(words: Words) -> Self {
        Progress {
            mode: Mode::Plain,
            words,
        }
    }

    pub fn silent() -> Self {
        Progress {
            mode: Mode::Silent,
            words: Words {
                event: |_| String::new(),
                row: |_| String::new(),
            },
        }
    }

    fn bars(plan: &PlanDocument, words: Words) -> Self {
        let multi = MultiProgress::with_draw_target(ProgressDrawTarget::stderr());
        let overall = multi.add(ProgressBar::new(plan.entries.len() as u64));
        overall.set_style(
            ProgressStyle::with_template("{elapsed_precise} [{bar:30}] {pos}/{len} {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        overall.set_message("placements done");
        // Its clock moves while copies run, not only when one finishes.
        overall.enable_steady_tick(Duration::from_millis(500));
        let mut tallies: BTreeMap<String, Tally> = BTreeMap::new();
        let mut planned = HashMap::new();
        for entry in &plan.entries {
            if matches!(entry.action, Action::Copy | Action::InProgress) {
                let account = entry.target.account.name.clone();
                tallies.entry(account.clone()).or_default().total += 1;
                planned.insert(entry.key.clone(), account);
            }
        }
        Progress {
            mode: Mode::Bars {
                multi,
                overall,
                live: Mutex::new(Live {
                    active: Vec::new(),
                    tallies,
                    planned,
                    shown: Vec::new(),
                }),
            },
            words,
        }
    }

    /// Shows one event.
    pub fn event(&self, event: &Event) {
        match &self.mode {
            Mode::Silent => {}
            Mode::Plain => {
                let line = format!("{} {}", now_rfc3339(), (self.words.event)(event));
                let _ = writeln!(std::io::stderr().lock(), "{line}");
            }
            Mode::Bars {
                multi,
                overall,
                live,
            } => {
                let mut live = live.lock().expect("progress lock");
                match event {
                    Event::CopyStarted(copy) | Event::CopyJoined(copy) | Event::Waiting(copy) => {
                        if !live.active.iter().any(|a| a.copy.key == copy.key) {
                            live.active.push(Active {
                                copy: copy.clone(),
                                started_earlier: !matches!(event, Event::CopyStarted(_)),
                            });
                        }
                    }
                    Event::CopyCompleted(copy) => {
                        live.finished(&copy.key, false);
                        overall.inc(1);
                    }
                    Event::CopyFailed(report) | Event::NotCopied(report) => {
                        live.finished(&report.key, true);
                        overall.inc(1);
                        let _ = multi.println(format!("  {}", (self.words.event)(event)));
                    }
                    Event::PolicyWritten { .. }
                    | Event::PolicyDeleted { .. }
                    | Event::PolicyFailed { .. }
                    | Event::Serving(_)
                    | Event::Interrupted { .. } => {
                        let _ = multi.println(format!("  {}", (self.words.event)(event)));
                    }
                }
                let lines = terminal_height().map_or(20, |h| h.saturating_sub(MARGIN));
                live.redraw(multi, self.words.row, lines);
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
        if let Mode::Bars {
            multi,
            overall,
            live,
        } = &self.mode
        {
            for (_, bar) in live.lock().expect("progress lock").shown.drain(..) {
                bar.finish_and_clear();
                multi.remove(&bar);
            }
            overall.finish_and_clear();
        }
    }
}

impl Live {
    /// A placement finished: it leaves the copies in flight and counts as done in its account.
    fn finished(&mut self, key: &PlacementKey, failed: bool) {
        self.active.retain(|a| &a.copy.key != key);
        if let Some(account) = self.planned.remove(key) {
            let tally = self.tallies.entry(account).or_default();
            tally.done += 1;
            tally.failed += usize::from(failed);
        }
    }

    /// Brings the bars under the overall one in line with [`rows`].
    fn redraw(&mut self, multi: &MultiProgress, words: fn(&Row) -> String, lines: usize) {
        let rows = rows(&self.active, &self.tallies, lines);
        let ids: Vec<RowId> = rows.iter().map(Row::id).collect();
        if ids.len() != self.shown.len() || ids.iter().zip(&self.shown).any(|(id, (s, _))| id != s)
        {
            let mut old: HashMap<RowId, ProgressBar> = self.shown.drain(..).collect();
            for bar in old.values() {
                multi.remove(bar);
            }
            for (id, row) in ids.into_iter().zip(&rows) {
                let bar = match old.remove(&id) {
                    Some(bar) => multi.add(bar),
                    None => {
                        // Ticking only once it draws through `multi`, never straight to stderr.
                        let bar = multi.add(new_row_bar(row));
                        bar.enable_steady_tick(Duration::from_millis(120));
                        bar
                    }
                };
                self.shown.push((id, bar));
            }
            for bar in old.into_values() {
                bar.finish_and_clear();
            }
        }
        for ((_, bar), row) in self.shown.iter().zip(&rows) {
            bar.set_message(words(row));
        }
    }
}

/// A spinner for one line: a copy's shows how long it has been on screen.
fn new_row_bar(row: &Row) -> ProgressBar {
    let template = match row {
        Row::Copy(_) => "  {spinner} {elapsed:>4} {msg}",
        Row::Account { .. } | Row::MoreAccounts { .. } => "  {spinner} {msg}",
    };
    let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::hidden());
    bar.set_style(
        ProgressStyle::with_template(template).unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    bar
}
