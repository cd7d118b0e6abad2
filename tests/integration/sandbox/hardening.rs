//! The sandbox as a program users run on their machines: what an attacker with only a printed
//! access key id, a web page in the user's browser, or a neighbour on the network can do. Each
//! test sends what used to get through (or crash the server) and checks the answer AWS gives.

use std::os::unix::fs::PermissionsExt;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use reko_promote::sandbox::seed::DEFAULT_REGION;
use reko_promote::sandbox::{SandboxArgs, SandboxConfig, SandboxError};

use super::helpers::*;
use super::rawsig::{Signing, amz_now, authorization, http2_post};

const DESCRIBE: &str = "RekognitionService.DescribeProjects";
const JSON: &str = "application/x-amz-json-1.1";
const FORM: &str = "application/x-www-form-urlencoded; charset=utf-8";
const STS_BODY: &[u8] = b"Action=GetCallerIdentity&Version=2011-06-15";

/// Headers of a Rekognition DescribeProjects (or an STS GetCallerIdentity) to `sb`, signed by
/// hand as `signing` says.
fn request(
    sb: &TestSandbox,
    sts: bool,
    signing: &Signing<'_>,
    body: &[u8],
) -> Vec<(String, String)> {
    let mut headers: Vec<(String, String)> = vec![
        ("host".into(), sb.addr().to_string()),
        ("x-amz-date".into(), signing.amz_date.to_string()),
    ];
    if sts {
        headers.push(("content-type".into(), FORM.into()));
    } else {
        headers.push(("content-type".into(), JSON.into()));
        headers.push(("x-amz-target".into(), DESCRIBE.into()));
    }
    let auth = authorization(signing, &headers, body);
    headers.push(("authorization".into(), auth));
    headers
}

/// Sends that request over HTTP/1.1 or HTTP/2, with its body.
async fn send(sb: &TestSandbox, sts: bool, signing: &Signing<'_>, http2: bool) -> RawResponse {
    let body: &[u8] = if sts { STS_BODY } else { b"{}" };
    let headers = request(sb, sts, signing, body);
    if http2 {
        http2_post(sb, "/", &headers, body).await
    } else {
        raw_http(sb, "POST", "/", &headers, body).await
    }
}

fn json_error(r: &RawResponse) -> (String, String) {
    let j = r.json();
    (
        j["__type"].as_str().unwrap_or_default().to_string(),
        j["Message"].as_str().unwrap_or_default().to_string(),
    )
}

fn xml_code(r: &RawResponse) -> String {
    let start = r.body.find("<Code>").map(|i| i + 6).unwrap_or(0);
    let end = r.body.find("</Code>").unwrap_or(start);
    r.body[start..end].to_string()
}

#[tokio::test]
async fn signed_headers_must_include_host_and_x_amz_date() {
    let sb = start().await;
    let (key, secret) = sb.credentials("ml").unwrap();
    let now = amz_now();
    let base = Signing {
        key: &key,
        secret: &secret,
        amz_date: &now,
        scope_date: &now[..8],
        region: DEFAULT_REGION,
        service: "rekognition",
        signed: &[],
    };
    let signing = |signed, service| Signing {
        signed,
        service,
        ..base
    };
    // The hand signer is right: everything signed, the request verifies.
    let full = signing(
        &["content-type", "host", "x-amz-date", "x-amz-target"],
        "rekognition",
    );
    let r = send(&sb, false, &full, false).await;
    assert_eq!(r.status, 200, "{}", r.body);

    // Without host (this used to panic inside verification and drop the connection).
    let no_host = signing(
        &["content-type", "x-amz-date", "x-amz-target"],
        "rekognition",
    );
    let r = send(&sb, false, &no_host, false).await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert_eq!(
        json_error(&r),
        (
            "IncompleteSignatureException".into(),
            "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.".into()
        )
    );
    // Without x-amz-date.
    let no_date = signing(&["content-type", "host", "x-amz-target"], "rekognition");
    let r = send(&sb, false, &no_date, false).await;
    assert_eq!(
        json_error(&r),
        (
            "IncompleteSignatureException".into(),
            "'X-Amz-Date' must be a 'SignedHeader' in the AWS Authorization.".into()
        )
    );
    // STS answers in its own form.
    let sts_no_host = signing(&["content-type", "x-amz-date"], "sts");
    let r = send(&sb, true, &sts_no_host, false).await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert_eq!(xml_code(&r), "IncompleteSignature", "{}", r.body);
    // Nothing of this counted as a call, and the server still serves.
    assert_eq!(sb.calls_of("DescribeProjects"), 1);
    assert_still_serving(&sb).await;
}

