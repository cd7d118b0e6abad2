//! The pipeline shared by `plan`, `apply` and `policy`: desired state → sessions → live state →
//! plan.
//!
//! It only wires the stages together; each stage stays where it belongs (`aws` for sessions,
//! `state::read` for the reads, `plan::compute` for the diff). When the plan would withdraw
//! managed grants, the destinations' copies in progress are read (`state::copies`) and the plan
//! computed again with them.

use crate::aws::{AwsContext, CallCounts, Sessions, lanes};
use crate::desired::{Account, DesiredState};
use crate::plan::{self, PlanDocument, RunScope};
use crate::state::copies::read_copies_in_progress;
use crate::state::read::{Needs, read_account};
use crate::state::{AccountProblem, LiveState};

/// A computed plan with the live state and sessions behind it.
pub struct LivePlan {
    pub plan: PlanDocument,
    pub live: LiveState,
    pub sessions: Sessions,
    /// API calls made, per operation.
    pub calls: CallCounts,
}

/// The accounts the placements of `desired` involve (sources and destinations), and those of
/// destinations declaring `running` or `prune`.
pub fn involved_accounts(desired: &DesiredState) -> Vec<Account> {
    let names: std::collections::BTreeSet<&str> = desired
        .placements
        .iter()
        .flat_map(|p| [p.source_account.as_str(), p.destination_account.as_str()])
        .chain(desired.serving.iter().map(|s| s.account.as_str()))
        .collect();
    desired
        .accounts
        .iter()
        .filter(|a| names.contains(a.name.as_str()))
        .cloned()
        .collect()
}

/// The read calls of each account's chain (by account ID), batched as the reads are.
fn accounts_calls(
    accounts: &[Account],
    needs: &Needs,
) -> std::collections::BTreeMap<String, usize> {
    let names: std::collections::BTreeMap<&str, &str> = accounts
        .iter()
        .map(|a| (a.name.as_str(), a.account_id.as_str()))
        .collect();
    needs.calls_by_account(&names)
}

/// `accounts` with those whose chains make the most read calls first (a source account reads
/// its versions and policies besides its projects), ties in name order. Chains start one after
/// another (`aws::pace`), and a plan ends with its longest chain: started first, it ends sooner.
fn longest_chains_first(
    mut accounts: Vec<Account>,
    calls: &std::collections::BTreeMap<String, usize>,
) -> Vec<Account> {
    accounts.sort_by_key(|a| std::cmp::Reverse(calls.get(&a.account_id).copied().unwrap_or(0)));
    accounts
}

/// Opens sessions, reads live state and computes the plan for `desired` (a run of `scope`), now.
pub async fn plan_live(ctx: &AwsContext, desired: &DesiredState, scope: &RunScope) -> LivePlan {
    plan_live_at(ctx, desired, scope, crate::state::Timestamp::now()).await
}

