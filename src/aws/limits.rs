//! Client-side limits on calls to AWS, shaped like AWS's own quotas: a token-bucket rate limit
//! per account and operation, a bound on requests in flight per account, a global bound on
//! requests in flight, and a count of the calls made per operation.
//!
//! AWS throttles per account (and per operation), never across accounts, so the per-account
//! bounds are what keep a run inside its quotas; the global bound (`--parallelism`) only caps
//! the process's own sockets and defaults high enough never to be the bottleneck. The SDK's own
//! retry (with backoff on throttling) sits under these: the limits keep a large plan from
//! causing throttling in the first place, the retries absorb what happens anyway.

use std::collections::{BTreeMap, HashMap};
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};

use governor::clock::MonotonicClock;
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Calls made, per operation name.
pub type CallCounts = BTreeMap<String, u64>;

/// The limits of one run, or of one lane of it ([`Limits::lane_share`]).
pub struct Limits {
    /// The requests in flight this context's calls share: the whole `--parallelism`, or a
    /// lane's part of it.
    in_flight: Arc<Semaphore>,
    /// What every lane of the run shares: the accounts' bounds, the rate, the counts.
    shared: Arc<Shared>,
}

/// The per-account limits and the counts, the same for every lane of a run: an account is
/// read in one lane, but written to later from the caller's runtime, under the same bucket.
struct Shared {
    parallelism: usize,
    in_flight_per_account: usize,
    accounts: Mutex<HashMap<String, Arc<Semaphore>>>,
    rate: RateLimiter<
        (String, &'static str),
        DefaultKeyedStateStore<(String, &'static str)>,
        MonotonicClock,
    >,
    counts: Mutex<CallCounts>,
}

/// Holds a place among the requests in flight (the account's and the run's) until dropped.
pub struct Slot {
    _account: OwnedSemaphorePermit,
    _global: OwnedSemaphorePermit,
}

impl Limits {
    /// `parallelism` requests in flight at most in all, `per_account` in each account, and
    /// `per_second` calls per second of each operation in each account.
    pub fn new(parallelism: usize, per_account: usize, per_second: u32) -> Self {
        let per_second = NonZeroU32::new(per_second).unwrap_or(NonZeroU32::MIN);
        let parallelism = parallelism.max(1);
        Limits {
            in_flight: Arc::new(Semaphore::new(parallelism)),
            shared: Arc::new(Shared {
                parallelism,
                in_flight_per_account: per_account.max(1),
                accounts: Mutex::new(HashMap::new()),
                // The standard library's monotonic clock, not a TSC clock (quanta): that one
                // calibrates itself on first use by spinning, measured at 4 to 60 ms of CPU
                // before a plan's first call, while a rate of a few calls per second needs no
                // cheaper clock.
                rate: RateLimiter::dashmap_with_clock(
                    Quota::per_second(per_second),
                    MonotonicClock,
                ),
                counts: Mutex::new(BTreeMap::new()),
            }),
        }
    }

    /// The limits of lane `lane` of `lanes` (`aws::lanes`): the same accounts' bounds, rate and
    /// counts, and its part of the global bound, so that the lanes together keep to
    /// `--parallelism` in flight (each lane has a connection pool of its own: without this they
    /// could hold `lanes` times as many connections). Every lane gets at least one slot.
    pub fn lane_share(&self, lane: usize, lanes: usize) -> Limits {
        let lanes = lanes.max(1);
        let total = self.shared.parallelism;
        let share = total / lanes + usize::from(lane < total % lanes);
        Limits {
            in_flight: Arc::new(Semaphore::new(share.max(1))),
            shared: self.shared.clone(),
        }
    }

    /// Waits until `operation` may be called in `account_id`, counts the call, and holds the
    /// account's and the run's in-flight slots for its duration.
    ///
    /// The account's slot comes first and the rate token right before the global slot, so a
    /// call is sent as soon as its token is granted: tokens never pile up behind a full bound
    /// and then go out in a burst above the account's rate.
    pub async fn acquire(&self, account_id: &str, operation: &'static str) -> Slot {
        let shared = &self.shared;
        let account = {
            let mut accounts = shared.accounts.lock().expect("accounts lock");
            match accounts.get(account_id) {
                Some(semaphore) => semaphore.clone(),
                None => {
                    let semaphore = Arc::new(Semaphore::new(shared.in_flight_per_account));
                    accounts.insert(account_id.to_string(), semaphore.clone());
                    semaphore
                }
            }
        };
        let account = account
            .acquire_owned()
            .await
            .expect("the semaphore is never closed");
        shared
            .rate
            .until_key_ready(&(account_id.to_string(), operation))
            .await;
        let global = self
            .in_flight
            .clone()
            .acquire_owned()
            .await
            .expect("the semaphore is never closed");
        *shared
            .counts
            .lock()
            .expect("counts lock")
            .entry(operation.to_string())
            .or_default() += 1;
        Slot {
            _account: account,
            _global: global,
        }
    }

    /// The calls made so far, per operation.
    pub fn counts(&self) -> CallCounts {
        self.shared.counts.lock().expect("counts lock").clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn an_account_holds_at_most_its_own_bound_in_flight() {
        let limits = Limits::new(256, 2, 1000);
        let first = limits.acquire("111111111111", "DescribeProjects").await;
        let _second = limits.acquire("111111111111", "DescribeProjects").await;
        // A third call in the same account waits for a slot...
        let third = limits.acquire("111111111111", "DescribeProjects");
        tokio::pin!(third);
        assert!(futures::poll!(third.as_mut()).is_pending());
        // ...while another account is not held up by it.
        let _other = limits.acquire("222222222222", "DescribeProjects").await;
        drop(first);
        let _third = third.await;
        assert_eq!(limits.counts()["DescribeProjects"], 4);
    }

    #[tokio::test]
    async fn the_global_bound_caps_every_account_together() {
        let limits = Limits::new(1, 8, 1000);
        let first = limits.acquire("111111111111", "DescribeProjects").await;
        let second = limits.acquire("222222222222", "DescribeProjects");
        tokio::pin!(second);
        assert!(futures::poll!(second.as_mut()).is_pending());
        drop(first);
        let _second = second.await;
    }

    #[tokio::test]
    async fn lanes_split_the_global_bound_and_share_the_rest() {
        let limits = Limits::new(5, 1, 1000);
        let lanes = [limits.lane_share(0, 2), limits.lane_share(1, 2)];
        // 5 slots in two lanes: 3 and 2, each account with a slot of its own.
        let mut held = Vec::new();
        for (lane, (slots, prefix)) in lanes.iter().zip([(3, "1"), (2, "2")]) {
            for account in 0..slots {
                held.push(
                    lane.acquire(&format!("{prefix}{account}"), "DescribeProjects")
                        .await,
                );
            }
            let another = format!("{prefix}9");
            let next = lane.acquire(&another, "DescribeProjects");
            tokio::pin!(next);
            assert!(futures::poll!(next.as_mut()).is_pending());
        }
        drop(held);
        // An account's own bound (here one slot) is the same in every lane.
        let first = lanes[0].acquire("111111111111", "DescribeProjects").await;
        let in_other_lane = lanes[1].acquire("111111111111", "DescribeProjects");
        tokio::pin!(in_other_lane);
        assert!(futures::poll!(in_other_lane.as_mut()).is_pending());
        drop(first);
        let _second = in_other_lane.await;
        // One count for the run, whichever lane called.
        assert_eq!(limits.counts()["DescribeProjects"], 7);
    }
}
