//! The pipeline shared by `plan` and `apply`: desired state → sessions → live state → plan.
//!
//! It only wires the stages together; each stage stays where it belongs (`aws` for sessions,
//! `state::read` for the reads, `plan::compute` for the diff).

use crate::aws::{AwsContext, CallCounts, Sessions};
use crate::desired::{Account, DesiredState};
use crate::plan::{self, PlanDocument};
use crate::state::LiveState;

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
    let sessions = Sessions::open(ctx, &involved_accounts(desired), &fallback_region).await;
    let opened = started.elapsed();
    let live = crate::state::read::read(ctx, &sessions, desired).await;
    let read = started.elapsed();
    let plan = plan::compute(desired, &live);
    tracing::info!(
        sessions_ms = opened.as_millis() as u64,
        read_ms = (read - opened).as_millis() as u64,
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
