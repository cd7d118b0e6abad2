//! The pipeline shared by `plan` and `apply`: desired state → sessions → live state → plan.
//!
//! It only wires the stages together; each stage stays where it belongs (`aws` for sessions,
//! `state::read` for the reads, `plan::compute` for the diff).

use crate::aws::{AwsContext, CallCounts, Sessions};
use crate::desired::{Account, DesiredState};
use crate::plan::{self, PlanDocument};
use crate::state::LiveState;
use crate::state::read::{Needs, read_account};

/// A computed plan with the live state and sessions behind it.
pub struct LivePlan {
    pub plan: PlanDocument,
    pub live: LiveState,
    pub sessions: Sessions,
    /// API calls made, per operation.
    pub calls: CallCounts,
}

/// The accounts the placements of `desired` involve (sources and destinations).
pub fn involved_accounts(desired: &DesiredState) -> Vec<Account> {
    let names: std::collections::BTreeSet<&str> = desired
        .placements
        .iter()
        .flat_map(|p| [p.source_account.as_str(), p.destination_account.as_str()])
        .collect();
    desired
        .accounts
        .iter()
        .filter(|a| names.contains(a.name.as_str()))
        .cloned()
        .collect()
}

/// Opens sessions, reads live state and computes the plan for `desired`.
pub async fn plan_live(ctx: &AwsContext, desired: &DesiredState) -> LivePlan {
    let fallback_region = desired
        .placements
        .first()
        .map(|p| p.region.clone())
        .unwrap_or_else(|| "us-east-1".to_string());
    let started = std::time::Instant::now();
    // One chain per account: open its session, then read what it holds. No account waits for
    // another's session or reads.
    let base = Sessions::base(ctx, &fallback_region);
    let needs = Needs::of(desired);
    let chains = futures::future::join_all(involved_accounts(desired).into_iter().map(|account| {
        let (base, needs) = (&base, &needs);
        async move {
            let session = Sessions::open_one(ctx, base, &account).await;
            let opened = started.elapsed();
            let live = match &session {
                Ok(session) => read_account(ctx, session, needs).await,
                Err(e) => LiveState::inaccessible(&account.name, e.to_string()),
            };
            (account.name, session, live, opened)
        }
    }))
    .await;
    let mut live = LiveState::default();
    let mut by_account = std::collections::BTreeMap::new();
    let mut slowest_session = std::time::Duration::ZERO;
    for (name, session, part, opened) in chains {
        live.merge(part);
        by_account.insert(name, session);
        slowest_session = slowest_session.max(opened);
    }
    let sessions = Sessions { by_account };
    let read = started.elapsed();
    let plan = plan::compute(desired, &live);
    // Sessions and reads overlap (one chain per account): both are measured from the start.
    tracing::info!(
        sessions_ms = slowest_session.as_millis() as u64,
        read_ms = read.as_millis() as u64,
        compute_ms = (started.elapsed() - read).as_millis() as u64,
        "plan computed"
    );
    LivePlan {
        plan,
        live,
        sessions,
        calls: ctx.limits.counts(),
    }
}
