//! CPU-bound work spread over the machine's cores: [`map`], an order-keeping parallel map on
//! scoped threads, and [`join`], two closures at once. Used where the work is pure and large
//! enough to pay for a thread (parsing manifest files, the plan's digests); everything that
//! waits on the network stays on the async runtime.

use std::sync::atomic::{AtomicUsize, Ordering};

/// `items.iter().map(f).collect()`, computed on up to as many threads as the machine has cores
/// (one item per step, so uneven items balance), with the results in the order of `items`.
/// One item, or one core, runs on the calling thread alone.
pub fn map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let threads = std::thread::available_parallelism()
        .map_or(1, usize::from)
        .min(items.len());
    if threads <= 1 {
        return items.iter().map(f).collect();
    }
    let next = AtomicUsize::new(0);
    let work = || {
        let mut done = Vec::new();
        loop {
            let index = next.fetch_add(1, Ordering::Relaxed);
            let Some(item) = items.get(index) else {
                return done;
            };
            done.push((index, f(item)));
        }
    };
    let mut results: Vec<(usize, R)> = std::thread::scope(|scope| {
        let helpers: Vec<_> = (1..threads).map(|_| scope.spawn(work)).collect();
        let mut all = work();
        for helper in helpers {
            all.extend(
                helper
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
            );
        }
        all
    });
    results.sort_unstable_by_key(|(index, _)| *index);
    results.into_iter().map(|(_, result)| result).collect()
}

/// Runs `a` on another thread while `b` runs on this one, and returns both results. On a
/// single core both run here, one after the other.
pub fn join<A: Send, B>(a: impl FnOnce() -> A + Send, b: impl FnOnce() -> B) -> (A, B) {
    if std::thread::available_parallelism().map_or(1, usize::from) <= 1 {
        let a = a();
        return (a, b());
    }
    std::thread::scope(|scope| {
        let a = scope.spawn(a);
        let b = b();
        let a = a
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        (a, b)
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn map_keeps_the_order_of_the_items() {
        let items: Vec<u64> = (0..1_000).collect();
        // Uneven work: early items are the slowest.
        let squares = super::map(&items, |&i| {
            let mut x = i;
            for _ in 0..(1_000 - i) {
                x = std::hint::black_box(x);
            }
            x * x
        });
        assert_eq!(squares, items.iter().map(|i| i * i).collect::<Vec<_>>());
    }

    #[test]
    fn map_of_nothing_and_of_one() {
        assert!(super::map(&Vec::<u8>::new(), |_| 1).is_empty());
        assert_eq!(super::map(&[7], |x| x + 1), vec![8]);
    }

    #[test]
    fn join_returns_both_results() {
        let data = [1, 2, 3];
        let (sum, len) = super::join(|| data.iter().sum::<i32>(), || data.len());
        assert_eq!((sum, len), (6, 3));
    }

    #[test]
    #[should_panic(expected = "helper failed")]
    fn a_panic_in_a_helper_thread_reaches_the_caller() {
        let _ = super::map(&[1, 2, 3, 4], |&i| {
            if i == 4 {
                panic!("helper failed");
            }
            i
        });
    }
}
