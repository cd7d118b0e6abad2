//! The AWS edge: SDK configuration, per-account sessions (role assumption, identity checks),
//! client-side rate limits, call counting, and one file per API call with typed errors.
//!
//! Everything that talks to AWS goes through an [`AwsContext`]; the rest of the crate never builds
//! an SDK client. Reading live state is `state::read`'s job and copying `apply`'s; they call the
//! functions here. Credentials live only inside the SDK's providers: nothing here prints, logs or
//! stores a secret key or session token.

pub mod assume_role;
pub mod copy_project_version;
pub mod delete_project_policy;
pub mod delete_project_version;
pub mod describe_project_versions;
pub mod describe_projects;
pub mod get_caller_identity;
pub mod lanes;
pub mod limits;
pub mod list_project_policies;
pub mod list_tags_for_resource;
pub mod pace;
pub mod put_project_policy;
pub mod retry;
pub mod session;
pub mod start_project_version;
pub mod stop_project_version;

use std::sync::Arc;
use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::{BehaviorVersion, SdkConfig};
use aws_sdk_rekognition::error::ProvideErrorMetadata;
use aws_smithy_types::error::display::DisplayErrorContext;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub use limits::{CallCounts, Limits};
pub use session::{AccountSession, Sessions};

/// How to reach AWS: the flags `plan` and `apply` share.
#[derive(Debug, Clone)]
pub struct AwsOptions {
    /// A named profile of the shared config files (`--profile`, or AWS_PROFILE).
    pub profile: Option<String>,
    /// The region for STS and for the ambient identity (`--region`, or AWS_REGION); promotions
    /// name their own regions.
    pub region: Option<String>,
    /// Send every request here instead of AWS (`--endpoint-url`, or AWS_ENDPOINT_URL): the
    /// sandbox, or a VPC endpoint.
    pub endpoint_url: Option<String>,
    /// Requests in flight at most, all accounts together (`--parallelism`).
    pub parallelism: usize,
    /// Requests in flight at most in each account (`--max-in-flight-per-account`).
    pub max_in_flight_per_account: usize,
    /// Requests per second per account and operation (`--rate-limit`).
    pub rate_limit: u32,
    /// Attempts per request, retries on throttling and transient errors included.
    pub max_attempts: u32,
    /// Only reads (`plan`): accounts are entered through their `planRoleArn` where declared.
    pub read_only: bool,
    /// OS threads the accounts' reads are spread over (`--threads`; `None`: one per core the
    /// process may use). See [`lanes`].
    pub threads: Option<usize>,
}

/// The default client-side rate limit, per account and operation: below the Rekognition Custom
/// Labels management APIs' default quotas (see Service Quotas in each account), so that a large
/// organisation never causes a throttling storm.
pub const DEFAULT_RATE_LIMIT: u32 = 8;
/// The default bound on requests in flight in all accounts together: AWS's quotas are per
/// account, so this is only a cap on the process's own connections, set high enough that it is
/// never what a run waits on (a user may lower it).
pub const DEFAULT_PARALLELISM: usize = 256;
/// The default bound on requests in flight in one account: with [`DEFAULT_RATE_LIMIT`] per
/// operation, enough to keep each account's reads going without bursts AWS would throttle.
pub const DEFAULT_MAX_IN_FLIGHT_PER_ACCOUNT: usize = 8;
/// The default attempts per request.
pub const DEFAULT_MAX_ATTEMPTS: u32 = 8;

impl Default for AwsOptions {
    /// The ambient configuration with the default limits.
    fn default() -> Self {
        AwsOptions {
            profile: None,
            region: None,
            endpoint_url: None,
            parallelism: DEFAULT_PARALLELISM,
            max_in_flight_per_account: DEFAULT_MAX_IN_FLIGHT_PER_ACCOUNT,
            rate_limit: DEFAULT_RATE_LIMIT,
            max_attempts: DEFAULT_MAX_ATTEMPTS,
            read_only: false,
            threads: None,
        }
    }
}

