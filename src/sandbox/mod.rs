//! The sandbox: a local emulator of Amazon Rekognition Custom Labels (projects, versions, copies,
//! project policies, tags, hosting) and AWS STS (AssumeRole, GetCallerIdentity), served over HTTP
//! on 127.0.0.1 so that the official AWS SDK and CLI talk to it unchanged through an endpoint
//! override (`AWS_ENDPOINT_URL`, `--endpoint-url`).
//!
//! This file is the public face ([`Sandbox::start`], [`SandboxConfig`], [`SandboxHandle`],
//! [`run_foreground`]) and the HTTP front door: it routes each request to STS (awsQuery: form
//! bodies, XML answers) or Rekognition (awsJson 1.1: `X-Amz-Target`), authenticates it with
//! SigV4, counts it, and applies injected faults before the protocol handler runs and after it
//! (a slow answer, or a connection closed with no answer). The operations
//! themselves live in `rekognition/` and `sts.rs`, the model in `state.rs`, the seed in `seed.rs`,
//! the admin endpoint in `admin.rs`. Wiring the CLI subcommand is left to the CLI module, which
//! only needs [`SandboxArgs`] and [`run_foreground`].

pub mod admin;
pub mod args;
pub mod error;
pub mod faults;
pub mod iam_policy;
pub mod rekognition;
pub mod seed;
pub mod sigv4;
pub mod state;
pub mod sts;

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::SystemTime;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::connect_info::{ConnectInfo, Connected};
use axum::http::{Extensions, HeaderMap, HeaderValue, Method, Uri};
use axum::response::Response;
use rand::Rng;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub use args::SandboxArgs;
pub use error::{ApiError, AuthError, SandboxError};
pub use faults::{Faults, Latency};
pub use seed::{Seed, default_organisation};
use state::World;

/// How to start a sandbox.
#[derive(Debug, Clone)]
pub struct SandboxConfig {
    /// Address to listen on; port 0 picks a free one (the default, for tests).
    pub listen: SocketAddr,
    /// Accounts, roles, projects and default faults.
    pub seed: Seed,
    /// Persist every mutation here and reload it at start.
    pub state_file: Option<PathBuf>,
    /// Overrides the seed's `faults`.
    pub faults: Option<Faults>,
}

impl Default for SandboxConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            seed: default_organisation(),
            state_file: None,
            faults: None,
        }
    }
}

/// Who sent an authenticated request.
#[derive(Debug, Clone)]
pub struct Caller {
    pub account_id: String,
    /// The caller's ARN as GetCallerIdentity reports it (user ARN or assumed-role session ARN).
    pub arn: String,
    /// The IAM entity: the user ARN, or for a session the role ARN.
    pub iam_arn: String,
    /// For a session, the role's unique id (`AROA...`); the caller's UserId is derived from it.
    pub role_id: Option<String>,
    /// Region of the SigV4 credential scope: where the request's resources live.
    pub region: String,
    /// Set for AssumeRole sessions (role chaining limits their AssumeRole duration).
    pub is_session: bool,
}

impl Caller {
    /// The UserId GetCallerIdentity reports: `AIDA...` for a user, `AROA...:SESSION` for a
    /// session. Derived on demand, as only GetCallerIdentity needs it.
    pub fn user_id(&self) -> String {
        match &self.role_id {
            Some(role_id) => {
                let session = self.arn.rsplit('/').next().unwrap_or_default();
                format!("{role_id}:{session}")
            }
            None => seed::unique_id("AIDA", &self.iam_arn),
        }
    }
}

/// Faults injected so far, by kind (each one a request that reached an operation's handler).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct InjectedFaults {
    /// Answered ThrottlingException (`tps`).
    pub throttled: u64,
    /// Answered InternalServerError (`internal_error_rate`).
    pub internal_errors: u64,
    /// Took effect, answer lost (`lost_response`, `lost_response_next`).
    pub lost_responses: u64,
}

