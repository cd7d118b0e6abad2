//! Shared test helpers: an in-process sandbox that dumps its state when a test fails, SDK clients
//! for the seeded identities and for assumed roles, and a raw signed HTTP client for requests the
//! SDK will not send (malformed JSON, unknown operations, missing members).

use std::ops::Deref;
use std::time::{Duration, SystemTime};

use aws_config::retry::RetryConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::Credentials;
use reko_promote::sandbox::seed::{self, DEFAULT_REGION};
use reko_promote::sandbox::{Faults, Sandbox, SandboxConfig, SandboxHandle};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A running sandbox that prints its state if the test using it panics.
pub struct TestSandbox {
    pub handle: SandboxHandle,
}

impl Deref for TestSandbox {
    type Target = SandboxHandle;
    fn deref(&self) -> &SandboxHandle {
        &self.handle
    }
}

impl Drop for TestSandbox {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!(
                "---- sandbox state at failure ----\n{}",
                self.handle.state_json()
            );
            eprintln!("---- call counts ----\n{:?}", self.handle.call_counts());
        }
    }
}

/// Faults for tests: fast transitions, no injected failures.
pub fn fast_faults() -> Faults {
    Faults {
        copy_duration_ms: 800,
        training_duration_ms: 600,
        hosting_transition_ms: 200,
        ..Faults::default()
    }
}

pub async fn start() -> TestSandbox {
    start_with(SandboxConfig {
        faults: Some(fast_faults()),
        ..SandboxConfig::default()
    })
    .await
}

/// Adds to `config`'s seed a project `name` in `account` holding `n` trained versions named by
/// `version_name`, modelled on the seeded `ml/defect-detector` project (for tests of many
/// versions: batching, pagination, policy packing).
pub fn add_bulk_project(
    config: &mut SandboxConfig,
    account: &str,
    name: &str,
    n: usize,
    version_name: impl Fn(usize) -> String,
) {
    let template = config
        .seed
        .projects
        .iter()
        .find(|p| p.account == seed::ML_ACCOUNT && p.name == seed::DEFECT_DETECTOR)
        .cloned()
        .expect("the default organisation has ml/defect-detector");
    let mut project = template.clone();
    project.account = account.to_string();
    project.name = name.to_string();
    project.policies = Vec::new();
    project.versions = (0..n)
        .map(|i| {
            let mut v = template.versions[0].clone();
            v.name = version_name(i);
            v.created = None;
            v
        })
        .collect();
    config.seed.projects.push(project);
}

pub async fn start_with(config: SandboxConfig) -> TestSandbox {
    let handle = Sandbox::start(config).await.expect("sandbox starts");
    TestSandbox { handle }
}

pub async fn sdk_config(
    sb: &SandboxHandle,
    key: &str,
    secret: &str,
    token: Option<String>,
    region: &str,
    attempts: u32,
) -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .endpoint_url(sb.endpoint())
        .region(Region::new(region.to_string()))
        .credentials_provider(Credentials::new(key, secret, token, None, "test"))
        .retry_config(RetryConfig::standard().with_max_attempts(attempts))
        .load()
        .await
}

/// Config for the seeded account called `name` (`ci`, `ml`, `staging`, `prod`).
pub async fn account_config(sb: &SandboxHandle, name: &str) -> SdkConfig {
    let (k, s) = sb.credentials(name).expect("seeded account");
    sdk_config(sb, &k, &s, None, DEFAULT_REGION, 1).await
}

pub async fn rek(sb: &SandboxHandle, name: &str) -> aws_sdk_rekognition::Client {
    aws_sdk_rekognition::Client::new(&account_config(sb, name).await)
}

pub async fn sts(sb: &SandboxHandle, name: &str) -> aws_sdk_sts::Client {
    aws_sdk_sts::Client::new(&account_config(sb, name).await)
}

/// CI assumes the `reko-promote` role of `account`; returns the session's SDK config.
pub async fn assume(sb: &SandboxHandle, account: &str) -> SdkConfig {
    let ci = sts(sb, "ci").await;
    let mut req = ci
        .assume_role()
        .role_arn(seed::role_arn(account))
        .role_session_name("reko-promote-test");
    if account == seed::PROD_ACCOUNT {
        req = req.external_id(seed::PROD_EXTERNAL_ID);
    }
    let out = req.send().await.expect("assume role");
    let c = out.credentials().expect("credentials");
    sdk_config(
        sb,
        c.access_key_id(),
        c.secret_access_key(),
        Some(c.session_token().to_string()),
        DEFAULT_REGION,
        1,
    )
    .await
}

pub async fn rek_as_role(sb: &SandboxHandle, account: &str) -> aws_sdk_rekognition::Client {
    aws_sdk_rekognition::Client::new(&assume(sb, account).await)
}

/// The ARN of a seeded version (default organisation).
pub fn seeded_version_arn(
    sb: &SandboxHandle,
    account: &str,
    project: &str,
    version: &str,
) -> String {
    sb.state().rekognition[account][DEFAULT_REGION].projects[project].versions[version]
        .arn
        .clone()
}