#[tokio::test]
async fn a_correctly_signed_http2_request_verifies() {
    let sb = start().await;
    let (key, secret) = sb.credentials("ml").unwrap();
    let now = amz_now();
    for (sts, service, signed) in [
        (
            false,
            "rekognition",
            &["content-type", "host", "x-amz-date", "x-amz-target"][..],
        ),
        (true, "sts", &["content-type", "host", "x-amz-date"][..]),
    ] {
        let signing = Signing {
            key: &key,
            secret: &secret,
            amz_date: &now,
            scope_date: &now[..8],
            region: DEFAULT_REGION,
            service,
            signed,
        };
        // Signed for host = the sandbox's address; HTTP/2 carries it as :authority, no Host header.
        let r = send(&sb, sts, &signing, true).await;
        assert_eq!(r.status, 200, "{service}: {}", r.body);
        if sts {
            assert!(
                r.body.contains("<Account>111111111111</Account>"),
                "{}",
                r.body
            );
        } else {
            assert!(r.json()["ProjectDescriptions"].is_array(), "{}", r.body);
        }
    }
}

#[tokio::test]
async fn the_credential_scope_must_name_the_service_and_the_request_date() {
    let sb = start().await;
    let (key, secret) = sb.credentials("ml").unwrap();
    let now = amz_now();
    let today = &now[..8];
    let base = Signing {
        key: &key,
        secret: &secret,
        amz_date: &now,
        scope_date: today,
        region: DEFAULT_REGION,
        service: "rekognition",
        signed: &["content-type", "host", "x-amz-date", "x-amz-target"],
    };
    let scoped = |service, scope_date| Signing {
        service,
        scope_date,
        ..base
    };
    // An s3-scoped signature (correct for s3) is not a Rekognition signature.
    let r = send(&sb, false, &scoped("s3", today), false).await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert_eq!(
        json_error(&r),
        (
            "InvalidSignatureException".into(),
            "Credential should be scoped to correct service: 'rekognition'. ".into()
        )
    );
    // A Rekognition-scoped signature is not an STS one.
    let sts_signed = Signing {
        signed: &["content-type", "host", "x-amz-date"],
        ..scoped("rekognition", today)
    };
    let r = send(&sb, true, &sts_signed, false).await;
    assert_eq!(r.status, 403, "{}", r.body);
    assert_eq!(xml_code(&r), "SignatureDoesNotMatch");
    assert!(
        r.body
            .contains("Credential should be scoped to correct service: &apos;sts&apos;.")
            || r.body
                .contains("Credential should be scoped to correct service: 'sts'."),
        "{}",
        r.body
    );
    // An empty scope date, and another day, are refused.
    for date in ["", "20200101"] {
        let r = send(&sb, false, &scoped("rekognition", date), false).await;
        let (code, message) = json_error(&r);
        assert_eq!(code, "InvalidSignatureException", "{date}: {}", r.body);
        assert!(
            message.starts_with(&format!(
                "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '{date}' != '{today}'"
            )),
            "{message}"
        );
    }
    assert_eq!(sb.total_calls(), 0);
}

