//! What apply shows on a terminal, on plain values (no network): which lines the live display
//! keeps under its overall bar for N copies in flight on a terminal of a given height
//! (`apply::progress::rows`), and the final text summary (every problem in full, counts per
//! destination account; every placement with `-v`).

use std::collections::BTreeMap;

use reko_promote::apply::progress::{Active, CopyRef, MARGIN, Row, Tally, rows};
use reko_promote::apply::{ApplyReport, Outcome, PlacementReport, ReportReason, StartedBy};
use reko_promote::plan::{Action, Reason};
use reko_promote::render::apply::{row_line, text, text_verbose};

use crate::render_budget::entry;

/// `per_account[i]` copies in flight in account `dest-00i`, and the tallies of a plan of 120
/// copies per account of which 10 are done.
fn in_flight(per_account: &[usize]) -> (Vec<Active>, BTreeMap<String, Tally>) {
    let mut active = Vec::new();
    let mut tallies = BTreeMap::new();
    for (account, n) in per_account.iter().enumerate() {
        for v in 0..*n {
            let e = entry(
                "model-00",
                account,
                &format!("model-00.v{v:03}"),
                Action::Copy,
            );
            active.push(Active {
                copy: CopyRef::of(&e),
                started_earlier: false,
            });
        }
        tallies.insert(
            format!("dest-{account:03}"),
            Tally {
                total: 120,
                done: 10,
                failed: 0,
            },
        );
    }
    (active, tallies)
}

#[test]
fn copies_that_fit_the_screen_get_a_line_each() {
    let height = 45;
    let (active, tallies) = in_flight(&[20, 19]);
    let shown = rows(&active, &tallies, height - MARGIN);
    assert_eq!(shown.len(), 39);
    assert!(
        shown
            .iter()
            .zip(&active)
            .all(|(row, a)| *row == Row::Copy(a.clone()))
    );
    assert_eq!(
        row_line(&shown[0]),
        "dest-000/model-00/model-00.v000 copying"
    );
}

#[test]
fn more_copies_than_lines_are_counted_per_destination_account() {
    let height = 45;
    // 1,000 copies in flight over 8 accounts: 8 lines, however many copies.
    let (active, tallies) = in_flight(&[300, 200, 100, 100, 100, 100, 50, 50]);
    let shown = rows(&active, &tallies, height - MARGIN);
    assert_eq!(shown.len(), 8);
    assert_eq!(
        shown[0],
        Row::Account {
            account: "dest-000".into(),
            copying: 300,
            tally: tallies["dest-000"],
        }
    );
    let copying: usize = shown
        .iter()
        .map(|r| match r {
            Row::Account { copying, .. } => *copying,
            other => panic!("{other:?}"),
        })
        .sum();
    assert_eq!(copying, 1000);
    assert_eq!(row_line(&shown[1]), "dest-001  200 copying, 10/120 done");
    // One more copy than lines switches to accounts.
    let (active, tallies) = in_flight(&[39, 1]);
    assert_eq!(rows(&active, &tallies, 39).len(), 2);
}

#[test]
fn more_accounts_than_lines_end_with_a_line_counting_the_rest() {
    // 60 accounts of 3 copies each on a 20-line terminal.
    let (active, tallies) = in_flight(&[3; 60]);
    let lines = 20 - MARGIN;
    let shown = rows(&active, &tallies, lines);
    assert_eq!(shown.len(), lines);
    assert_eq!(
        shown.last(),
        Some(&Row::MoreAccounts {
            accounts: 60 - (lines - 1),
            copying: 3 * (60 - (lines - 1)),
        })
    );
    assert_eq!(
        row_line(shown.last().unwrap()),
        "47 more account(s)  141 copying"
    );
    // A terminal too small for the margin still shows one line.
    assert_eq!(rows(&active, &tallies, 0).len(), 1);
    assert_eq!(rows(&[], &tallies, 10), Vec::<Row>::new());
}

