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

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use super::join_paced;

    #[tokio::test(flavor = "current_thread")]
    async fn outputs_come_in_input_order_whatever_order_the_futures_end_in() {
        // The later a future starts, the sooner it ends.
        let outputs = join_paced((0..40u64).map(|i| async move {
            tokio::time::sleep(Duration::from_millis(2 * (40 - i))).await;
            i
        }))
        .await;
        assert_eq!(outputs, (0..40).collect::<Vec<_>>());
    }

    #[tokio::test(flavor = "current_thread")]
    async fn every_future_runs_at_once_not_one_after_another() {
        // Each future waits until all of them have arrived: run one at a time, this never ends.
        let barrier = Arc::new(tokio::sync::Barrier::new(50));
        let outputs = tokio::time::timeout(
            Duration::from_secs(10),
            join_paced((0..50).map(|i| {
                let barrier = barrier.clone();
                async move {
                    barrier.wait().await;
                    i * 2
                }
            })),
        )
        .await
        .expect("all 50 futures ran concurrently");
        assert_eq!(outputs, (0..50).map(|i| i * 2).collect::<Vec<_>>());
    }

    #[tokio::test(flavor = "current_thread")]
    async fn nothing_to_run_gives_nothing() {
        let outputs: Vec<u8> = join_paced(Vec::<std::future::Ready<u8>>::new()).await;
        assert!(outputs.is_empty());
    }
}
