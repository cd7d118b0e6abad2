//! The `reko-promote` binary: parse the command line, run it, map failures to an exit code.
//! Everything else lives in the library (`reko_promote::cli` and below).

use std::process::ExitCode;

use clap::Parser;
use reko_promote::cli::{self, Cli};

// mimalloc: with glibc's allocator, malloc and free were a tenth of a plan's CPU time (the SDK
// allocates per request, the plan per placement); see BENCHMARKS.md.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// mimalloc's option number (v3's `enum mi_option_e` in mimalloc.h; the bindings name none).
const MI_OPTION_ARENA_EAGER_COMMIT: libmimalloc_sys::mi_option_t = 4;

/// Keeps mimalloc's peak memory below glibc's: no eager commit of whole arenas. With its defaults
/// a plan of 10,000 placements peaked at 106-112 MiB (glibc: 77-84 MiB); with this and without
/// transparent huge pages (Cargo.toml), at 78-80 MiB. Freed memory is returned after mimalloc's
/// default delay (10 ms), not at once: returned at once, the pages a plan frees and soon needs
/// again (response buffers) were faulted in anew each time (M plan: 4,550 page faults and 76 ms
/// of CPU against 3,980 and 69 ms; L's peak memory 78 MiB against 79 MiB).
fn tune_allocator() {
    // SAFETY: mi_option_set only stores an option value; the option exists in the mimalloc
    // version the crate builds, and the value is in its documented range.
    unsafe {
        libmimalloc_sys::mi_option_set(MI_OPTION_ARENA_EAGER_COMMIT, 0);
    }
}

fn main() -> ExitCode {
    tune_allocator();
    let cli = Cli::parse();
    cli::init_tracing(cli.verbose, cli.quiet);
    match cli::run(cli) {
        Ok(code) => code,
        Err(error) => {
            let mut message = format!("error: {error}");
            for cause in error.chain().skip(1) {
                message.push_str(&format!("\n  caused by: {cause}"));
            }
            eprintln!("{message}");
            ExitCode::from(1)
        }
    }
}
