//! Benchmark of `reko-promote plan` against the sandbox: a generated organisation, injected
//! latency, the real release binary as a child process (so its peak memory is its own).
//!
//! Prints, per scenario: wall time, API calls by operation (counted by the sandbox), the batched
//! minimum of calls, peak RSS of the plan process, and the floor: the time the unavoidable calls
//! take at the injected latency (see `floor_ms`). Run: `cargo bench --bench plan`.
//! `REKO_BENCH_SCENARIOS=M` picks scenarios by name prefix.

#[path = "support/org.rs"]
mod org;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use reko_promote::sandbox::faults::{ALL_OPERATIONS, Latency};
use reko_promote::sandbox::{Faults, Sandbox, SandboxConfig, SandboxHandle};

/// The Rekognition operations a plan calls, each under the benchmark's quota.
const REKOGNITION_READS: [&str; 3] = [
    "DescribeProjects",
    "DescribeProjectVersions",
    "ListProjectPolicies",
];

struct Scenario {
    name: &'static str,
    shape: org::Shape,
    latency_ms: u64,
    /// Fraction of placements already copied.
    copied: f64,
}

/// The fewest calls a plan can make for `shape`: per account a session (AssumeRole; a role
/// needs no GetCallerIdentity) and one DescribeProjects per 10 project names; per project one
/// DescribeProjectVersions per 10 version names; one ListProjectPolicies per source project.
fn minimum_calls(shape: org::Shape) -> BTreeMap<&'static str, u64> {
    let accounts = shape.destinations as u64 + 1;
    let per_account_projects = shape.source_projects.div_ceil(10) as u64;
    let batches = shape.versions_per_project.div_ceil(10) as u64;
    let projects = (shape.destinations as u64 + 1) * shape.source_projects as u64;
    BTreeMap::from([
        ("AssumeRole", accounts),
        ("DescribeProjects", accounts * per_account_projects),
        ("DescribeProjectVersions", projects * batches),
        ("ListProjectPolicies", shape.source_projects as u64),
    ])
}

/// The floor: the calls no plan can avoid, on their critical path. Each account needs
/// AssumeRole, then DescribeProjects, then its DescribeProjectVersions batches; accounts are
/// independent, so with unbounded concurrency the floor is those three latencies in a row, unless the per-account quota (10 requests/s per operation, bursts of 10)
/// makes an account's batches wait: n calls of one operation in one account take at least
/// (n-10)/10 s.
fn floor_ms(shape: org::Shape, latency_ms: u64, quota_per_s: f64) -> f64 {
    let chain = 3.0 * latency_ms as f64;
    // The quota is a token bucket holding one second of requests: a burst of `quota_per_s`
    // passes at once, the rest at `quota_per_s` a second.
    let busiest = (shape.source_projects * shape.versions_per_project.div_ceil(10)) as f64;
    let quota_wait = ((busiest - quota_per_s).max(0.0) / quota_per_s) * 1000.0;
    chain + quota_wait
}

async fn prepare(sb: &SandboxHandle, shape: org::Shape, copied: f64) {
    if copied <= 0.0 {
        return;
    }
    // Copy a share of the placements through the sandbox before the run, as the destination's
    // own identity (same route a real apply takes).
    let state = sb.state();
    let mut copies = Vec::new();
    for i in 0..shape.destinations {
        let dest = org::destination_account(i);
        let (key, secret) = sb.credentials(&format!("dest-{i:03}")).expect("seeded");
        let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
            .endpoint_url(sb.endpoint())
            .region(aws_config::Region::new(org::REGION))
            .credentials_provider(aws_credential_types::Credentials::new(
                key, secret, None, None, "bench",
            ))
            .load()
            .await;
        let client = aws_sdk_rekognition::Client::new(&config);
        for p in 0..shape.source_projects {
            let source = &state.rekognition[org::SOURCE_ACCOUNT][org::REGION].projects
                [&org::project_name(p)];
            let dest_arn = state.rekognition[&dest][org::REGION].projects[&org::project_name(p)]
                .arn
                .clone();
            let take = (shape.versions_per_project as f64 * copied).round() as usize;
            for v in 0..take {
                let name = org::version_name(p, v);
                copies.push(
                    client
                        .clone()
                        .copy_project_version()
                        .source_project_arn(&source.arn)
                        .source_project_version_arn(&source.versions[&name].arn)
                        .destination_project_arn(&dest_arn)
                        .version_name(name)
                        .output_config(
                            aws_sdk_rekognition::types::OutputConfig::builder()
                                .s3_bucket(format!("dest-{i:03}-models"))
                                .build(),
                        ),
                );
            }
        }
    }
    use futures::StreamExt;
    let mut sends =
        futures::stream::iter(copies.into_iter().map(|c| c.send())).buffer_unordered(64);
    while let Some(result) = sends.next().await {
        result.expect("setup copy");
    }
}

