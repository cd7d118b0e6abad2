//! Measuring tools shared by the benchmarks: running a child process with its own peak RSS and
//! CPU time (`wait4`, through a small launcher process), the benchmark's quota and latency settings on a sandbox, call counts by
//! operation, and the batched minimum of calls and the floor of a plan or an apply.
//!
//! The floor is the time the calls no implementation can avoid take at the quota and the
//! injected latency: the longest per-account dependency chain plus any quota waits
//! (see [`plan_floor_ms`] and [`apply_floor_ms`]; BENCHMARKS.md explains both).

use std::collections::BTreeMap;
use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use reko_promote::sandbox::SandboxHandle;
use reko_promote::sandbox::faults::{ALL_OPERATIONS, Latency};

use super::org::{self, Shape};

/// Requests per second per (account, Rekognition operation), with a burst of one second.
pub const QUOTA_TPS: f64 = 10.0;
/// STS's own quota (AssumeRole / GetCallerIdentity per account): AWS documents 600 requests per
/// second per account and region, far above Rekognition's; the CI account makes every AssumeRole.
pub const STS_TPS: f64 = 600.0;

/// One finished child process.
pub struct ChildRun {
    pub wall: Duration,
    /// Peak resident set of the child (and of any descendants it waited for), KiB.
    pub max_rss_kib: i64,
    /// CPU time of the child (and of any descendants it waited for): user plus system.
    pub cpu: Duration,
    pub success: bool,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
}

impl ChildRun {
    pub fn rss_mib(&self) -> f64 {
        self.max_rss_kib as f64 / 1024.0
    }

    pub fn wall_ms(&self) -> f64 {
        self.wall.as_secs_f64() * 1000.0
    }

    pub fn cpu_ms(&self) -> f64 {
        self.cpu.as_secs_f64() * 1000.0
    }
}

/// First argument of a launcher process.
const LAUNCH_FLAG: &str = "--reko-bench-launch";

/// A command to measure, started through a launcher (see [`launcher`]).
pub struct Measured {
    pub cmd: Command,
    report: tempfile::TempPath,
}

/// `program` to be run under the launcher: this benchmark executable started afresh, small,
/// which spawns `program`, waits for it with `wait4` and writes its peak RSS, CPU time (user +
/// system, from the same `rusage`) and wall time to a report file. The detour matters: Linux counts in a child's ru_maxrss the resident set of the
/// address space it replaced at exec, which for a child of the benchmark process (holding the
/// sandbox, hundreds of MiB for L) is the benchmark's; started from the small launcher, the
/// figure is the program's own. Add arguments and environment to `cmd`; the program inherits
/// the launcher's environment.
pub fn measured(program: impl AsRef<std::ffi::OsStr>) -> Measured {
    let report = tempfile::NamedTempFile::new()
        .expect("report file")
        .into_temp_path();
    let mut cmd = Command::new(std::env::current_exe().expect("current exe"));
    cmd.arg(LAUNCH_FLAG).arg(&*report).arg(program);
    Measured { cmd, report }
}

/// When this process was started as a launcher (by [`measured`]), runs the program and exits
/// with its status; otherwise returns at once. Call it first thing in `main`.
pub fn launcher() {
    let mut args = std::env::args_os().skip(1);
    if args.next().as_deref() != Some(std::ffi::OsStr::new(LAUNCH_FLAG)) {
        return;
    }
    let report = args.next().expect("report path");
    let program = args.next().expect("program");
    let started = Instant::now();
    let child = Command::new(&program)
        .args(args)
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {program:?}: {e}"));
    let (status, usage) = wait(child.id() as libc::pid_t);
    let wall = started.elapsed();
    let cpu = timeval(usage.ru_utime) + timeval(usage.ru_stime);
    std::fs::write(
        &report,
        format!("{} {} {}", usage.ru_maxrss, wall.as_nanos(), cpu.as_nanos()),
    )
    .expect("write the report");
    let code = if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else {
        1
    };
    std::process::exit(code);
}

fn timeval(t: libc::timeval) -> Duration {
    Duration::from_secs(t.tv_sec as u64) + Duration::from_micros(t.tv_usec as u64)
}

/// Waits for child `pid`: its wait status and resource usage.
fn wait(pid: libc::pid_t) -> (libc::c_int, libc::rusage) {
    let mut status = 0;
    // SAFETY: zeroed rusage is a valid value; wait4 fills it and the status for our own child.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    loop {
        let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
        if r == pid {
            return (status, usage);
        }
        let e = std::io::Error::last_os_error();
        assert_eq!(
            e.kind(),
            std::io::ErrorKind::Interrupted,
            "wait4 failed: {e}"
        );
    }
}