/// The description of the version `name` of `account`'s project `project` (default region).
pub async fn describe_version(
    c: &aws_sdk_rekognition::Client,
    account: &str,
    project: &str,
    name: &str,
) -> aws_sdk_rekognition::types::ProjectVersionDescription {
    c.describe_project_versions()
        .project_arn(seed::default_project_arn(account, project))
        .version_names(name)
        .send()
        .await
        .unwrap()
        .project_version_descriptions()[0]
        .clone()
}

/// Polls until `f` is true or `timeout` passes.
pub async fn eventually<F, Fut>(timeout: Duration, mut f: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        if f().await {
            return true;
        }
        if tokio::time::Instant::now() > deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A raw HTTP response.
#[derive(Debug)]
pub struct RawResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl RawResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
}

/// Sends one HTTP/1.1 request over a plain TCP stream and reads the whole answer.
pub async fn raw_http(
    sb: &SandboxHandle,
    method: &str,
    path: &str,
    headers: &[(String, String)],
    body: &[u8],
) -> RawResponse {
    let mut stream = tokio::net::TcpStream::connect(sb.addr())
        .await
        .expect("connect");
    // The given `host` if any (a test addressing the sandbox by another name), else its address.
    let host = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("host"))
        .map_or_else(|| sb.addr().to_string(), |(_, v)| v.clone());
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nhost: {host}\r\nconnection: close\r\ncontent-length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        if !k.eq_ignore_ascii_case("host") {
            req.push_str(&format!("{k}: {v}\r\n"));
        }
    }
    req.push_str("\r\n");
    stream.write_all(req.as_bytes()).await.expect("write");
    stream.write_all(body).await.expect("write body");
    let mut buf = Vec::new();
    stream.read_to_end(&mut buf).await.expect("read");
    let text = String::from_utf8_lossy(&buf).to_string();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    RawResponse {
        status,
        headers,
        body: body.to_string(),
    }
}

/// Signs a request with SigV4 as `key`/`secret` and returns the headers to send.
pub fn sign(
    sb: &SandboxHandle,
    service: &str,
    key: &str,
    secret: &str,
    extra: &[(&str, &str)],
    body: &[u8],
) -> Vec<(String, String)> {
    use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
    use aws_sigv4::sign::v4;
    let host = sb.addr().to_string();
    let mut headers: Vec<(String, String)> = vec![("host".into(), host)];
    headers.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    let identity = Credentials::new(key, secret, None, None, "test").into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(DEFAULT_REGION)
        .name(service)
        .time(SystemTime::now())
        .settings(SigningSettings::default())
        .build()
        .expect("params")
        .into();
    let signable = SignableRequest::new(
        "POST",
        format!("{}/", sb.endpoint()),
        headers.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        SignableBody::Bytes(body),
    )
    .expect("signable");
    let (instructions, _) = sign(signable, &params).expect("sign").into_parts();
    let (signed, _) = instructions.into_parts();
    for h in signed {
        headers.push((h.name().to_string(), h.value().to_string()));
    }
    headers
}

/// A signed Rekognition request with an arbitrary target and body, as account `name`.
pub async fn raw_rekognition(
    sb: &SandboxHandle,
    name: &str,
    target: &str,
    body: &str,
) -> RawResponse {
    let headers = rekognition_headers(sb, name, target, body.as_bytes());
    raw_http(sb, "POST", "/", &headers, body.as_bytes()).await
}

/// The signed headers of a Rekognition request with `target` and `body`, as account `name`.
pub fn rekognition_headers(
    sb: &SandboxHandle,
    name: &str,
    target: &str,
    body: &[u8],
) -> Vec<(String, String)> {
    let (k, s) = sb.credentials(name).expect("seeded account");
    sign(
        sb,
        "rekognition",
        &k,
        &s,
        &[
            ("content-type", "application/x-amz-json-1.1"),
            ("x-amz-target", target),
        ],
        body,
    )
}

/// Panics unless the sandbox still answers an ordinary SDK call (after hostile input).
pub async fn assert_still_serving(sb: &SandboxHandle) {
    rek(sb, "ml")
        .await
        .describe_projects()
        .send()
        .await
        .expect("the sandbox still serves");
}

/// The error code of an SDK error.
pub fn code<E: aws_sdk_rekognition::error::ProvideErrorMetadata>(e: &E) -> String {
    e.code().unwrap_or("<no code>").to_string()
}

/// The first row of `history` (from [`SandboxHandle::history`]) where `arn` entered `status`;
/// panics, showing the whole history, when there is none. For order proofs such as a blue/green
/// switch: `change(&h, green, RUNNING).at_ms <= change(&h, blue, STOPPING).at_ms`.
pub fn change<'h>(
    history: &'h [reko_promote::sandbox::state::StatusChange],
    arn: &str,
    status: reko_promote::sandbox::state::VersionStatus,
) -> &'h reko_promote::sandbox::state::StatusChange {
    history
        .iter()
        .find(|c| c.arn == arn && c.status == status)
        .unwrap_or_else(|| panic!("no {status:?} of {arn} in the history: {history:#?}"))
}