fn max_rss_kib_of_children() -> i64 {
    // SAFETY: getrusage fills the struct we pass; RUSAGE_CHILDREN covers waited-for children.
    unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage);
        usage.ru_maxrss
    }
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let only = std::env::var("REKO_BENCH_SCENARIOS").unwrap_or_default();
    let m = org::Shape {
        destinations: 50,
        source_projects: 2,
        versions_per_project: 10,
    };
    let scenarios = [
        Scenario {
            name: "M plan, 20 ms, 100% to copy",
            shape: m,
            latency_ms: 20,
            copied: 0.0,
        },
        Scenario {
            name: "M plan, 20 ms, all unchanged",
            shape: m,
            latency_ms: 20,
            copied: 1.0,
        },
        Scenario {
            name: "M plan, 0 ms, 100% to copy",
            shape: m,
            latency_ms: 0,
            copied: 0.0,
        },
    ];
    println!(
        "| scenario | placements | wall (ms) | floor (ms) | ratio | calls | minimum | peak RSS (MiB) |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|");
    for scenario in scenarios
        .iter()
        .filter(|s| s.name.starts_with(only.as_str()))
    {
        runtime.block_on(run(scenario));
    }
}

async fn run(scenario: &Scenario) {
    let faults = Faults {
        copy_duration_ms: 0,
        ..Faults::default()
    };
    let sb = Sandbox::start(SandboxConfig {
        seed: org::seed(scenario.shape),
        faults: Some(faults.clone()),
        ..SandboxConfig::default()
    })
    .await
    .expect("sandbox");
    prepare(&sb, scenario.shape, scenario.copied).await;
    let mut faults = sb.faults();
    faults.latency.insert(
        ALL_OPERATIONS.into(),
        Latency {
            ms: scenario.latency_ms,
            jitter_ms: 0,
        },
    );
    // The quota models Rekognition's per-account TPS quotas; STS (AssumeRole from the one CI
    // account, GetCallerIdentity) has quotas of its own, far above these.
    for operation in REKOGNITION_READS {
        faults.tps.insert(operation.into(), 10.0);
    }
    sb.set_faults(faults).expect("faults");
    let dir = tempfile::tempdir().expect("tempdir");
    org::write_manifests(scenario.shape, dir.path());
    sb.reset_call_counts();

    let endpoint = sb.endpoint();
    let manifests = dir.path().to_path_buf();
    let started = Instant::now();
    let output = tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_reko-promote"))
            .args(["plan", "--format", "json"])
            .arg(&manifests)
            .env_clear()
            .env("AWS_ENDPOINT_URL", endpoint)
            .env("AWS_ACCESS_KEY_ID", org::CI_KEY)
            .env("AWS_SECRET_ACCESS_KEY", org::CI_SECRET)
            .env("AWS_REGION", org::REGION)
            .env("AWS_CONFIG_FILE", "/dev/null")
            .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
            .env(
                "RUST_LOG",
                std::env::var("REKO_BENCH_LOG").unwrap_or_else(|_| "warn".into()),
            )
            .output()
            .expect("run reko-promote")
    })
    .await
    .expect("join");
    let wall = started.elapsed();
    assert!(
        output.status.success(),
        "plan failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let plan: serde_json::Value = serde_json::from_slice(&output.stdout).expect("plan JSON");
    if plan["summary"]["unknown"].as_u64() != Some(0) {
        eprintln!("unknown entries, e.g.: {}", plan["entries"][0]["reason"]);
    }
    let placements = plan["entries"].as_array().map_or(0, Vec::len);
    assert_eq!(placements, scenario.shape.placements());
    let expected_copies = scenario.shape.placements()
        - (scenario.shape.placements() as f64 * scenario.copied).round() as usize;
    assert_eq!(
        plan["summary"]["copy"].as_u64(),
        Some(expected_copies as u64),
        "{}",
        plan["summary"]
    );

    let mut calls: BTreeMap<String, u64> = BTreeMap::new();
    for ((_, op), n) in sb.call_counts() {
        *calls.entry(op).or_default() += n;
    }
    let total: u64 = calls.values().sum();
    let minimum: u64 = minimum_calls(scenario.shape).values().sum();
    let floor = floor_ms(scenario.shape, scenario.latency_ms, 10.0);
    let wall_ms = wall.as_secs_f64() * 1000.0;
    println!(
        "| {} | {} | {:.0} | {:.0} | {:.1}x | {} | {} | {:.1} |",
        scenario.name,
        placements,
        wall_ms,
        floor,
        if floor > 0.0 {
            wall_ms / floor
        } else {
            f64::NAN
        },
        total,
        minimum,
        max_rss_kib_of_children() as f64 / 1024.0
    );
    eprintln!("  calls by operation: {calls:?}");
    if std::env::var("REKO_BENCH_LOG").is_ok() {
        eprintln!("{}", String::from_utf8_lossy(&output.stderr));
    }
    if total != minimum {
        eprintln!(
            "  note: {} calls above the batched minimum {:?}",
            total as i64 - minimum as i64,
            minimum_calls(scenario.shape)
        );
    }
    sb.shutdown().await;
    let _ = Duration::ZERO;
}