/// Everything needed to call AWS for one run.
#[derive(Clone)]
pub struct AwsContext {
    pub base: SdkConfig,
    pub limits: Arc<Limits>,
    /// Identifies this run in RoleSessionName and logs.
    pub run_id: String,
    /// Only reads: accounts are entered through their read-only `planRoleArn` where declared.
    pub read_only: bool,
    /// OS threads the accounts' reads may be spread over (at least 1; [`lanes`]).
    pub threads: usize,
    /// Whether `base`'s HTTP client is this crate's own (built in [`AwsContext::from_config`]),
    /// so that each lane may get a pool of connections of its own.
    owns_connections: bool,
}

impl AwsContext {
    /// Loads the ambient configuration (environment, profile, SSO, web identity, container and
    /// instance roles: aws-config's default chain) with the options applied.
    pub async fn load(options: &AwsOptions) -> Self {
        let mut loader = aws_config::defaults(BehaviorVersion::latest()).retry_config(
            RetryConfig::standard()
                .with_max_attempts(options.max_attempts.max(1))
                .with_initial_backoff(Duration::from_millis(100))
                .with_max_backoff(Duration::from_secs(5)),
        );
        if let Some(profile) = &options.profile {
            loader = loader.profile_name(profile);
        }
        loader = match &options.region {
            Some(region) => loader.region(aws_config::Region::new(region.clone())),
            None => loader.region(ambient_region(options.profile.as_deref())),
        };
        // aws-config's default chain tries the environment first anyway; naming that provider
        // when its variables are set skips building the rest of the chain (profile files, web
        // identity, container and instance-metadata providers) and can never fall through to
        // an instance-metadata (IMDS) probe.
        if std::env::var_os("AWS_ACCESS_KEY_ID").is_some() {
            loader = loader.credentials_provider(
                aws_config::environment::EnvironmentVariableCredentialsProvider::new(),
            );
        }
        if let Some(endpoint) = &options.endpoint_url {
            loader = loader.endpoint_url(endpoint);
        }
        Self::from_config(loader.load().await, options)
    }

    /// A context over an explicit SDK configuration (tests and the demo build one pointing at
    /// an in-process sandbox, without touching the process environment).
    pub fn from_config(base: SdkConfig, options: &AwsOptions) -> Self {
        let has_client = base.http_client().is_some();
        let mut builder = base.into_builder();
        if !has_client {
            builder.set_http_client(Some(shared_https_client()));
        }
        let base = builder
            .identity_cache(
                aws_config::identity::IdentityCache::lazy()
                    // AssumeRole under throttling, retried with backoff, can take longer than
                    // the SDK's 5 s default; a plan should wait rather than fail.
                    .load_timeout(Duration::from_secs(60))
                    .build(),
            )
            .build();
        let run_id = format!(
            "reko-promote-{}",
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or_default()
        );
        AwsContext {
            base,
            limits: Arc::new(Limits::new(
                options.parallelism,
                options.max_in_flight_per_account,
                options.rate_limit,
            )),
            run_id,
            read_only: options.read_only,
            threads: options
                .threads
                .unwrap_or_else(crate::parallel::available_cores)
                .max(1),
            owns_connections: !has_client,
        }
    }

    /// Whether the lanes of this context can each get a pool of connections of their own
    /// ([`AwsContext::for_lane`]).
    pub fn owns_connections(&self) -> bool {
        self.owns_connections
    }

    /// This context as lane `lane` of `lanes` ([`lanes`]): its part of the global bound on
    /// requests in flight and, for the lanes on other threads than the caller's (`lane` > 0), a
    /// pool of connections of its own.
    pub fn for_lane(&self, lane: usize, lanes: usize) -> Self {
        let mut ctx = if lane == 0 {
            self.clone()
        } else {
            self.with_own_connections()
        };
        ctx.limits = Arc::new(self.limits.lane_share(lane, lanes));
        ctx
    }