/// Runs a [`measured`] command to completion (stdin closed, output captured): wall time from
/// spawn to exit, peak RSS and CPU time of the program itself.
pub fn run_child(measured: Measured) -> ChildRun {
    let Measured { mut cmd, report } = measured;
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    let mut out = child.stdout.take().expect("piped stdout");
    let mut err = child.stderr.take().expect("piped stderr");
    let out = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = out.read_to_end(&mut v);
        v
    });
    let err = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = err.read_to_end(&mut v);
        v
    });
    let status = child.wait().expect("wait for the launcher");
    let stderr = err.join().expect("stderr reader");
    if std::env::var_os("REKO_BENCH_LOG").is_some() {
        eprintln!("{}", String::from_utf8_lossy(&stderr));
    }
    let text = std::fs::read_to_string(&report).unwrap_or_default();
    let mut fields = text.split_whitespace().map(|f| f.parse::<u128>().ok());
    let (Some(Some(rss)), Some(Some(nanos)), Some(Some(cpu_nanos))) =
        (fields.next(), fields.next(), fields.next())
    else {
        panic!(
            "the launcher wrote no report ({status}): {}",
            String::from_utf8_lossy(&stderr)
        );
    };
    ChildRun {
        wall: Duration::from_nanos(nanos as u64),
        max_rss_kib: rss as i64,
        cpu: Duration::from_nanos(cpu_nanos as u64),
        success: status.success(),
        stdout: out.join().expect("stdout reader"),
        stderr,
    }
}

/// `reko-promote ARGS` against the sandbox at `endpoint`, with the CI account's credentials and
/// nothing from the environment (no profile, no config file). `REKO_BENCH_BIN` names another
/// build of the binary to measure (e.g. the previous commit's, for a before/after comparison).
/// `REKO_BENCH_WRAP` runs it under a profiler (`/usr/bin/perf record -g -o FILE --`, or
/// `/usr/bin/valgrind --tool=callgrind`): the wrapper's words come before the program; the
/// figures are then the wrapper's, for profiles and instruction counts, not for the tables.
pub fn reko_promote(endpoint: &str, args: &[&str]) -> Measured {
    let program = std::env::var_os("REKO_BENCH_BIN")
        .unwrap_or_else(|| env!("CARGO_BIN_EXE_reko-promote").into());
    let wrap = std::env::var("REKO_BENCH_WRAP").unwrap_or_default();
    let mut wrap = wrap.split_whitespace();
    let mut m = match wrap.next() {
        Some(wrapper) => {
            let mut m = measured(wrapper);
            m.cmd.args(wrap).arg(program);
            m
        }
        None => measured(program),
    };
    m.cmd
        .args(args)
        .env_clear()
        .env("AWS_ENDPOINT_URL", endpoint)
        .env("AWS_ACCESS_KEY_ID", org::CI_KEY)
        .env("AWS_SECRET_ACCESS_KEY", org::CI_SECRET)
        .env("AWS_REGION", org::REGION)
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env(
            "RUST_LOG",
            // The pipeline's phase timings (`plan computed sessions_ms=...`) are read back.
            std::env::var("REKO_BENCH_LOG")
                .unwrap_or_else(|_| "warn,reko_promote::pipeline=info".into()),
        );
    m
}

/// The flags every measured reko-promote run gets: the client-side rate limit set to the quota
/// (the default, 8/s, sits below AWS's default quotas). `REKO_BENCH_FLAGS` replaces them.
pub fn tool_flags() -> Vec<String> {
    std::env::var("REKO_BENCH_FLAGS")
        .unwrap_or_else(|_| format!("--rate-limit {}", QUOTA_TPS as u32))
        .split_whitespace()
        .map(String::from)
        .collect()
}

/// Sets the benchmark's faults: `latency_ms` on every operation, the quota on every Rekognition
/// operation, STS's quota on STS, and `copy_duration_ms`. Also refills every token bucket and
/// clears the call counters, so each measured run starts alike.
pub fn arm(sb: &SandboxHandle, latency_ms: u64, copy_duration_ms: u64) {
    let mut faults = sb.faults();
    faults.latency.clear();
    faults.latency.insert(
        ALL_OPERATIONS.into(),
        Latency {
            ms: latency_ms,
            jitter_ms: 0,
        },
    );
    faults.tps.clear();
    faults.tps.insert(ALL_OPERATIONS.into(), QUOTA_TPS);
    faults.tps.insert("AssumeRole".into(), STS_TPS);
    faults.tps.insert("GetCallerIdentity".into(), STS_TPS);
    faults.copy_duration_ms = copy_duration_ms;
    sb.set_faults(faults).expect("faults");
    sb.reset_call_counts();
}

/// No latency, no quota: for setting up state quickly.
pub fn disarm(sb: &SandboxHandle) {
    let mut faults = sb.faults();
    faults.latency.clear();
    faults.tps.clear();
    faults.copy_duration_ms = 0;
    sb.set_faults(faults).expect("faults");
}

/// Calls by operation, all accounts together.
pub fn calls_by_operation(sb: &SandboxHandle) -> BTreeMap<String, u64> {
    let mut calls = BTreeMap::new();
    for ((_, op), n) in sb.call_counts() {
        *calls.entry(op).or_default() += n;
    }
    calls
}

