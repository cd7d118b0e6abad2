//! Client-side limits on calls to AWS: a bound on concurrent requests, a token-bucket rate
//! limit per account and operation, and a count of the calls made per operation.
//!
//! The SDK's own retry (with backoff on throttling) sits under these: the limits keep a large
//! plan from causing throttling in the first place, the retries absorb what happens anyway.

use std::collections::BTreeMap;
use std::num::NonZeroU32;
use std::sync::Mutex;

use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use tokio::sync::{Semaphore, SemaphorePermit};

/// Calls made, per operation name.
pub type CallCounts = BTreeMap<String, u64>;

/// The limits of one run.
pub struct Limits {
    concurrency: Semaphore,
    rate: DefaultKeyedRateLimiter<(String, &'static str)>,
    counts: Mutex<CallCounts>,
}

/// Holds a place among the concurrent requests until dropped.
pub struct Slot<'a> {
    _permit: SemaphorePermit<'a>,
}

impl Limits {
    pub fn new(parallelism: usize, per_second: u32) -> Self {
        let per_second = NonZeroU32::new(per_second).unwrap_or(NonZeroU32::MIN);
        Limits {
            concurrency: Semaphore::new(parallelism),
            rate: RateLimiter::keyed(Quota::per_second(per_second)),
            counts: Mutex::new(BTreeMap::new()),
        }
    }

    /// Waits until `operation` may be called in `account_id`, counts the call, and holds a
    /// concurrency slot for its duration.
    pub async fn acquire(&self, account_id: &str, operation: &'static str) -> Slot<'_> {
        self.rate
            .until_key_ready(&(account_id.to_string(), operation))
            .await;
        let permit = self
            .concurrency
            .acquire()
            .await
            .expect("the semaphore is never closed");
        *self
            .counts
            .lock()
            .expect("counts lock")
            .entry(operation.to_string())
            .or_default() += 1;
        Slot { _permit: permit }
    }

    /// The calls made so far, per operation.
    pub fn counts(&self) -> CallCounts {
        self.counts.lock().expect("counts lock").clone()
    }
}