#[tokio::test]
async fn the_admin_endpoint_answers_only_local_requests() {
    let sb = start().await;
    let json = ("content-type".to_string(), "application/json".to_string());
    let port = sb.addr().port();
    // DNS rebinding: a page of evil.example resolving to 127.0.0.1 sends its own name as Host.
    for host in [format!("evil.example:{port}"), "evil.example".into()] {
        let r = raw_http(
            &sb,
            "GET",
            "/_sandbox/state",
            &[("host".into(), host.clone())],
            b"",
        )
        .await;
        assert_eq!(r.status, 403, "{host}: {}", r.body);
        assert!(!r.body.contains("secret_access_key"), "{}", r.body);
    }
    for host in [
        format!("localhost:{port}"),
        format!("127.0.0.1:{port}"),
        format!("[::1]:{port}"),
    ] {
        let r = raw_http(
            &sb,
            "GET",
            "/_sandbox/health",
            &[("host".into(), host)],
            b"",
        )
        .await;
        assert_eq!(r.status, 200);
    }
    // Cross-origin writes: a form or text/plain POST (no preflight in a browser), or any foreign
    // Origin, are refused and change nothing.
    rek(&sb, "ml")
        .await
        .create_project()
        .project_name("kept")
        .send()
        .await
        .unwrap();
    for headers in [
        vec![("content-type".to_string(), "text/plain".to_string())],
        vec![(
            "content-type".to_string(),
            "application/x-www-form-urlencoded".to_string(),
        )],
        vec![],
        vec![
            json.clone(),
            ("origin".to_string(), "http://evil.example".to_string()),
        ],
        vec![json.clone(), ("origin".to_string(), "null".to_string())],
    ] {
        let r = raw_http(&sb, "POST", "/_sandbox/reset", &headers, b"{}").await;
        assert_eq!(r.status, 403, "{headers:?}: {}", r.body);
        let put = raw_http(
            &sb,
            "PUT",
            "/_sandbox/faults",
            &headers,
            br#"{"copy_duration_ms": 1}"#,
        )
        .await;
        assert_eq!(put.status, 403, "{headers:?}: {}", put.body);
    }
    assert!(
        sb.state().rekognition["111111111111"][DEFAULT_REGION]
            .projects
            .contains_key("kept")
    );
    assert_ne!(sb.faults().copy_duration_ms, 1);
    // A local tool (JSON, and a loopback Origin if any) still can.
    let local_origin = ("origin".to_string(), format!("http://localhost:{port}"));
    let r = raw_http(
        &sb,
        "POST",
        "/_sandbox/reset",
        &[json.clone(), local_origin],
        b"",
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(
        !sb.state().rekognition["111111111111"][DEFAULT_REGION]
            .projects
            .contains_key("kept")
    );
    // Over HTTP/2 the authority is :authority; a loopback one is let through.
    let r = http2_post(&sb, "/_sandbox/reset", &[json], b"").await;
    assert_eq!(r.status, 200, "{}", r.body);
}

#[test]
fn a_non_loopback_listen_needs_allow_remote() {
    let args = SandboxArgs {
        listen: "0.0.0.0:0".parse().unwrap(),
        ..SandboxArgs::default()
    };
    match args.to_config() {
        Err(e @ SandboxError::RemoteListen { .. }) => {
            let text = e.to_string();
            assert!(
                text.contains("0.0.0.0:0") && text.contains("--allow-remote"),
                "{text}"
            );
        }
        other => panic!("expected a refusal, got {:?}", other.map(|c| c.listen)),
    }
    let allowed = SandboxArgs {
        allow_remote: true,
        ..args.clone()
    };
    assert_eq!(
        allowed.to_config().unwrap().listen,
        "0.0.0.0:0".parse().unwrap()
    );
    for loopback in ["127.0.0.1:0", "[::1]:0"] {
        let local = SandboxArgs {
            listen: loopback.parse().unwrap(),
            ..SandboxArgs::default()
        };
        assert!(local.to_config().is_ok(), "{loopback}");
    }
}

#[test]
fn the_binary_refuses_a_remote_listen_and_warns_when_allowed() {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};
    let bin = env!("CARGO_BIN_EXE_reko-promote");
    let out = Command::new(bin)
        .args(["sandbox", "--listen", "0.0.0.0:0"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("--allow-remote"), "{stderr}");

    let mut child = Command::new(bin)
        .args(["sandbox", "--listen", "0.0.0.0:0", "--allow-remote"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stderr.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    let _ = child.kill();
    let _ = child.wait();
    assert!(
        first.starts_with("warning: the sandbox listens on 0.0.0.0:"),
        "{first}"
    );
}

#[tokio::test]
async fn state_files_are_private_and_written_through_a_unique_temp_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.json");
    // Another local user plants the old fixed temporary name, pointing at a file of theirs: the
    // sandbox used to write every secret into it.
    let planted = dir.path().join("planted");
    std::fs::write(&planted, "").unwrap();
    std::os::unix::fs::symlink(&planted, dir.path().join("state.json.tmp")).unwrap();
    let sb = start_with(SandboxConfig {
        state_file: Some(path.clone()),
        faults: Some(fast_faults()),
        ..SandboxConfig::default()
    })
    .await;
    rek(&sb, "ml")
        .await
        .create_project()
        .project_name("persisted")
        .send()
        .await
        .unwrap();
    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "state file mode {mode:o}");
    assert!(
        std::fs::read_to_string(&path)
            .unwrap()
            .contains("persisted")
    );
    assert_eq!(std::fs::read_to_string(&planted).unwrap(), "");
    // No temporary file is left behind.
    let mut names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .collect();
    names.sort();
    assert_eq!(names, ["planted", "state.json", "state.json.tmp"]);
}

/// Random `SignedHeaders` lists, scopes and HTTP versions: the server never panics (it answers
/// every request, and a normal call afterwards), every answer is a well-formed AWS answer, and
/// exactly the requests signed by the rules (host and x-amz-date signed, every signed header
/// sent, the right service and date) succeed.
#[tokio::test]
async fn random_signed_headers_over_http1_and_http2_never_panic() {
    let sb = start().await;
    let (key, secret) = sb.credentials("ml").unwrap();
    let now = amz_now();
    let seed: u64 = std::env::var("REKO_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(rand::random);
    let mut rng = StdRng::seed_from_u64(seed);
    // Each name with the chance it is listed: the rules' names often, the wrong ones (absent,
    // pseudo, empty) seldom, so that both outcomes are common.
    let candidates = [
        ("host", 0.6),
        ("Host", 0.3),
        ("x-amz-date", 0.6),
        ("X-Amz-Date", 0.3),
        ("content-type", 0.7),
        ("x-amz-target", 0.7),
        ("x-amz-security-token", 0.1),
        ("x-absent", 0.1),
        (":authority", 0.1),
        ("", 0.1),
    ];
    let cases: usize = std::env::var("REKO_FUZZ_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(200);
    let (mut succeeded, mut refused) = (0, 0);
    for case in 0..cases {
        let sts = rng.random_bool(0.3);
        let http2 = rng.random_bool(0.5);
        let signed: Vec<&'static str> = candidates
            .iter()
            .filter(|(_, p)| rng.random_bool(*p))
            .map(|(name, _)| *name)
            .collect();
        let right_service = if sts { "sts" } else { "rekognition" };
        let service = if rng.random_bool(0.6) {
            right_service
        } else {
            ["rekognition", "sts", "s3", ""][rng.random_range(0..4)]
        };
        let scope_date = if rng.random_bool(0.7) {
            &now[..8]
        } else {
            ["", "20200101", &now[..4]][rng.random_range(0..3)]
        };
        let signing = Signing {
            key: &key,
            secret: &secret,
            amz_date: &now,
            scope_date,
            region: DEFAULT_REGION,
            service,
            signed: &signed,
        };
        let r = send(&sb, sts, &signing, http2).await;
        let lower: Vec<String> = signed.iter().map(|s| s.to_ascii_lowercase()).collect();
        // What `request` sends.
        let sent = |n: &str| {
            matches!(n, "host" | "x-amz-date" | "content-type") || (!sts && n == "x-amz-target")
        };
        let by_the_rules = lower.iter().any(|n| n == "host")
            && lower.iter().any(|n| n == "x-amz-date")
            && lower.iter().all(|n| n == "host" || sent(n))
            && service == right_service
            && scope_date == &now[..8];
        let context = format!(
            "seed {seed} case {case}: sts={sts} http2={http2} signed={signed:?} service={service:?} date={scope_date:?}: HTTP {} {}",
            r.status, r.body
        );
        assert!(r.header("x-amzn-requestid").is_some(), "{context}");
        if by_the_rules {
            assert_eq!(r.status, 200, "{context}");
            succeeded += 1;
            continue;
        }
        refused += 1;
        assert!(r.status == 400 || r.status == 403, "{context}");
        if sts {
            assert!(
                r.body.contains("<ErrorResponse") && !xml_code(&r).is_empty(),
                "{context}"
            );
        } else {
            let (code, message) = json_error(&r);
            assert!(
                code.ends_with("SignatureException") && !message.is_empty(),
                "{context}"
            );
        }
    }
    eprintln!("seed {seed}: {succeeded} verified, {refused} refused");
    assert!(
        succeeded > 0 || cases < 50,
        "seed {seed}: no case was signed by the rules"
    );
    assert_still_serving(&sb).await;
}
