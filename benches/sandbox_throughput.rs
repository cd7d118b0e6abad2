//! Sandbox throughput: 32 concurrent AWS SDK clients calling DescribeProjectVersions for about
//! five seconds against an in-process sandbox (no injected latency), printing requests per second
//! and p50/p99 latency. Run with `cargo bench --bench sandbox_throughput`; set
//! `SANDBOX_BENCH_SECS` / `SANDBOX_BENCH_CLIENTS` to change the defaults.
//!
//! The clients and the server share the machine (and the tokio runtime), so the figure is the
//! end-to-end rate a test suite can expect, SDK signing and parsing included.

use std::time::{Duration, Instant};

// mimalloc: with glibc's allocator about a fifth of the CPU here is malloc/free (the SDK
// allocates heavily per call), which says more about glibc than about the sandbox. The figures
// with both allocators are in docs/sandbox.md.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use aws_config::retry::RetryConfig;
use aws_config::stalled_stream_protection::StalledStreamProtectionConfig;
use aws_config::{BehaviorVersion, Region};
use aws_credential_types::Credentials;
use reko_promote::sandbox::seed::{self, ML_ACCOUNT};
use reko_promote::sandbox::{Sandbox, SandboxConfig};

/// CPU seconds (user + system) this process has used, from /proc (Linux); `None` elsewhere.
/// The machine may be shared, so CPU per request is reported beside the wall-clock rate.
pub fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the parenthesised command name; utime and stime are the 12th and 13th.
    let rest = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    // Clock ticks are 100 per second on every Linux this runs on (USER_HZ).
    Some((utime + stime) / 100.0)
}

/// Prints CPU time per request and the rate that would give on `cores` otherwise idle cores.
pub fn report_cpu(cpu_before: Option<f64>, requests: usize) {
    if let (Some(before), Some(after)) = (cpu_before, cpu_seconds()) {
        let per_request = (after - before) / requests.max(1) as f64;
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as f64;
        println!(
            "  CPU {:.0} us per request (clients and server together) -> {:.0} req/s on {cores} idle cores",
            per_request * 1e6,
            cores / per_request
        );
    }
}

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[tokio::main]
async fn main() {
    let secs = env_or("SANDBOX_BENCH_SECS", 5);
    let clients = env_or("SANDBOX_BENCH_CLIENTS", 32) as usize;
    let t = Instant::now();
    let sb = Sandbox::start(SandboxConfig::default())
        .await
        .expect("sandbox starts");
    println!(
        "sandbox start (default organisation, bind, serve): {:.2} ms",
        t.elapsed().as_secs_f64() * 1000.0
    );
    let (key, secret) = sb.credentials("ml").expect("ml account");
    let project = seed::default_project_arn(ML_ACCOUNT, seed::DEFECT_DETECTOR);

    if std::env::var("SANDBOX_BENCH_MODE").as_deref() == Ok("raw") {
        raw::run(&sb, &key, &secret, &project, clients, secs).await;
        return;
    }
    let mut sdk_clients = Vec::with_capacity(clients);
    for _ in 0..clients {
        let cfg = aws_config::defaults(BehaviorVersion::latest())
            .endpoint_url(sb.endpoint())
            .region(Region::new(seed::DEFAULT_REGION))
            .credentials_provider(Credentials::new(&key, &secret, None, None, "bench"))
            .retry_config(RetryConfig::disabled())
            // The stall monitor wraps every body with a throughput tracker; requests here are
            // tiny and local, so it would only add per-request cost to the measurement.
            .stalled_stream_protection(StalledStreamProtectionConfig::disabled())
            .load()
            .await;
        sdk_clients.push(aws_sdk_rekognition::Client::new(&cfg));
    }
    // Warm up connections.
    for c in &sdk_clients {
        c.describe_project_versions()
            .project_arn(&project)
            .send()
            .await
            .expect("warm-up call");
    }

    let cpu_before = cpu_seconds();
    let start = Instant::now();
    let deadline = start + Duration::from_secs(secs);
    let mut tasks = Vec::with_capacity(clients);
    for c in sdk_clients {
        let project = project.clone();
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::with_capacity(16_384);
            let mut errors = 0u64;
            while Instant::now() < deadline {
                let t = Instant::now();
                match c
                    .describe_project_versions()
                    .project_arn(&project)
                    .send()
                    .await
                {
                    Ok(out) => {
                        assert_eq!(out.project_version_descriptions().len(), 3);
                        latencies.push(t.elapsed());
                    }
                    Err(_) => errors += 1,
                }
            }
            (latencies, errors)
        }));
    }
    let mut all = Vec::new();
    let mut errors = 0;
    for t in tasks {
        let (l, e) = t.await.expect("client task");
        all.extend(l);
        errors += e;
    }
    let elapsed = start.elapsed().as_secs_f64();
    all.sort();
    let pct = |p: f64| {
        all.get(((all.len() as f64 * p) as usize).min(all.len().saturating_sub(1)))
            .copied()
            .unwrap_or_default()
    };
    println!(
        "sandbox_throughput: {clients} clients, {:.1} s, {} requests ({errors} errors): {:.0} req/s, p50 {:.2} ms, p99 {:.2} ms",
        elapsed,
        all.len(),
        all.len() as f64 / elapsed,
        pct(0.50).as_secs_f64() * 1000.0,
        pct(0.99).as_secs_f64() * 1000.0,
    );
    report_cpu(cpu_before, all.len());
    sb.shutdown().await;
}