/// State shared by the server tasks and the handle.
pub(crate) struct Shared {
    world: Mutex<World>,
    seed: Seed,
    faults: faults::FaultEngine,
    state_file: Option<PathBuf>,
    /// API calls by account, then operation (nested so that counting allocates nothing once
    /// a pair has been seen).
    counters: Mutex<HashMap<String, HashMap<String, u64>>>,
    /// Calls whose answer was lost by the `lost_response` faults, by (account, operation): a
    /// subset of `counters`, so a test or chaos run can tell how many retries it provoked.
    lost: Mutex<BTreeMap<(String, String), u64>>,
    /// Requests refused by the `tps` faults (ThrottlingException).
    throttled: AtomicU64,
    /// Requests answered InternalServerError by the `internal_error_rate` faults.
    internal_errors: AtomicU64,
    /// Key of the NextToken checksums, so a forged token is refused.
    token_secret: [u8; 32],
    /// How far the Rekognition clock is ahead of the wall clock (`POST /_sandbox/clock`), so
    /// tests of soak times move time instead of sleeping. STS expiry and SigV4 skew stay on the
    /// wall clock: the SDK signs and caches credentials by its own clock.
    clock_offset_ms: std::sync::atomic::AtomicU64,
    /// When expired STS sessions were last dropped (wall-clock epoch milliseconds): at most once
    /// a minute, since a scan of every session on each AssumeRole, under the world's lock, grew
    /// with every session a long-running sandbox ever handed out.
    sessions_swept_at: AtomicU64,
}