    /// This context with a pool of connections of its own, for a lane on another thread: a
    /// pooled connection belongs to the runtime that opened it. A client the caller supplied
    /// is kept (there is no telling how to make another).
    fn with_own_connections(&self) -> Self {
        if !self.owns_connections {
            return self.clone();
        }
        let mut builder = self.base.clone().into_builder();
        builder.set_http_client(Some(shared_https_client()));
        AwsContext {
            base: builder.build(),
            ..self.clone()
        }
    }
}

/// The region when `--region` is not given: the environment (AWS_REGION, AWS_DEFAULT_REGION),
/// then the profile. Never the instance metadata service: its probe can take seconds off an
/// instance, and promotions name their own regions (STS falls back to a promotion's region).
fn ambient_region(profile: Option<&str>) -> aws_config::meta::region::RegionProviderChain {
    let mut from_profile = aws_config::profile::ProfileFileRegionProvider::builder();
    if let Some(profile) = profile {
        from_profile = from_profile.profile_name(profile);
    }
    aws_config::meta::region::RegionProviderChain::first_try(
        aws_config::environment::EnvironmentVariableRegionProvider::new(),
    )
    .or_else(from_profile.build())
}

/// One HTTP client for every SDK client of the run (each account's Rekognition and STS clients,
/// and the STS clients inside role providers). Without it each client builds its own TLS
/// configuration and connection pool: with dozens of accounts that is most of a plan's fixed cost.
/// Built as the SDK builds its default (hyper 1, rustls with aws-lc, proxy settings from the
/// environment), except that TLS is set up only for the first `https://` request: an endpoint
/// of plain `http://` (the sandbox, a local emulator) never loads the root certificates, a
/// few milliseconds at every start.
fn shared_https_client() -> aws_smithy_runtime_api::client::http::SharedHttpClient {
    use aws_smithy_http_client::{Builder, ConnectorBuilder, tls};
    let tls = Builder::new().build_with_connector_fn(|settings, components| {
        with_run_settings(ConnectorBuilder::default(), settings, components)
            .tls_provider(tls::Provider::Rustls(
                tls::rustls_provider::CryptoMode::AwsLc,
            ))
            .build()
    });
    let plain = Builder::new().build_with_connector_fn(|settings, components| {
        with_run_settings(ConnectorBuilder::default(), settings, components).build_http()
    });
    aws_smithy_runtime_api::client::http::SharedHttpClient::new(ConnectOnFirstUse { tls, plain })
}

/// A connector with what the SDK asks of every connector: the request's timeouts, the runtime's
/// sleep, and the environment's proxy settings.
fn with_run_settings(
    mut connector: aws_smithy_http_client::ConnectorBuilder,
    settings: Option<&aws_smithy_runtime_api::client::http::HttpConnectorSettings>,
    components: Option<&aws_smithy_runtime_api::client::runtime_components::RuntimeComponents>,
) -> aws_smithy_http_client::ConnectorBuilder {
    connector.set_connector_settings(settings.cloned());
    if let Some(components) = components {
        connector.set_sleep_impl(components.sleep_impl());
    }
    connector.set_proxy_config(Some(aws_smithy_http_client::proxy::ProxyConfig::from_env()));
    connector
}

/// The shared client without its construction-time check, and with TLS only where a request
/// needs it. The SDK's hyper client answers `validate_base_client_config` (called for every SDK
/// client built: one per account) by building a whole TLS connector, root certificates parsed,
/// and throwing it away, only so that the certificates load before the first request rather
/// than with it; it never fails. With one client per account that was a tenth of a plan's CPU
/// time. Each connector is built (once per timeout setting, then cached) when the first request
/// of its scheme needs it.
#[derive(Debug)]
struct ConnectOnFirstUse {
    tls: aws_smithy_runtime_api::client::http::SharedHttpClient,
    plain: aws_smithy_runtime_api::client::http::SharedHttpClient,
}

