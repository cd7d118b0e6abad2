//! Concurrency that lets each request leave as soon as it is signed: [`join_paced`], a
//! `join_all` that starts its futures one per turn of the runtime. What each future does, and
//! the bounds on requests in flight, are left to the callers and to `aws::limits`.
//!
//! Why: a plan opens a chain of calls per account, dozens at once. Started together in one
//! poll (`join_all`), every chain signs its first request and starts its TCP connect before
//! the runtime gets back to its I/O driver, so no request is written until the last one is
//! signed: the first round trip waits behind all of that CPU time instead of overlapping it.
//! Started one per turn, the runtime polls its driver between two starts, so the connection
//! opened for one chain completes and its request is on the wire while the next is signed.

use std::future::Future;

use futures::{FutureExt, StreamExt, stream::FuturesUnordered};

/// Runs `futures` concurrently and returns their outputs in input order, like
/// `futures::future::join_all`, but starts them one per turn of the runtime: between two starts
/// the futures already started make progress and the runtime polls its I/O driver.
pub async fn join_paced<F>(futures: impl IntoIterator<Item = F>) -> Vec<F::Output>
where
    F: Future,
{
    let mut running = FuturesUnordered::new();
    let mut done: Vec<(usize, F::Output)> = Vec::new();
    for (index, future) in futures.into_iter().enumerate() {
        running.push(future.map(move |output| (index, output)));
        // Drive the started futures without waiting (the new one runs to its first wait)...
        while let Some(Some(finished)) = running.next().now_or_never() {
            done.push(finished);
        }
        // ...then give the runtime a turn: spawned connection tasks write their requests and
        // the I/O driver is polled before the next future starts.
        tokio::task::yield_now().await;
    }
    while let Some(finished) = running.next().await {
        done.push(finished);
    }
    done.sort_unstable_by_key(|(index, _)| *index);
    done.into_iter().map(|(_, output)| output).collect()
}