impl Shared {
    /// Whether expired STS sessions are due to be dropped at `now_ms` (once a minute); claims
    /// the sweep when they are.
    fn sweep_sessions_due(&self, now_ms: u64) -> bool {
        let last = self.sessions_swept_at.load(Ordering::Relaxed);
        now_ms.saturating_sub(last) >= 60_000
            && self
                .sessions_swept_at
                .compare_exchange(last, now_ms, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
    }

    /// The Rekognition clock: wall-clock epoch milliseconds plus the offset moved forward so far.
    /// Every timestamp the Rekognition emulation produces (CreationTimestamp, when copies and
    /// training complete) reads it.
    pub(crate) fn now_millis(&self) -> u64 {
        state::now_millis()
            + self
                .clock_offset_ms
                .load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Moves the Rekognition clock forward by `millis`; returns the new offset.
    pub(crate) fn advance_clock(&self, millis: u64) -> u64 {
        self.clock_offset_ms
            .fetch_add(millis, std::sync::atomic::Ordering::SeqCst)
            + millis
    }

    fn world(&self) -> MutexGuard<'_, World> {
        // A handler never panics while holding the lock on a request path; if something else did,
        // the data is still consistent (every mutation is completed before unlocking).
        self.world.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Writes the state file, if any. A failed write is logged, not turned into an API error: the
    /// in-memory state is still right.
    fn persist(&self, world: &World) {
        if let Some(path) = &self.state_file {
            if let Err(e) = state::save(path, world) {
                tracing::warn!("sandbox: {e}");
            }
        }
    }

    fn count(&self, account: &str, op: &str) {
        let mut c = self.counters.lock().unwrap_or_else(|e| e.into_inner());
        match c.get_mut(account) {
            Some(ops) => match ops.get_mut(op) {
                Some(n) => *n += 1,
                None => {
                    ops.insert(op.to_string(), 1);
                }
            },
            None => {
                c.insert(account.to_string(), HashMap::from([(op.to_string(), 1)]));
            }
        }
    }

    fn count_lost(&self, account: &str, op: &str) {
        let mut lost = self.lost.lock().unwrap_or_else(|e| e.into_inner());
        *lost
            .entry((account.to_string(), op.to_string()))
            .or_default() += 1;
    }

    fn lost_counts(&self) -> BTreeMap<(String, String), u64> {
        self.lost.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Clears the call counters (lost answers included).
    fn clear_counts(&self) {
        self.counters
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
        self.lost.lock().unwrap_or_else(|e| e.into_inner()).clear();
        self.throttled.store(0, Ordering::Relaxed);
        self.internal_errors.store(0, Ordering::Relaxed);
    }

    /// The counters flattened to (account, operation) → calls.
    fn call_counts(&self) -> BTreeMap<(String, String), u64> {
        let c = self.counters.lock().unwrap_or_else(|e| e.into_inner());
        c.iter()
            .flat_map(|(account, ops)| {
                ops.iter()
                    .map(move |(op, n)| ((account.clone(), op.clone()), *n))
            })
            .collect()
    }

    /// Finds the signer's secret and identity, then checks the signature.
    fn authenticate(
        &self,
        auth: &sigv4::AuthHeader,
        service: &str,
        request: &sigv4::ReceivedRequest<'_>,
    ) -> Result<Caller, AuthError> {
        let headers = request.headers;
        let now = SystemTime::now();
        let (secret, mut caller) = {
            let world = self.world();
            if let Some(a) = world.account_by_key(&auth.access_key_id) {
                let arn = a.user_arn();
                let caller = Caller {
                    account_id: a.id.clone(),
                    iam_arn: arn.clone(),
                    arn,
                    role_id: None,
                    region: String::new(),
                    is_session: false,
                };
                let secret = sigv4::SigningSecret {
                    access_key_id: a.access_key_id.clone(),
                    secret_access_key: a.secret_access_key.clone(),
                    session_token: None,
                };
                (secret, caller)
            } else if let Some(s) = world.sessions.get(&auth.access_key_id) {
                let token = headers
                    .get("x-amz-security-token")
                    .and_then(|v| v.to_str().ok())
                    .ok_or(AuthError::UnknownKey)?;
                if token != s.session_token {
                    return Err(AuthError::UnknownKey);
                }
                if s.expiration_millis <= state::now_millis() {
                    return Err(AuthError::ExpiredToken);
                }
                let caller = Caller {
                    account_id: s.account_id.clone(),
                    arn: s.assumed_role_arn(),
                    iam_arn: s.role_arn.clone(),
                    role_id: Some(s.role_id.clone()),
                    region: String::new(),
                    is_session: true,
                };
                let secret = sigv4::SigningSecret {
                    access_key_id: s.access_key_id.clone(),
                    secret_access_key: s.secret_access_key.clone(),
                    session_token: Some(s.session_token.clone()),
                };
                (secret, caller)
            } else {
                return Err(AuthError::UnknownKey);
            }
        };
        if crate::constraints::check_region(&auth.region).is_err() {
            return Err(AuthError::BadSignature(format!(
                "Credential should be scoped to a valid region. Region '{}' is not valid.",
                auth.region
            )));
        }
        sigv4::verify(auth, &secret, service, request, now)?;
        caller.region = auth.region.clone();
        Ok(caller)
    }
}

/// Why the front door refused a request before its operation ran.
pub(crate) enum Refusal {
    Auth(AuthError),
    Throttled,
    InternalError,
}

/// Authenticates, counts, delays and admits one API request for `op` of `service` (the SigV4
/// signing name: `rekognition`, `sts`).
pub(crate) async fn gate(
    shared: &Shared,
    service: &str,
    op: &str,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Caller, Refusal> {
    let auth = sigv4::parse_authorization(headers).map_err(Refusal::Auth)?;
    let request = sigv4::ReceivedRequest {
        method: method.as_str(),
        uri,
        headers,
        body,
    };
    let caller = shared
        .authenticate(&auth, service, &request)
        .map_err(Refusal::Auth)?;
    shared.count(&caller.account_id, op);
    if let Some(delay) = shared.faults.latency(op) {
        tokio::time::sleep(delay).await;
    }
    match shared.faults.admit(&caller.account_id, op) {
        faults::Verdict::Proceed => Ok(caller),
        faults::Verdict::Throttle => {
            shared.throttled.fetch_add(1, Ordering::Relaxed);
            Err(Refusal::Throttled)
        }
        faults::Verdict::InternalError => {
            shared.internal_errors.fetch_add(1, Ordering::Relaxed);
            Err(Refusal::InternalError)
        }
    }
}

/// A request id in the UUID v4 form AWS uses.
pub(crate) fn new_request_id() -> String {
    let b: [u8; 16] = rand::rng().random();
    let h = hex::encode(b);
    format!(
        "{}-{}-4{}-{:x}{}-{}",
        &h[0..8],
        &h[8..12],
        &h[13..16],
        (b[8] & 0x3) | 0x8,
        &h[17..20],
        &h[20..32]
    )
}

pub(crate) fn with_request_id(mut resp: Response, request_id: &str) -> Response {
    if let Ok(v) = HeaderValue::from_str(request_id) {
        resp.headers_mut().insert("x-amzn-requestid", v);
    }
    resp
}

/// Every response carries a request id, including those axum makes itself (404, 405, 413).
async fn ensure_request_id(resp: Response) -> Response {
    if resp.headers().contains_key("x-amzn-requestid") {
        resp
    } else {
        with_request_id(resp, &new_request_id())
    }
}

/// Put by the protocol handlers on the response of an operation that ran (got past [`gate`]), so
/// that the front door applies the faults of what happens after an effect.
#[derive(Debug, Clone)]
pub(crate) struct Effected {
    pub op: &'static str,
    /// The caller's account, for counting a lost answer.
    pub account: String,
}

/// One accepted connection as handlers see it (axum's `ConnectInfo`): the peer, and a duplicate of
/// its socket, through which a handler can close the connection without answering.
#[derive(Debug, Clone)]
pub(crate) struct Connection {
    peer: SocketAddr,
    socket: Option<Arc<std::net::TcpStream>>,
}

impl Connection {
    pub(crate) fn peer(&self) -> SocketAddr {
        self.peer
    }

    /// Shuts the socket down both ways: the client sees the connection end with no answer, and
    /// the server's own write of the answer fails, so nothing of it is sent.
    fn cut(&self) {
        if let Some(socket) = &self.socket {
            let _ = socket.shutdown(std::net::Shutdown::Both);
        }
    }
}

/// axum's TCP listener, giving each connection a [`Connection`].
struct SandboxListener(tokio::net::TcpListener);

impl axum::serve::Listener for SandboxListener {
    type Io = tokio::net::TcpStream;
    type Addr = Connection;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            // axum's own accept retries and logs accept errors.
            let (stream, peer) = axum::serve::Listener::accept(&mut self.0).await;
            match duplicate(stream) {
                Ok((stream, socket)) => {
                    return (
                        stream,
                        Connection {
                            peer,
                            socket: Some(Arc::new(socket)),
                        },
                    );
                }
                Err(e) => tracing::warn!("sandbox: dropping a connection from {peer}: {e}"),
            }
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        Ok(Connection {
            peer: self.0.local_addr()?,
            socket: None,
        })
    }
}

/// The stream, and a second handle on its socket (a duplicated descriptor).
fn duplicate(
    stream: tokio::net::TcpStream,
) -> std::io::Result<(tokio::net::TcpStream, std::net::TcpStream)> {
    let std_stream = stream.into_std()?;
    let second = std_stream.try_clone()?;
    Ok((tokio::net::TcpStream::from_std(std_stream)?, second))
}

impl Connected<axum::serve::IncomingStream<'_, SandboxListener>> for Connection {
    fn connect_info(stream: axum::serve::IncomingStream<'_, SandboxListener>) -> Self {
        stream.remote_addr().clone()
    }
}

/// Applies the after-effect faults to the answer of an operation that ran.
async fn deliver(shared: &Shared, extensions: &Extensions, resp: Response) -> Response {
    let Some(Effected { op, account }) = resp.extensions().get::<Effected>().cloned() else {
        return resp;
    };
    match shared.faults.delivery(op) {
        faults::Delivery::Answer(None) => {}
        faults::Delivery::Answer(Some(delay)) => tokio::time::sleep(delay).await,
        // Served in process there is no connection to cut, and the answer is given.
        faults::Delivery::Lose => {
            if let Some(ConnectInfo(connection)) = extensions.get::<ConnectInfo<Connection>>() {
                tracing::debug!("sandbox: {op} took effect; its answer is lost");
                shared.count_lost(&account, op);
                connection.cut();
            }
        }
    }
    resp
}

/// Every API request (everything outside `/_sandbox/`).
async fn api(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    extensions: Extensions,
    body: Bytes,
) -> Response {
    let request_id = new_request_id();
    let content_type = headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let is_query = if headers.contains_key("x-amz-target") {
        false
    } else if content_type.starts_with("application/x-www-form-urlencoded")
        || uri.query().is_some_and(|q| q.contains("Action="))
    {
        true
    } else {
        // Neither marker: fall back to the service named in the SigV4 credential scope.
        sigv4::parse_authorization(&headers).is_ok_and(|a| a.service == "sts")
    };
    let resp = if is_query {
        sts::handle(&shared, &request_id, &method, &uri, &headers, &body).await
    } else {
        rekognition::handle(&shared, &request_id, &method, &uri, &headers, &body).await
    };
    let resp = deliver(&shared, &extensions, resp).await;
    with_request_id(resp, &request_id)
}

/// The whole HTTP surface: the admin endpoint and the API.
fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .nest("/_sandbox", admin::router())
        .fallback(api)
        .layer(axum::middleware::map_response(ensure_request_id))
        .with_state(shared)
}

/// Starts sandboxes.
pub struct Sandbox;

impl Sandbox {
    /// Binds `config.listen` and serves in the background on the current tokio runtime.
    pub async fn start(config: SandboxConfig) -> Result<SandboxHandle, SandboxError> {
        let world = match &config.state_file {
            Some(path) => match state::load(path)? {
                Some(world) => world,
                None => {
                    let world = config.seed.to_world()?;
                    state::save(path, &world)?;
                    world
                }
            },
            None => config.seed.to_world()?,
        };
        let faults = config
            .faults
            .clone()
            .unwrap_or_else(|| config.seed.faults.clone());
        let shared = Arc::new(Shared {
            world: Mutex::new(world),
            seed: config.seed.clone(),
            faults: faults::FaultEngine::new(faults)?,
            state_file: config.state_file.clone(),
            counters: Mutex::new(HashMap::new()),
            lost: Mutex::new(BTreeMap::new()),
            throttled: AtomicU64::new(0),
            internal_errors: AtomicU64::new(0),
            token_secret: rand::rng().random(),
            clock_offset_ms: Default::default(),
            sessions_swept_at: Default::default(),
        });
        let listener = tokio::net::TcpListener::bind(config.listen)
            .await
            .map_err(|source| SandboxError::Bind {
                addr: config.listen,
                source,
            })?;
        let addr = listener.local_addr()?;
        let app = router(shared.clone());
        let (tx, rx) = oneshot::channel::<()>();
        let listener = SandboxListener(listener);
        let service = app
            .clone()
            .into_make_service_with_connect_info::<Connection>();
        let task = tokio::spawn(async move {
            let serve = axum::serve(listener, service).with_graceful_shutdown(async {
                let _ = rx.await;
            });
            if let Err(e) = serve.await {
                tracing::error!("sandbox server stopped: {e}");
            }
        });
        Ok(SandboxHandle {
            addr,
            shared,
            app,
            shutdown: Some(tx),
            task: Some(task),
        })
    }
}

/// A running sandbox. Dropping it stops the server.
pub struct SandboxHandle {
    addr: SocketAddr,
    shared: Arc<Shared>,
    /// The same router the server runs, for [`SandboxHandle::call`].
    app: Router,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl SandboxHandle {
    /// `http://127.0.0.1:PORT`, for `endpoint_url` / `AWS_ENDPOINT_URL`.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Serves one request in process, through the same router as the network (fuzzing calls
    /// the request parsers this way, with no socket in between). There is no connection, so a
    /// lost response is answered anyway.
    pub async fn call(&self, request: http::Request<axum::body::Body>) -> Response {
        use tower::ServiceExt;
        match self.app.clone().oneshot(request).await {
            Ok(resp) => resp,
            Err(never) => match never {},
        }
    }

    /// The seed the sandbox started from (and resets to).
    pub fn seed(&self) -> &Seed {
        &self.shared.seed
    }

    /// The ambient credentials of the seeded account called `name` (`ci`, `ml`, ...):
    /// `(access_key_id, secret_access_key)`.
    pub fn credentials(&self, name: &str) -> Option<(String, String)> {
        self.shared
            .seed
            .account(name)
            .map(|a| (a.access_key_id.clone(), a.secret_access_key.clone()))
    }

    /// An SDK configuration for the seeded account called `name`: this sandbox's endpoint, the
    /// seed's region and the account's ambient key (standard retry mode).
    pub async fn sdk_config(&self, name: &str) -> Option<aws_config::SdkConfig> {
        let (key, secret) = self.credentials(name)?;
        Some(
            aws_config::defaults(aws_config::BehaviorVersion::latest())
                .endpoint_url(self.endpoint())
                .region(aws_config::Region::new(self.shared.seed.region.clone()))
                .credentials_provider(aws_credential_types::Credentials::new(
                    key, secret, None, None, "sandbox",
                ))
                .load()
                .await,
        )
    }

    /// API calls so far by (account id, operation), throttled and failed ones included.
    pub fn call_counts(&self) -> BTreeMap<(String, String), u64> {
        self.shared.call_counts()
    }

    /// Calls of `operation` by any account.
    pub fn calls_of(&self, operation: &str) -> u64 {
        self.call_counts()
            .iter()
            .filter(|((_, op), _)| op == operation)
            .map(|(_, n)| n)
            .sum()
    }

    pub fn total_calls(&self) -> u64 {
        self.call_counts().values().sum()
    }

    /// Calls whose answer was lost (`lost_response` faults), by (account id, operation); each is
    /// also in [`SandboxHandle::call_counts`].
    pub fn lost_responses(&self) -> BTreeMap<(String, String), u64> {
        self.shared.lost_counts()
    }

    /// How many faults the sandbox injected since the counters were last reset.
    pub fn injected_faults(&self) -> InjectedFaults {
        InjectedFaults {
            throttled: self.shared.throttled.load(Ordering::Relaxed),
            internal_errors: self.shared.internal_errors.load(Ordering::Relaxed),
            lost_responses: self.shared.lost_counts().values().sum(),
        }
    }

    pub fn reset_call_counts(&self) {
        self.shared.clear_counts();
    }

    pub fn faults(&self) -> Faults {
        self.shared.faults.get()
    }

    pub fn set_faults(&self, faults: Faults) -> Result<(), faults::FaultsError> {
        self.shared.faults.set(faults)
    }

    /// A snapshot of the state, with due status changes applied.
    pub fn state(&self) -> World {
        let mut w = self.shared.world().clone();
        w.settle_all(self.shared.now_millis());
        w
    }

    /// Every status change of every project version since the start or the last reset, ordered
    /// by (`at_ms`, `seq`) (what `GET /_sandbox/history` returns): for proving the order of
    /// hosting transitions, such as a blue/green switch.
    pub fn history(&self) -> Vec<state::StatusChange> {
        admin::history(&self.shared)
    }

    /// The state as pretty JSON (what `GET /_sandbox/state` returns), for test failure dumps.
    pub fn state_json(&self) -> String {
        serde_json::to_string_pretty(&self.state()).unwrap_or_default()
    }

    /// Back to the seed (sessions and counters cleared too).
    pub fn reset(&self) -> Result<(), SandboxError> {
        admin::reset(&self.shared)
    }

    /// Moves the sandbox's Rekognition clock forward by `by` (whole milliseconds): copies'
    /// CreationTimestamp and completion times follow it, so a soak can pass without sleeping.
    pub fn advance_clock(&self, by: std::time::Duration) {
        self.shared
            .advance_clock(u64::try_from(by.as_millis()).unwrap_or(u64::MAX));
    }

    /// The sandbox's Rekognition clock now, in epoch milliseconds (the wall clock plus every
    /// advance): what a test passes as the plan's "now".
    pub fn clock_millis(&self) -> u64 {
        self.shared.now_millis()
    }

    /// Makes every issued session expire now (to test ExpiredTokenException).
    pub fn expire_sessions(&self) {
        admin::expire_sessions(&self.shared);
    }

    /// Stops accepting connections and waits for in-flight requests.
    pub async fn shutdown(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for SandboxHandle {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// `reko-promote sandbox`: start, print the endpoint and credentials, serve until Ctrl-C.
pub async fn run_foreground(args: SandboxArgs) -> Result<(), SandboxError> {
    let config = args.to_config()?;
    let region = config.seed.region.clone();
    let handle = Sandbox::start(config).await?;
    if let Some(warning) = args::remote_warning(handle.addr()) {
        eprintln!("{warning}");
    }
    print!("{}", args::banner(&handle, &region));
    use std::io::Write;
    let _ = std::io::stdout().flush();
    crate::signal::shutdown_signal().await;
    eprintln!("sandbox: stopping");
    handle.shutdown().await;
    Ok(())
}
