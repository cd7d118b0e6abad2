//! The markdown plan under a byte budget (`render::budget`), on plain values (no network): a
//! 10,000-placement plan fits a pull-request comment with every row that needs attention, and
//! each way of shortening is reached by a plan shaped for it.

use reko_promote::desired::PlacementKey;
use reko_promote::plan::{
    AccountRef, Action, CopySettings, DestinationSide, NotRead, PlanDocument, PlanEntry, Reason,
    RunScope, SourceSide, Summary,
};
use reko_promote::render::budget::{COMMENT_MAX_BYTES, Level, markdown_within, needs_attention};
use reko_promote::state::VersionStatus;

const REGION: &str = "eu-west-1";

/// One placement of `version` from the source account into `account`, with `action`.
pub(crate) fn entry(promotion: &str, account: usize, version: &str, action: Action) -> PlanEntry {
    let reason = match action {
        Action::Copy => Reason::CopyAllowedByPolicy,
        Action::Unchanged => Reason::Present {
            status: VersionStatus::parse("COPYING_COMPLETED"),
        },
        Action::InProgress => Reason::BeingCopied,
        Action::Conflict => Reason::OtherSource {
            actual_source: Some(format!(
                "arn:aws:rekognition:{REGION}:999999999999:project/other/version/{version}/1"
            )),
        },
        Action::Blocked => Reason::SourceVersionMissing,
        _ => Reason::NotRead {
            what: NotRead::DestinationVersion,
        },
    };
    assert_eq!(reason.action(), action, "the test's reason for {action:?}");
    let dest = AccountRef {
        name: format!("dest-{account:03}"),
        account_id: format!("2{account:011}"),
    };
    PlanEntry {
        key: PlacementKey {
            promotion: promotion.into(),
            destination: format!("d{account:03}"),
            version_name: version.into(),
        },
        action,
        reason,
        region: REGION.into(),
        source: SourceSide {
            account: AccountRef {
                name: "src".into(),
                account_id: "100000000000".into(),
            },
            project: promotion.into(),
            project_arn: None,
            version: version.into(),
            version_arn: None,
            version_status: None,
        },
        target: DestinationSide {
            account: dest,
            project: promotion.into(),
            project_arn: None,
            version_name: version.into(),
        },
        settings: CopySettings {
            s3_bucket: format!("dest-{account:03}-models"),
            s3_key_prefix: None,
            kms_key_id: None,
            tags: Default::default(),
        },
        cross_account: true,
        manage_policy: true,
        live: None,
        diff: None,
        drift: Vec::new(),
        missing_policy_statement: None,
        declared_at: format!("manifests/{promotion}.yaml:7"),
    }
}

pub(crate) fn plan_of(entries: Vec<PlanEntry>) -> PlanDocument {
    let mut summary = Summary::default();
    for e in &entries {
        match e.action {
            Action::Copy => summary.copy += 1,
            Action::Unchanged => summary.unchanged += 1,
            Action::InProgress => summary.in_progress += 1,
            Action::Conflict => summary.conflict += 1,
            Action::Blocked => summary.blocked += 1,
            _ => summary.unknown += 1,
        }
    }
    PlanDocument {
        format_version: PlanDocument::FORMAT_VERSION,
        tool_version: "test".into(),
        manifests_digest: "0".repeat(64),
        scope: RunScope::full(),
        summary,
        entries,
        grants: Vec::new(),
        fingerprints: Vec::new(),
        account_problems: Vec::new(),
        chains: Vec::new(),
        serving: Vec::new(),
    }
}

/// `accounts` × `promotions` × `versions` placements, each's action chosen by `action_of(n)`
/// for its running number.
fn org(
    accounts: usize,
    promotions: usize,
    versions: usize,
    action_of: impl Fn(usize) -> Action,
) -> PlanDocument {
    let mut entries = Vec::new();
    for a in 0..accounts {
        for p in 0..promotions {
            for v in 0..versions {
                let promotion = format!("model-{p:02}");
                let version = format!("model-{p:02}.v{v:03}");
                entries.push(entry(&promotion, a, &version, action_of(entries.len())));
            }
        }
    }
    plan_of(entries)
}

