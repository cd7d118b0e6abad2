//! Lanes: the per-account chains of a run spread over the machine's cores.
//!
//! A plan's reads come in waves: every account's AssumeRole answers within a few milliseconds
//! of the others, then every DescribeProjects, then the version reads. Each answer costs the
//! SDK a fraction of a millisecond of CPU (parse, sign the next request, send it), so on one
//! thread the last account of a wave waits for every other account's work before its own next
//! request leaves: on 2 cores that queueing was a third of a plan's read time. A lane is one OS
//! thread running a single-threaded runtime with a connection pool of its own, and each account
//! is read in exactly one lane, so lanes share nothing but the run's limits (`aws::limits`: the
//! per-account bounds and rates are the run's, the global bound is split between the lanes so
//! that their pools together stay within it) and hand no task or connection across threads.
//! Lane 0 is the caller's own task; lanes 1.. are threads that end, runtime and connections
//! dropped, before their sessions are handed back (a session used later, by apply, opens new
//! connections on the runtime that uses it).
//!
//! What each account's chain does is the caller's (`then`); opening sessions is `aws::session`'s.

use std::future::Future;
use std::sync::Arc;

use super::AwsContext;
use super::session::{AccountSession, SessionError, Sessions};
use crate::desired::Account;

/// Fewer accounts than this per lane and another thread does not pay: a wave of a handful of
/// accounts costs the SDK under a millisecond of CPU, less than a thread and its runtime take
/// to start.
pub const MIN_ACCOUNTS_PER_LANE: usize = 8;

/// The lanes a run of `accounts` accounts uses with `threads` threads allowed: one per
/// [`MIN_ACCOUNTS_PER_LANE`] accounts, at most `threads`, at least one.
pub fn lane_count(accounts: usize, threads: usize) -> usize {
    accounts.div_ceil(MIN_ACCOUNTS_PER_LANE).min(threads).max(1)
}

/// The lane of each account, for `lanes` lanes: accounts are taken in the order given (callers
/// pass the longest chains first) and each goes to the lane with the fewest calls so far
/// (`calls`), ties to the lowest lane. Returns one list of account indices per lane, each in
/// the order given, so every lane starts its longest chains first too.
pub fn assign(calls: impl IntoIterator<Item = usize>, lanes: usize) -> Vec<Vec<usize>> {
    let lanes = lanes.max(1);
    let mut load = vec![0usize; lanes];
    let mut members: Vec<Vec<usize>> = vec![Vec::new(); lanes];
    for (index, calls) in calls.into_iter().enumerate() {
        let lane = (0..lanes)
            .min_by_key(|&lane| (load[lane], lane))
            .expect("at least one lane");
        // A chain with no reads still opens a session: it weighs one call.
        load[lane] += calls.max(1);
        members[lane].push(index);
    }
    members
}

/// What one lane hands back: per account, by name, its session and the output of its chain.
type LaneOutput<T> = Vec<(String, Result<Arc<AccountSession>, SessionError>, T)>;

