//! Quick plan benchmark: the plan section of the suite (`benches/suite.rs`) for M alone (every
//! latency and share to copy), printed as the BENCHMARKS.md tables and not written anywhere.
//! Run: `cargo bench --bench plan`; `REKO_BENCH_SHAPES=S,L` picks other sizes, `REKO_BENCH_ONLY`
//! other sections, `REKO_BENCH_OUT=FILE` writes the report. The full suite is `scripts/bench`.

#[allow(dead_code)]
#[path = "suite.rs"]
mod suite;

fn main() {
    suite::plan_only();
}
