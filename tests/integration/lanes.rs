//! Lanes (`aws::lanes`): the accounts' reads spread over several threads give the very plan one
//! thread gives, with the same calls, and the sessions opened in lanes that have ended (their
//! runtimes and connections gone) still serve apply on the caller's runtime.

use std::time::Duration;

use reko_promote::apply::{self, ApplyOptions, Progress};
use reko_promote::aws::{AwsContext, lanes};
use reko_promote::plan::{Action, RunScope};
use reko_promote::sandbox::{Faults, SandboxConfig, SandboxHandle};
use reko_promote::state::Timestamp;

use crate::sandbox::helpers;
use crate::support::desired_from;

use crate::org;

const SHAPE: org::Shape = org::Shape {
    destinations: 30,
    source_projects: 2,
    versions_per_project: 3,
};

async fn context(sb: &SandboxHandle, threads: usize) -> AwsContext {
    crate::support::org_context(sb, Some(threads)).await
}

fn count(plan: &reko_promote::plan::PlanDocument, action: Action) -> usize {
    plan.entries.iter().filter(|e| e.action == action).count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_lanes_plan_what_one_lane_plans_and_their_sessions_serve_apply() {
    let sb = helpers::start_with(SandboxConfig {
        seed: org::seed(SHAPE),
        // Copies end at once (`org::precopy` needs it): both plans must see the same state,
        // not one of them a precopy still in progress.
        faults: Some(Faults {
            copy_duration_ms: 0,
            ..Faults::default()
        }),
        ..SandboxConfig::default()
    })
    .await;
    // A third of the versions are there already: the plan has copies and unchanged entries.
    org::precopy(&sb, SHAPE, 1.0 / 3.0).await;
    let dir = tempfile::tempdir().unwrap();
    org::write_manifests_with(SHAPE, dir.path(), org::MANAGED_SOURCE);
    let desired = desired_from(&[dir.path().to_path_buf()]);
    let now = Timestamp::parse_rfc3339("2026-11-23T12:00:00Z").unwrap();

    let one = context(&sb, 1).await;
    let four = context(&sb, 4).await;
    // The second context really runs four lanes: it owns its connections, and 31 accounts
    // are enough for four.
    assert!(four.owns_connections());
    assert_eq!(lanes::lane_count(SHAPE.accounts(), four.threads), 4);

    let single = reko_promote::pipeline::plan_live_at(&one, &desired, &RunScope::full(), now).await;
    let spread =
        reko_promote::pipeline::plan_live_at(&four, &desired, &RunScope::full(), now).await;
    assert_eq!(spread.plan, single.plan);
    assert_eq!(spread.calls, single.calls);
    assert_eq!(
        spread.sessions.by_account.keys().collect::<Vec<_>>(),
        single.sessions.by_account.keys().collect::<Vec<_>>()
    );
    let copies = count(&spread.plan, Action::Copy);
    let unchanged = count(&spread.plan, Action::Unchanged);
    assert_eq!(copies, SHAPE.destinations * SHAPE.source_projects * 2);
    assert_eq!(unchanged, SHAPE.destinations * SHAPE.source_projects);

    // Apply with the sessions the four lanes opened: their threads have ended, so every call
    // goes out on this runtime through new connections.
    let report = apply::apply(
        &four,
        &spread.sessions,
        &spread.plan,
        &ApplyOptions {
            timeout: Some(Duration::from_secs(60)),
            backoff: apply::wait::Backoff {
                initial: Duration::from_millis(20),
                max: Duration::from_millis(100),
            },
            ..ApplyOptions::default()
        },
        &Progress::silent(),
        apply::never_interrupted(),
    )
    .await;
    assert_eq!(report.summary.copied, copies, "{:?}", report.summary);
    assert_eq!(report.summary.failed, 0);

    let after = reko_promote::pipeline::plan_live_at(&four, &desired, &RunScope::full(), now).await;
    assert!(
        after
            .plan
            .entries
            .iter()
            .all(|e| e.action == Action::Unchanged),
        "{:?}",
        after.plan.summary
    );
}