impl aws_smithy_runtime_api::client::http::HttpClient for ConnectOnFirstUse {
    fn http_connector(
        &self,
        settings: &aws_smithy_runtime_api::client::http::HttpConnectorSettings,
        components: &aws_smithy_runtime_api::client::runtime_components::RuntimeComponents,
    ) -> aws_smithy_runtime_api::client::http::SharedHttpConnector {
        aws_smithy_runtime_api::client::http::SharedHttpConnector::new(ByScheme {
            tls: self.tls.clone(),
            plain: self.plain.clone(),
            settings: settings.clone(),
            components: components.clone(),
        })
    }

    fn validate_final_config(
        &self,
        components: &aws_smithy_runtime_api::client::runtime_components::RuntimeComponents,
        cfg: &aws_smithy_types::config_bag::ConfigBag,
    ) -> Result<(), aws_smithy_runtime_api::box_error::BoxError> {
        self.tls.validate_final_config(components, cfg)
    }

    fn connector_metadata(
        &self,
    ) -> Option<aws_smithy_runtime_api::client::connector_metadata::ConnectorMetadata> {
        self.tls.connector_metadata()
    }
}

/// One request's connector: plain TCP for `http://`, TLS for anything else.
#[derive(Debug)]
struct ByScheme {
    tls: aws_smithy_runtime_api::client::http::SharedHttpClient,
    plain: aws_smithy_runtime_api::client::http::SharedHttpClient,
    settings: aws_smithy_runtime_api::client::http::HttpConnectorSettings,
    components: aws_smithy_runtime_api::client::runtime_components::RuntimeComponents,
}

impl aws_smithy_runtime_api::client::http::HttpConnector for ByScheme {
    fn call(
        &self,
        request: aws_smithy_runtime_api::client::orchestrator::HttpRequest,
    ) -> aws_smithy_runtime_api::client::http::HttpConnectorFuture {
        let plain_http = request
            .uri()
            .get(..7)
            .is_some_and(|scheme| scheme.eq_ignore_ascii_case("http://"));
        use aws_smithy_runtime_api::client::http::HttpClient;
        let client = if plain_http { &self.plain } else { &self.tls };
        client
            .http_connector(&self.settings, &self.components)
            .call(request)
    }
}

/// The AWS operations reko-promote calls: errors, counts and rate limits name them.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
pub enum Operation {
    AssumeRole,
    GetCallerIdentity,
    DescribeProjects,
    DescribeProjectVersions,
    ListProjectPolicies,
    ListTagsForResource,
    PutProjectPolicy,
    DeleteProjectPolicy,
    CopyProjectVersion,
    StartProjectVersion,
    StopProjectVersion,
    DeleteProjectVersion,
}

impl Operation {
    pub fn name(self) -> &'static str {
        match self {
            Operation::AssumeRole => "AssumeRole",
            Operation::GetCallerIdentity => "GetCallerIdentity",
            Operation::DescribeProjects => "DescribeProjects",
            Operation::DescribeProjectVersions => "DescribeProjectVersions",
            Operation::ListProjectPolicies => "ListProjectPolicies",
            Operation::ListTagsForResource => "ListTagsForResource",
            Operation::PutProjectPolicy => "PutProjectPolicy",
            Operation::DeleteProjectPolicy => "DeleteProjectPolicy",
            Operation::CopyProjectVersion => "CopyProjectVersion",
            Operation::StartProjectVersion => "StartProjectVersion",
            Operation::StopProjectVersion => "StopProjectVersion",
            Operation::DeleteProjectVersion => "DeleteProjectVersion",
        }
    }
}

impl std::fmt::Display for Operation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// What kind of failure an AWS error is, for deciding what to do about it. Decided from AWS's
/// error code and the SDK's error variant in [`classify`], never from message text.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum ErrorKind {
    AccessDenied,
    NotFound,
    Throttling,
    InUse,
    /// The request never reached AWS (no credentials, no connection, a timeout).
    NotSent,
    #[default]
    Other,
}

/// The one place AWS error codes are classified.
pub fn classify(code: Option<&str>) -> ErrorKind {
    match code {
        Some("AccessDeniedException" | "AccessDenied") => ErrorKind::AccessDenied,
        Some("ResourceNotFoundException") => ErrorKind::NotFound,
        // Not LimitExceededException: a quota, never retried (see `retry`).
        Some("ThrottlingException" | "Throttling" | "ProvisionedThroughputExceededException") => {
            ErrorKind::Throttling
        }
        Some("ResourceInUseException") => ErrorKind::InUse,
        _ => ErrorKind::Other,
    }
}