/// A report of `copied` copies per account in `accounts` accounts, one failed copy and one
/// blocked placement.
fn report(accounts: usize, copied: usize) -> ApplyReport {
    let mut placements = Vec::new();
    for a in 0..accounts {
        for v in 0..copied {
            let e = entry("model-00", a, &format!("model-00.v{v:03}"), Action::Copy);
            placements.push(PlacementReport::new(
                &e,
                Outcome::Copied,
                ReportReason::Copied {
                    started_by: StartedBy::ThisRun,
                },
            ));
        }
    }
    let failed = entry("model-00", 0, "model-00.v999", Action::Copy);
    placements.push(PlacementReport::new(
        &failed,
        Outcome::Failed,
        ReportReason::CopyFailed {
            status_message: Some("The output bucket is not in the destination's region.".into()),
        },
    ));
    let blocked = entry("model-01", 1, "model-01.v000", Action::Blocked);
    placements.push(PlacementReport::new(
        &blocked,
        Outcome::Blocked,
        ReportReason::Planned {
            reason: Box::new(Reason::SourceVersionMissing),
        },
    ));
    let mut report = ApplyReport {
        format_version: ApplyReport::FORMAT_VERSION,
        tool_version: "test".into(),
        started_at: "2026-11-23T10:00:00Z".into(),
        finished_at: "2026-11-23T10:05:00Z".into(),
        elapsed_seconds: 300.0,
        manifests_digest: "0".repeat(64),
        interrupted: false,
        timed_out: false,
        summary: Default::default(),
        placements,
        policies: Vec::new(),
        serving: Vec::new(),
        calls: Default::default(),
    };
    report.tally();
    report
}

#[test]
fn the_summary_shows_every_problem_in_full_and_counts_per_destination() {
    let report = report(20, 50);
    let summary = text(&report);
    // Two problems, 20 accounts, the totals and the closing line: no line per copy.
    assert!(summary.lines().count() < 40, "{summary}");
    assert!(summary.contains(
        "failed        dest-000/model-00/model-00.v999: COPYING_FAILED: The output bucket is not \
         in the destination's region."
    ));
    assert!(summary.contains(
        "blocked       dest-001/model-01/model-01.v000: source version `model-01.v000` does not \
         exist"
    ));
    assert!(!summary.contains("model-00.v000: copy completed"));
    assert!(summary.contains("1000 placement(s) or policies done as planned: counted"));
    for account in 0..20 {
        let problems = usize::from(account < 2);
        let row = format!(
            "  dest-{account:03}          50              0            0         {problems}"
        );
        assert!(summary.contains(&row), "{row}\n{summary}");
    }
    // The problems come after the table, on the last screen.
    assert!(summary.find("failed        dest-000") > summary.find("  dest-019 "));
    assert!(summary.contains("Apply finished with problems in 5m."));
    // -v lists every placement.
    let every = text_verbose(&report);
    for p in &report.placements {
        assert!(every.contains(&format!(
            "{}/{}/{}:",
            p.target.account.name, p.target.project, p.target.version_name
        )));
    }
}

#[test]
fn copies_still_going_on_are_counted_per_reason_without_v() {
    let mut report = report(10, 30);
    for p in report
        .placements
        .iter_mut()
        .filter(|p| p.outcome == Outcome::Copied)
    {
        p.outcome = Outcome::InProgress;
        p.reason = ReportReason::StillCopying {
            cause: reko_promote::apply::StopCause::Interrupted,
        };
    }
    report.interrupted = true;
    report.tally();
    let summary = text(&report);
    assert!(summary.lines().count() < 30, "{summary}");
    assert!(
        summary.contains(
            "in progress   300 placements: still copying when apply was interrupted; it continues \
             in AWS"
        ),
        "{summary}"
    );
    assert!(summary.contains("  dest-009           0              0           30         0"));
    assert_eq!(
        text_verbose(&report).matches("still copying when").count(),
        300
    );
}