/// Asserts the budget holds and every row needing attention is shown by its key.
fn assert_fits_with_attention(plan: &PlanDocument, text: &str, max: usize) {
    assert!(
        text.len() <= max,
        "{} bytes over a budget of {max}",
        text.len()
    );
    for e in plan.entries.iter().filter(|e| needs_attention(e.action)) {
        assert!(
            text.contains(&format!("`{}`", e.key)),
            "{} ({:?}) is missing",
            e.key,
            e.action
        );
    }
}

#[test]
fn a_10000_placement_plan_fits_a_comment_with_every_row_needing_attention() {
    // 50 accounts × 2 promotions × 100 versions; a mix of everything, ~130 rows that need a person.
    let plan = org(50, 2, 100, |n| match n {
        n if n % 199 == 0 => Action::Blocked,
        n if n % 331 == 0 => Action::Conflict,
        n if n % 251 == 0 => Action::Unknown,
        n if n % 97 == 0 => Action::InProgress,
        n if n % 3 == 0 => Action::Copy,
        _ => Action::Unchanged,
    });
    assert_eq!(plan.entries.len(), 10_000);
    let attention = plan
        .entries
        .iter()
        .filter(|e| needs_attention(e.action))
        .count();
    assert!(attention > 100, "{attention} rows need attention");
    let full = reko_promote::render::plan::markdown(&plan);
    let fitted = markdown_within(&plan, COMMENT_MAX_BYTES);
    eprintln!(
        "10,000 placements: full markdown {} bytes; within {COMMENT_MAX_BYTES}: {} bytes ({:?})",
        full.len(),
        fitted.text.len(),
        fitted.level
    );
    assert!(
        full.len() > COMMENT_MAX_BYTES,
        "the full plan needs shortening"
    );
    assert!(fitted.level > Level::Full);
    assert_eq!(fitted.rows_left_out, 0);
    assert_fits_with_attention(&plan, &fitted.text, COMMENT_MAX_BYTES);
    assert!(
        fitted
            .text
            .contains("The full plan is in the CI job summary")
    );
    // The summary counts every placement, whatever the level.
    assert!(
        fitted
            .text
            .contains(&reko_promote::render::plan::summary_line(&plan.summary))
    );
}

#[test]
fn a_plan_that_fits_is_the_full_markdown() {
    let plan = org(2, 1, 5, |n| {
        if n == 3 {
            Action::Blocked
        } else {
            Action::Copy
        }
    });
    let fitted = markdown_within(&plan, COMMENT_MAX_BYTES);
    assert_eq!(fitted.level, Level::Full);
    assert_eq!(fitted.text, reko_promote::render::plan::markdown(&plan));
    // 0 means no limit.
    assert_eq!(markdown_within(&plan, 0).level, Level::Full);
}

#[test]
fn unchanged_rows_are_collapsed_first() {
    // 20 accounts of 100 unchanged placements and one copy each.
    let plan = org(20, 1, 101, |n| {
        if n % 101 == 0 {
            Action::Copy
        } else {
            Action::Unchanged
        }
    });
    let max = 20_000;
    assert!(reko_promote::render::plan::markdown(&plan).len() > max);
    let fitted = markdown_within(&plan, max);
    assert_eq!(fitted.level, Level::UnchangedCollapsed);
    assert!(fitted.text.len() <= max);
    for e in &plan.entries {
        let shown = fitted.text.contains(&format!("`{}`", e.key));
        assert_eq!(shown, e.action == Action::Copy, "{}", e.key);
    }
    assert!(fitted.text.contains("1 copy, 100 unchanged"));
}