/// Server-only mode (`SANDBOX_BENCH_MODE=raw`): one request signed once and replayed over
/// keep-alive connections, to separate the sandbox's cost from the SDK's.
mod raw {
    use std::time::{Duration, Instant, SystemTime};

    use aws_credential_types::Credentials;
    use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
    use aws_sigv4::sign::v4;
    use reko_promote::sandbox::SandboxHandle;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    pub async fn run(
        sb: &SandboxHandle,
        key: &str,
        secret: &str,
        project: &str,
        clients: usize,
        secs: u64,
    ) {
        let body = format!("{{\"ProjectArn\":\"{project}\"}}");
        let host = sb.addr().to_string();
        let mut headers = vec![
            ("host".to_string(), host.clone()),
            (
                "content-type".to_string(),
                "application/x-amz-json-1.1".to_string(),
            ),
            (
                "x-amz-target".to_string(),
                "RekognitionService.DescribeProjectVersions".to_string(),
            ),
        ];
        let identity = Credentials::new(key, secret, None, None, "bench").into();
        let params = v4::SigningParams::builder()
            .identity(&identity)
            .region("eu-west-1")
            .name("rekognition")
            .time(SystemTime::now())
            .settings(SigningSettings::default())
            .build()
            .expect("params")
            .into();
        let signable = SignableRequest::new(
            "POST",
            format!("{}/", sb.endpoint()),
            headers.iter().map(|(k, v)| (k.as_str(), v.as_str())),
            SignableBody::Bytes(body.as_bytes()),
        )
        .expect("signable");
        let (instructions, _) = sign(signable, &params).expect("sign").into_parts();
        for h in instructions.into_parts().0 {
            headers.push((h.name().to_string(), h.value().to_string()));
        }
        let mut req = format!("POST / HTTP/1.1\r\ncontent-length: {}\r\n", body.len());
        for (k, v) in &headers {
            req.push_str(&format!("{k}: {v}\r\n"));
        }
        req.push_str("\r\n");
        req.push_str(&body);
        let req = std::sync::Arc::new(req.into_bytes());
        let cpu_before = super::cpu_seconds();
        let start = Instant::now();
        let deadline = start + Duration::from_secs(secs);
        let mut tasks = vec![];
        for _ in 0..clients {
            let req = req.clone();
            let addr = sb.addr();
            tasks.push(tokio::spawn(async move {
                let mut s = tokio::net::TcpStream::connect(addr).await.expect("connect");
                s.set_nodelay(true).ok();
                let mut lat = vec![];
                let mut buf = vec![0u8; 64 * 1024];
                while Instant::now() < deadline {
                    let t = Instant::now();
                    s.write_all(&req).await.expect("write");
                    let mut got = 0;
                    loop {
                        let n = s.read(&mut buf[got..]).await.expect("read");
                        assert!(n > 0, "connection closed");
                        got += n;
                        let text = &buf[..got];
                        if let Some(end) = text.windows(4).position(|w| w == b"\r\n\r\n") {
                            let head = String::from_utf8_lossy(&text[..end]).to_ascii_lowercase();
                            assert!(head.starts_with("http/1.1 200"), "{head}");
                            let len: usize = head
                                .lines()
                                .find_map(|l| l.strip_prefix("content-length:"))
                                .and_then(|v| v.trim().parse().ok())
                                .expect("content-length");
                            if got >= end + 4 + len {
                                break;
                            }
                        }
                    }
                    lat.push(t.elapsed());
                }
                lat
            }));
        }
        let mut all = vec![];
        for t in tasks {
            all.extend(t.await.expect("task"));
        }
        let elapsed = start.elapsed().as_secs_f64();
        all.sort();
        let pct = |p: f64| all[((all.len() as f64 * p) as usize).min(all.len() - 1)];
        println!(
            "sandbox_throughput (raw, server only): {clients} connections, {:.1} s, {} requests: {:.0} req/s, p50 {:.2} ms, p99 {:.2} ms",
            elapsed,
            all.len(),
            all.len() as f64 / elapsed,
            pct(0.5).as_secs_f64() * 1000.0,
            pct(0.99).as_secs_f64() * 1000.0
        );
        super::report_cpu(cpu_before, all.len());
    }
}