/// [`plan_live`] at `now` (soak times are measured against it): the CLI's `--now`, or a test's
/// chosen time.
pub async fn plan_live_at(
    ctx: &AwsContext,
    desired: &DesiredState,
    scope: &RunScope,
    now: crate::state::Timestamp,
) -> LivePlan {
    let fallback_region = desired
        .placements
        .first()
        .map(|p| p.region.clone())
        .unwrap_or_else(|| "us-east-1".to_string());
    let started = std::time::Instant::now();
    // One chain per account: open its session, then read what it holds. No account waits for
    // another's session or reads, and the chains are spread over the cores (`aws::lanes`).
    let needs = Needs::of(desired);
    let involved = involved_accounts(desired);
    let calls = accounts_calls(&involved, &needs);
    let accounts = longest_chains_first(involved, &calls);
    let needs = std::sync::Arc::new(needs);
    let (mut sessions, parts) = lanes::open_then(
        ctx,
        &accounts,
        |account| calls.get(&account.account_id).copied().unwrap_or(0),
        &fallback_region,
        move |ctx, account, session| {
            let needs = needs.clone();
            async move {
                let opened = started.elapsed();
                let live = match &session {
                    Ok(session) => read_account(&ctx, session, &needs).await,
                    Err(e) => {
                        LiveState::inaccessible(&account.name, AccountProblem::Session(e.clone()))
                    }
                };
                (live, opened)
            }
        },
    )
    .await;
    let mut live = LiveState::default();
    let mut slowest_session = std::time::Duration::ZERO;
    for (part, opened) in parts {
        live.merge(part);
        slowest_session = slowest_session.max(opened);
    }
    let read = started.elapsed();
    let mut plan = plan::compute_at(desired, &live, scope, now);
    let computed = started.elapsed();
    // Withdrawals wait on the destinations' copies in progress: read them where the plan has
    // some (accounts not involved otherwise get their session now), then plan again.
    let checks = plan::grants::copy_checks_needed(&plan);
    if !checks.is_empty() {
        let accounts: Vec<Account> = desired
            .accounts
            .iter()
            .filter(|a| checks.contains_key(&a.account_id))
            .cloned()
            .collect();
        let unopened: Vec<Account> = accounts
            .iter()
            .filter(|a| !sessions.by_account.contains_key(&a.name))
            .cloned()
            .collect();
        let opened = Sessions::open(ctx, &unopened, &fallback_region).await;
        sessions.by_account.extend(opened.by_account);
        live.merge(read_copies_in_progress(ctx, &sessions, &accounts, &checks).await);
        plan = plan::compute_at(desired, &live, scope, now);
    }
    // Sessions and reads overlap (one chain per account): both are measured from the start.
    tracing::info!(
        sessions_ms = slowest_session.as_millis() as u64,
        read_ms = read.as_millis() as u64,
        compute_ms = (computed - read).as_millis() as u64,
        copy_checks_ms = (started.elapsed() - computed).as_millis() as u64,
        "plan computed"
    );
    LivePlan {
        plan,
        live,
        sessions,
        calls: ctx.limits.counts(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::ProjectKey;
    use std::collections::BTreeMap;

    fn account(name: &str, account_id: &str) -> Account {
        Account {
            name: name.into(),
            account_id: account_id.into(),
            role_arn: None,
            plan_role_arn: None,
            external_id: None,
        }
    }

    fn key(account_id: &str, name: &str) -> ProjectKey {
        ProjectKey {
            account_id: account_id.into(),
            region: "eu-west-1".into(),
            name: name.into(),
        }
    }

    #[test]
    fn the_source_account_with_the_most_reads_starts_first_and_ties_keep_name_order() {
        let mut needs = Needs::default();
        // Two destinations: one project each, ten versions (one DescribeProjectVersions).
        for (name, id) in [("dest-a", "200000000001"), ("dest-b", "200000000002")] {
            needs
                .projects
                .insert((name.into(), "eu-west-1".into()), ["vision".into()].into());
            needs.versions.insert(
                key(id, "vision"),
                (0..10).map(|v| format!("v{v}")).collect(),
            );
        }
        // The source: two projects of 25 versions (three calls each) and their policies.
        needs.projects.insert(
            ("src".into(), "eu-west-1".into()),
            ["vision".into(), "text".into()].into(),
        );
        for project in ["vision", "text"] {
            needs.versions.insert(
                key("100000000000", project),
                (0..25).map(|v| format!("v{v}")).collect(),
            );
            needs.policies.insert(key("100000000000", project));
        }
        let accounts = vec![
            account("dest-a", "200000000001"),
            account("dest-b", "200000000002"),
            account("src", "100000000000"),
        ];
        let ordered = longest_chains_first(accounts.clone(), &accounts_calls(&accounts, &needs));
        let names: Vec<&str> = ordered.iter().map(|a| a.name.as_str()).collect();
        assert_eq!(names, ["src", "dest-a", "dest-b"]);
        let ids = BTreeMap::from([
            ("dest-a", "200000000001"),
            ("dest-b", "200000000002"),
            ("src", "100000000000"),
        ]);
        let calls = needs.calls_by_account(&ids);
        // 1 DescribeProjects + 2 × 3 DescribeProjectVersions + 2 ListProjectPolicies.
        assert_eq!(calls["100000000000"], 9);
        assert_eq!(calls["200000000001"], 2);
    }
}
