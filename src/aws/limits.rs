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
use tokio::sync::{OwnedSemaphorePermit, Semaphore, SemaphorePermit};

/// Calls made, per operation name.
pub type CallCounts = BTreeMap<String, u64>;

/// The limits of one run.
pub struct Limits {
    in_flight: Semaphore,
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
pub struct Slot<'a> {
    _account: OwnedSemaphorePermit,
    _global: SemaphorePermit<'a>,
}

impl Limits {
    /// `parallelism` requests in flight at most in all, `per_account` in each account, and
    /// `per_second` calls per second of each operation in each account.
    pub fn new(parallelism: usize, per_account: usize, per_second: u32) -> Self {
        let per_second = NonZeroU32::new(per_second).unwrap_or(NonZeroU32::MIN);
        Limits {
            in_flight: Semaphore::new(parallelism.max(1)),
            in_flight_per_account: per_account.max(1),
            accounts: Mutex::new(HashMap::new()),
            // The standard library's monotonic clock, not a TSC clock (quanta): that one
            // calibrates itself on first use by spinning, measured at 4 to 60 ms of CPU before
            // a plan's first call, while a rate of a few calls per second needs no cheaper clock.
            rate: RateLimiter::dashmap_with_clock(Quota::per_second(per_second), MonotonicClock),
            counts: Mutex::new(BTreeMap::new()),
        }
    }

    /// Waits until `operation` may be called in `account_id`, counts the call, and holds the
    /// account's and the run's in-flight slots for its duration.
    ///
    /// The account's slot comes first and the rate token right before the global slot, so a
    /// call is sent as soon as its token is granted: tokens never pile up behind a full bound
    /// and then go out in a burst above the account's rate.
    pub async fn acquire(&self, account_id: &str, operation: &'static str) -> Slot<'_> {
        let account = {
            let mut accounts = self.accounts.lock().expect("accounts lock");
            match accounts.get(account_id) {
                Some(semaphore) => semaphore.clone(),
                None => {
                    let semaphore = Arc::new(Semaphore::new(self.in_flight_per_account));
                    accounts.insert(account_id.to_string(), semaphore.clone());
                    semaphore
                }
            }
        };
        let account = account
            .acquire_owned()
            .await
            .expect("the semaphore is never closed");
        self.rate
            .until_key_ready(&(account_id.to_string(), operation))
            .await;
        let global = self
            .in_flight
            .acquire()
            .await
            .expect("the semaphore is never closed");
        *self
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
        self.counts.lock().expect("counts lock").clone()
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
}