/// A failed AWS call: which operation, in which account, on which resource, AWS's error code,
/// message and request id. Displayed as one line; the SDK's full error chain is logged at debug
/// level (`-vv`) when the error is built, never shown otherwise.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[error(
    "{operation} failed in account {account} ({account_id}){}: {}{message}{}",
    arn.as_deref().map(|a| format!(" on {a}")).unwrap_or_default(),
    code.as_deref().map(|c| format!("{c}: ")).unwrap_or_default(),
    request_id.as_deref().map(|r| format!(" (request id {r})")).unwrap_or_default()
)]
pub struct AwsError {
    pub operation: Operation,
    /// The account's name in the manifests.
    pub account: String,
    pub account_id: String,
    /// The resource the call was about, when it names one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arn: Option<String>,
    /// AWS's error code (`AccessDeniedException`, ...); none when the request never got an
    /// answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// AWS's message, or what kept the request from being answered.
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// What kind of failure it is (from the code, or: the request was never answered).
    #[serde(default)]
    pub kind: ErrorKind,
}

/// Who a call is made for: the account's name and id (errors name both).
#[derive(Debug, Clone, Copy)]
pub struct CallSite<'a> {
    pub account: &'a str,
    pub account_id: &'a str,
}

impl<'a> From<&'a crate::desired::Account> for CallSite<'a> {
    fn from(account: &'a crate::desired::Account) -> Self {
        CallSite {
            account: &account.name,
            account_id: &account.account_id,
        }
    }
}

impl AwsError {
    /// Builds the error from an SDK error, keeping AWS's code, message and request id.
    pub fn from_sdk<E>(
        operation: Operation,
        site: CallSite<'_>,
        arn: Option<&str>,
        error: aws_sdk_rekognition::error::SdkError<E, aws_smithy_runtime_api::http::Response>,
    ) -> Self
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
    {
        use aws_sdk_rekognition::error::SdkError;
        use aws_sdk_rekognition::operation::RequestId;
        tracing::debug!(
            "{operation} in account {} failed: {}",
            site.account_id,
            redact(&DisplayErrorContext(&error).to_string())
        );
        let request_id = error.request_id().map(str::to_string);
        let (code, message, kind) = match &error {
            SdkError::ServiceError(e) => {
                let code = e.err().code().map(str::to_string);
                let message = e
                    .err()
                    .message()
                    .map(str::to_string)
                    .unwrap_or_else(|| error_chain(&error));
                let kind = classify(code.as_deref());
                (code, message, kind)
            }
            SdkError::ResponseError(_) => (None, error_chain(&error), ErrorKind::Other),
            _ => (None, error_chain(&error), ErrorKind::NotSent),
        };
        AwsError {
            operation,
            account: site.account.to_string(),
            account_id: site.account_id.to_string(),
            arn: arn.map(str::to_string),
            code,
            message: redact(&message),
            request_id,
            kind,
        }
    }
}

/// An error and its sources as one line of their Display texts (`a: b: c`), the innermost
/// cause last and repeats left out. Never the Debug form: that is for `-vv` logs only.
pub fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut current: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(e) = current {
        let text = e.to_string();
        if !text.is_empty() && !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        current = e.source();
    }
    parts.join(": ")
}

/// Removes anything that looks like a credential from a message before it is shown: error
/// chains from credential providers can quote request parameters.
pub fn redact(message: &str) -> String {
    static SECRET: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(
            r"(?i)((?:secret_?access_?key|session_?token|x-amz-security-token|signature)[\x22']?\s*[:=]\s*[\x22']?)[A-Za-z0-9/+=]{8,}",
        )
        .expect("valid pattern")
    });
    SECRET.replace_all(message, "$1<redacted>").into_owned()
}