/// [`Sessions::open_then`] over lanes: opens each account's session and runs `then` in its
/// chain, the accounts spread over up to `ctx.threads` lanes by their `calls` (the read calls
/// of each account's chain). Returns the sessions and `then`'s outputs in the order of
/// `accounts`. `then` gets the lane's context (its own connections) and owns what it is given,
/// so that it can run on any lane's thread.
pub async fn open_then<T, Then, Fut>(
    ctx: &AwsContext,
    accounts: &[Account],
    calls: impl Fn(&Account) -> usize,
    fallback_region: &str,
    then: Then,
) -> (Sessions, Vec<T>)
where
    Then: Fn(AwsContext, Account, Result<Arc<AccountSession>, SessionError>) -> Fut
        + Send
        + Sync
        + 'static,
    Fut: Future<Output = T> + 'static,
    T: Send + 'static,
{
    let lanes = if ctx.owns_connections() {
        lane_count(accounts.len(), ctx.threads)
    } else {
        // Connections the caller supplied cannot be split per thread: one lane.
        1
    };
    let mut members = assign(accounts.iter().map(&calls), lanes).into_iter();
    let own_ctx = if lanes > 1 {
        ctx.for_lane(0, lanes)
    } else {
        ctx.clone()
    };
    let mut own: Vec<Account> = members
        .next()
        .unwrap_or_default()
        .into_iter()
        .map(|index| accounts[index].clone())
        .collect();
    let then = Arc::new(then);
    let mut others = Vec::new();
    for (number, indices) in members.enumerate() {
        let lane_accounts: Vec<Account> = indices.iter().map(|&i| accounts[i].clone()).collect();
        let (lane_ctx, then) = (ctx.for_lane(number + 1, lanes), then.clone());
        let (region, moved) = (fallback_region.to_string(), lane_accounts.clone());
        let (sender, receiver) = tokio::sync::oneshot::channel();
        let thread = std::thread::Builder::new()
            .name(format!("reko-lane-{}", number + 1))
            .spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("a lane's runtime starts (the caller's did)");
                let output = runtime.block_on(run_lane(&lane_ctx, &moved, &region, &*then));
                // Its connections close with it before its sessions are handed over: a session
                // used later never finds a pooled connection of a runtime no one drives.
                drop(runtime);
                let _ = sender.send(output);
            });
        match thread {
            Ok(thread) => others.push((thread, receiver)),
            // No thread to be had (a process limit): the caller's own lane takes these too.
            Err(e) => {
                tracing::debug!(
                    "no thread for lane {}: {e}; its accounts go to lane 0",
                    number + 1
                );
                own.extend(lane_accounts);
            }
        }
    }
    let mut outputs = run_lane(&own_ctx, &own, fallback_region, &*then).await;
    for (thread, receiver) in others {
        match receiver.await {
            Ok(output) => outputs.extend(output),
            // The lane panicked: its panic is the caller's.
            Err(_) => match thread.join() {
                Err(panic) => std::panic::resume_unwind(panic),
                Ok(()) => unreachable!("a lane that ends normally sends its output"),
            },
        }
    }
    let order: std::collections::HashMap<&str, usize> = accounts
        .iter()
        .enumerate()
        .map(|(index, account)| (account.name.as_str(), index))
        .collect();
    outputs.sort_unstable_by_key(|(name, _, _)| order[name.as_str()]);
    let mut sessions = Sessions::default();
    let mut results = Vec::with_capacity(outputs.len());
    for (name, session, output) in outputs {
        sessions.by_account.insert(name, session);
        results.push(output);
    }
    (sessions, results)
}

/// Opens the sessions of one lane's accounts and runs their chains on the current runtime.
async fn run_lane<T, Then, Fut>(
    ctx: &AwsContext,
    accounts: &[Account],
    fallback_region: &str,
    then: &Then,
) -> LaneOutput<T>
where
    Then: Fn(AwsContext, Account, Result<Arc<AccountSession>, SessionError>) -> Fut,
    Fut: Future<Output = T>,
{
    let (_, outputs) = Sessions::open_then(ctx, accounts, fallback_region, |account, session| {
        let chain = then(ctx.clone(), account.clone(), session.clone());
        async move { (account.name.clone(), session, chain.await) }
    })
    .await;
    outputs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lanes_follow_the_accounts_and_the_threads_allowed() {
        assert_eq!(lane_count(0, 4), 1);
        assert_eq!(lane_count(7, 4), 1);
        assert_eq!(lane_count(MIN_ACCOUNTS_PER_LANE + 1, 4), 2);
        assert_eq!(lane_count(51, 2), 2);
        assert_eq!(lane_count(51, 1), 1);
        assert_eq!(lane_count(500, 0), 1);
    }

    #[test]
    fn each_account_goes_to_the_least_loaded_lane_in_the_order_given() {
        // A source of 9 calls first, then eight destinations of 2 (and one with none).
        let calls = [9, 2, 2, 2, 2, 2, 2, 2, 2, 0];
        let lanes = assign(calls, 2);
        assert_eq!(lanes, vec![vec![0, 6, 8], vec![1, 2, 3, 4, 5, 7, 9]]);
        let load = |lane: &Vec<usize>| lane.iter().map(|&i| calls[i].max(1)).sum::<usize>();
        assert_eq!((load(&lanes[0]), load(&lanes[1])), (13, 13));
        // Every account in exactly one lane.
        let mut all: Vec<usize> = lanes.concat();
        all.sort_unstable();
        assert_eq!(all, (0..calls.len()).collect::<Vec<_>>());
        // One lane keeps the order given.
        assert_eq!(assign(calls, 1), vec![(0..calls.len()).collect::<Vec<_>>()]);
    }
}
