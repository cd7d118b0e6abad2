//! CPU-bound work spread over the machine's cores: [`join`] runs two closures at once, on scoped
//! threads. Used where the work is pure and large enough to pay for a thread (the plan's digests
//! beside its decisions); everything that waits on the network stays on the async runtime.

/// The cores this process may run on (its CPU affinity and cgroup quota, as the standard
/// library reads them), 1 when that cannot be told.
pub fn available_cores() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}

/// Runs `a` on another thread while `b` runs on this one, and returns both results. On a
/// single core both run here, one after the other.
pub fn join<A: Send, B>(a: impl FnOnce() -> A + Send, b: impl FnOnce() -> B) -> (A, B) {
    if available_cores() <= 1 {
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
    fn join_returns_both_results() {
        let data = [1, 2, 3];
        let (sum, len) = super::join(|| data.iter().sum::<i32>(), || data.len());
        assert_eq!((sum, len), (6, 3));
    }

    #[test]
    #[should_panic(expected = "helper failed")]
    fn a_panic_in_the_other_thread_reaches_the_caller() {
        let helper = || -> u8 { panic!("helper failed") };
        let _ = super::join(helper, || 1);
    }
}