/// `Op n, Op n` for a table cell.
pub fn format_calls(calls: &BTreeMap<String, u64>) -> String {
    calls
        .iter()
        .map(|(op, n)| format!("{op} {n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The fewest calls a plan of `shape` can make: per account one AssumeRole (every generated
/// account has a role, so no GetCallerIdentity) and one DescribeProjects per 10 project names;
/// per project, source and destinations, one DescribeProjectVersions per 10 version names; one
/// ListProjectPolicies per cross-account source project.
pub fn plan_minimum(shape: Shape) -> BTreeMap<String, u64> {
    let accounts = shape.accounts() as u64;
    let projects = accounts * shape.source_projects as u64;
    BTreeMap::from([
        ("AssumeRole".to_string(), accounts),
        (
            "DescribeProjects".to_string(),
            accounts * shape.source_projects.div_ceil(10) as u64,
        ),
        (
            "DescribeProjectVersions".to_string(),
            projects * shape.versions_per_project.div_ceil(10) as u64,
        ),
        (
            "ListProjectPolicies".to_string(),
            shape.source_projects as u64,
        ),
    ])
}

/// Time `n` calls of one operation in one account take beyond the first at this quota: a burst
/// of `QUOTA_TPS` passes at once, the rest at `QUOTA_TPS` a second.
pub fn quota_wait_ms(n: u64) -> f64 {
    (n as f64 - QUOTA_TPS).max(0.0) / QUOTA_TPS * 1000.0
}

/// The plan floor: per account AssumeRole → DescribeProjects → DescribeProjectVersions, each
/// needing the previous answer (the project ARN holds a creation timestamp, so it must be read),
/// accounts in parallel: 3 latencies, plus the quota wait of the busiest (account, operation):
/// the source's DescribeProjectVersions (one per project per 10 versions) or a destination's
/// (the same count); ListProjectPolicies runs beside DescribeProjects in the source.
pub fn plan_floor_ms(shape: Shape, latency_ms: u64) -> f64 {
    let busiest_dpv = (shape.source_projects * shape.versions_per_project.div_ceil(10)) as u64;
    let busiest_dp = shape.source_projects.div_ceil(10) as u64;
    3.0 * latency_ms as f64 + quota_wait_ms(busiest_dp) + quota_wait_ms(busiest_dpv)
}

/// The apply floor: the plan's chain (AssumeRole → DescribeProjects → DescribeProjectVersions,
/// with ListProjectPolicies beside it), then the policy check before copying (the source
/// policies read once more: one ListProjectPolicies latency), then CopyProjectVersion (one
/// latency, plus the quota wait of the busiest destination account's copies), the copy itself,
/// and one poll (DescribeProjectVersions) to see it finished.
pub fn apply_floor_ms(shape: Shape, latency_ms: u64, copy_duration_ms: u64) -> f64 {
    let copies_per_account = (shape.source_projects * shape.versions_per_project) as u64;
    plan_floor_ms(shape, latency_ms)
        + latency_ms as f64
        + latency_ms as f64
        + quota_wait_ms(copies_per_account)
        + copy_duration_ms as f64
        + latency_ms as f64
}

/// The fewest calls an apply of `shape` (nothing copied yet) can make: the plan's, the policy
/// check (one more ListProjectPolicies per source project), one CopyProjectVersion per placement,
/// and one poll round (one DescribeProjectVersions per 10 versions per destination project).
pub fn apply_minimum(shape: Shape) -> BTreeMap<String, u64> {
    let mut m = plan_minimum(shape);
    m.insert("CopyProjectVersion".into(), shape.placements() as u64);
    *m.get_mut("ListProjectPolicies").expect("present") += shape.source_projects as u64;
    *m.get_mut("DescribeProjectVersions").expect("present") +=
        (shape.destinations * shape.source_projects * shape.versions_per_project.div_ceil(10))
            as u64;
    m
}

/// The plan's phase timings from its log (`plan computed sessions_ms=A read_ms=B
/// compute_ms=C`), when it printed them: (last session open, all reads done, compute) in ms;
/// the first two overlap and are both measured from the start of the AWS work.
pub fn phases(stderr: &[u8]) -> Option<(u64, u64, u64)> {
    let text = String::from_utf8_lossy(stderr);
    let line = text.lines().rev().find(|l| l.contains("plan computed"))?;
    // Strip colour escapes, then read `name=value` fields.
    let mut clean = String::new();
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            clean.push(c);
        }
    }
    let field = |name: &str| -> Option<u64> {
        clean
            .split_whitespace()
            .find_map(|w| w.strip_prefix(name)?.strip_prefix('=')?.parse().ok())
    };
    Some((
        field("sessions_ms")?,
        field("read_ms")?,
        field("compute_ms")?,
    ))
}

/// Median of `xs` (sorted in place).
pub fn median(xs: &mut [f64]) -> f64 {
    xs.sort_by(|a, b| a.total_cmp(b));
    if xs.is_empty() {
        return f64::NAN;
    }
    let n = xs.len();
    if n % 2 == 1 {
        xs[n / 2]
    } else {
        (xs[n / 2 - 1] + xs[n / 2]) / 2.0
    }
}