#[test]
fn then_counts_per_destination_account() {
    // 10 accounts × 100 copies, and a few blocked and conflicting rows.
    let plan = org(10, 1, 100, |n| match n {
        n if n % 150 == 7 => Action::Blocked,
        n if n % 400 == 9 => Action::Conflict,
        _ => Action::Copy,
    });
    let max = 12_000;
    let fitted = markdown_within(&plan, max);
    assert_eq!(fitted.level, Level::PerAccount);
    assert_fits_with_attention(&plan, &fitted.text, max);
    assert!(fitted.text.contains("| destination account |"));
    for account in 0..10 {
        assert!(fitted.text.contains(&format!("| dest-{account:03} |")));
    }
    let copy = plan.entries.iter().find(|e| e.action == Action::Copy);
    assert!(!fitted.text.contains(&format!("`{}`", copy.unwrap().key)));
}

#[test]
fn then_counts_per_promotion() {
    // 400 accounts of 2 promotions × 2 versions: the account table alone is too long.
    let plan = org(400, 2, 2, |n| {
        if n % 500 == 1 {
            Action::Unknown
        } else {
            Action::Copy
        }
    });
    let max = 8_000;
    let fitted = markdown_within(&plan, max);
    assert_eq!(fitted.level, Level::PerPromotion);
    assert_fits_with_attention(&plan, &fitted.text, max);
    assert!(fitted.text.contains("| promotion |"));
    assert!(
        fitted.text.contains("| model-00 | 796 | 4 |"),
        "{}",
        fitted.text
    );
}

#[test]
fn when_even_the_rows_needing_attention_do_not_fit_they_are_cut_with_a_count() {
    let plan = org(10, 1, 50, |n| {
        if n % 2 == 0 {
            Action::Blocked
        } else {
            Action::Conflict
        }
    });
    for max in [10_000, 2_000, 600, 100, 1] {
        let fitted = markdown_within(&plan, max);
        assert_eq!(fitted.level, Level::AttentionOnly, "{max}");
        assert!(
            fitted.text.len() <= max,
            "{max}: {} bytes",
            fitted.text.len()
        );
        assert!(fitted.rows_left_out > 0 && fitted.rows_left_out <= 500);
        if max >= 2_000 {
            let shown = plan
                .entries
                .iter()
                .filter(|e| fitted.text.contains(&format!("`{}`", e.key)))
                .count();
            assert_eq!(shown + fitted.rows_left_out, 500, "{max}");
            assert!(fitted.text.contains(&format!(
                "and {} more placement(s) that need attention",
                fitted.rows_left_out
            )));
            assert!(
                fitted
                    .text
                    .contains("The full plan is in the CI job summary")
            );
        }
    }
}

/// The CLI against the sandbox: `--max-bytes` caps stdout, `--summary-out` writes the whole plan
/// from the same read.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_caps_the_markdown_and_writes_the_summary_apart() {
    let sb = crate::sandbox::helpers::start().await;
    let dir = tempfile::tempdir().unwrap();
    let summary = dir.path().join("plan.md");
    let capped = crate::support::reko_in_ci(Some(&sb))
        .args(["plan", "--format", "markdown", "--max-bytes", "900"])
        .arg("--summary-out")
        .arg(&summary)
        .arg("manifests")
        .assert()
        .success();
    let capped = String::from_utf8(capped.get_output().stdout.clone()).unwrap();
    let full = crate::support::reko_in_ci(Some(&sb))
        .args([
            "plan",
            "--format",
            "markdown",
            "--max-bytes",
            "0",
            "manifests",
        ])
        .assert()
        .success();
    let full = String::from_utf8(full.get_output().stdout.clone()).unwrap();
    assert!(
        full.len() > 900,
        "the sandbox's plan needs shortening: {full}"
    );
    assert!(capped.len() <= 900, "{} bytes: {capped}", capped.len());
    assert!(capped.starts_with("### reko-promote plan"), "{capped}");
    assert_eq!(std::fs::read_to_string(&summary).unwrap(), full);
}
