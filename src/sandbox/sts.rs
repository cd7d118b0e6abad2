//! AWS STS over the awsQuery protocol: form-encoded `Action=...&Version=2011-06-15` requests, XML
//! answers and `<ErrorResponse>` errors. Implements AssumeRole (trust policy, ExternalId,
//! DurationSeconds bounded by the role's maximum and by role chaining) and GetCallerIdentity.
//!
//! Sessions issued here are stored in the world (`state::Session`) so that the SigV4 check in
//! `mod.rs` accepts their ASIA keys and session tokens, and they survive a restart with `--state`.

use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use quick_xml::Writer;
use quick_xml::events::{BytesEnd, BytesStart, BytesText, Event};
use rand::Rng;
use rand::distr::Alphanumeric;

use super::error::ApiError;
use super::state::{Session, now_millis};
use super::{Caller, Refusal, Shared};
use crate::constraints;

const NS: &str = "https://sts.amazonaws.com/doc/2011-06-15/";
const OPERATIONS: &[&str] = &["AssumeRole", "GetCallerIdentity"];

/// A small XML builder over quick-xml (which does the escaping).
struct Xml(Writer<Vec<u8>>);

impl Xml {
    fn new() -> Self {
        Self(Writer::new(Vec::with_capacity(1024)))
    }
    fn open(&mut self, name: &str) -> &mut Self {
        let _ = self.0.write_event(Event::Start(BytesStart::new(name)));
        self
    }
    fn open_ns(&mut self, name: &str) -> &mut Self {
        let _ = self.0.write_event(Event::Start(
            BytesStart::new(name).with_attributes([("xmlns", NS)]),
        ));
        self
    }
    fn close(&mut self, name: &str) -> &mut Self {
        let _ = self.0.write_event(Event::End(BytesEnd::new(name)));
        self
    }
    fn leaf(&mut self, name: &str, text: &str) -> &mut Self {
        self.open(name);
        let _ = self.0.write_event(Event::Text(BytesText::new(text)));
        self.close(name)
    }
    fn finish(self) -> Vec<u8> {
        self.0.into_inner()
    }
}

fn xml_response(status: StatusCode, body: Vec<u8>) -> Response {
    let mut resp = (status, body).into_response();
    resp.headers_mut().insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("text/xml"),
    );
    resp
}

/// An error in awsQuery form.
pub(crate) fn error_response(e: &ApiError, request_id: &str) -> Response {
    let mut x = Xml::new();
    x.open_ns("ErrorResponse")
        .open("Error")
        .leaf(
            "Type",
            if e.is_server_error() {
                "Receiver"
            } else {
                "Sender"
            },
        )
        .leaf("Code", e.code)
        .leaf("Message", &e.message)
        .close("Error")
        .leaf("RequestId", request_id)
        .close("ErrorResponse");
    xml_response(e.status, x.finish())
}

fn validation(member: &str, value: Option<&str>, constraint: &str) -> ApiError {
    let shown = value.map_or("null".to_string(), |v| format!("'{v}'"));
    ApiError::client(
        "ValidationError",
        format!(
            "1 validation error detected: Value {shown} at '{member}' failed to satisfy constraint: Member must {constraint}"
        ),
    )
}

pub(crate) async fn handle(
    shared: &Shared,
    request_id: &str,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
) -> Response {
    let source: &[u8] = if method == Method::GET {
        uri.query().unwrap_or("").as_bytes()
    } else {
        body
    };
    let params: Vec<(String, String)> = form_urlencoded::parse(source).into_owned().collect();
    let param = |k: &str| params.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    let action = param("Action").unwrap_or("");
    let Some(&action) = OPERATIONS.iter().find(|o| **o == action) else {
        let e = ApiError::client(
            "InvalidAction",
            format!(
                "Could not find operation {action} for version {}",
                param("Version").unwrap_or("NO_VERSION_SPECIFIED")
            ),
        );
        return error_response(&e, request_id);
    };
    if param("Version") != Some("2011-06-15") {
        let e = ApiError::client(
            "InvalidAction",
            format!(
                "Could not find operation {action} for version {}",
                param("Version").unwrap_or("NO_VERSION_SPECIFIED")
            ),
        );
        return error_response(&e, request_id);
    }
    let caller = match super::gate(shared, "sts", action, method, uri, headers, body).await {
        Ok(c) => c,
        Err(Refusal::Auth(e)) => return error_response(&e.to_query_error(), request_id),
        Err(Refusal::Throttled) => {
            return error_response(&ApiError::client("Throttling", "Rate exceeded"), request_id);
        }
        Err(Refusal::InternalError) => {
            let e = ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "InternalFailure",
                "The request processing has failed because of an unknown error (injected by the sandbox).",
            );
            return error_response(&e, request_id);
        }
    };
    let result = match action {
        "AssumeRole" => assume_role(shared, &caller, &param, request_id),
        _ => Ok(get_caller_identity(&caller, request_id)),
    };
    let mut resp = match result {
        Ok(body) => xml_response(StatusCode::OK, body),
        Err(e) => error_response(&e, request_id),
    };
    resp.extensions_mut().insert(super::Effected {
        op: action,
        account: caller.account_id.clone(),
    });
    resp
}

fn get_caller_identity(caller: &Caller, request_id: &str) -> Vec<u8> {
    let mut x = Xml::new();
    x.open_ns("GetCallerIdentityResponse")
        .open("GetCallerIdentityResult")
        .leaf("Arn", &caller.arn)
        .leaf("UserId", &caller.user_id())
        .leaf("Account", &caller.account_id)
        .close("GetCallerIdentityResult")
        .open("ResponseMetadata")
        .leaf("RequestId", request_id)
        .close("ResponseMetadata")
        .close("GetCallerIdentityResponse");
    x.finish()
}

fn random_string(len: usize) -> String {
    rand::rng()
        .sample_iter(Alphanumeric)
        .take(len)
        .map(char::from)
        .collect()
}

fn iso8601(millis: u64) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp((millis / 1000) as i64)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

fn assume_role<'p>(
    shared: &Shared,
    caller: &Caller,
    param: &dyn Fn(&str) -> Option<&'p str>,
    request_id: &str,
) -> Result<Vec<u8>, ApiError> {
    let role_arn = param("RoleArn");
    let session_name = param("RoleSessionName");
    let external_id = param("ExternalId");
    let duration = param("DurationSeconds");
    let Some(role_arn) = role_arn else {
        return Err(validation("roleArn", None, "not be null"));
    };
    if !(20..=2048).contains(&role_arn.len()) {
        return Err(validation(
            "roleArn",
            Some(role_arn),
            "have length between 20 and 2048",
        ));
    }
    let Some(session_name) = session_name else {
        return Err(validation("roleSessionName", None, "not be null"));
    };
    if session_name.len() > 64 || session_name.len() < 2 {
        return Err(validation(
            "roleSessionName",
            Some(session_name),
            "have length between 2 and 64",
        ));
    }
    if constraints::check_role_session_name(session_name).is_err() {
        return Err(validation(
            "roleSessionName",
            Some(session_name),
            "satisfy regular expression pattern: [\\w+=,.@-]*",
        ));
    }
    if let Some(x) = external_id {
        if constraints::check_external_id(x).is_err() {
            return Err(validation(
                "externalId",
                Some(x),
                "satisfy regular expression pattern: [\\w+=,.@:\\/-]*",
            ));
        }
    }
    let duration: u32 = match duration {
        None => 3600,
        Some(d) => {
            let n: i64 = d
                .parse()
                .map_err(|_| validation("durationSeconds", Some(d), "be an integer"))?;
            if n < 900 {
                return Err(validation(
                    "durationSeconds",
                    Some(d),
                    "have value greater than or equal to 900",
                ));
            }
            if n > 43200 {
                return Err(validation(
                    "durationSeconds",
                    Some(d),
                    "have value less than or equal to 43200",
                ));
            }
            n as u32
        }
    };

    let denied = || {
        ApiError::new(
            StatusCode::FORBIDDEN,
            "AccessDenied",
            format!(
                "User: {} is not authorized to perform: sts:AssumeRole on resource: {role_arn}",
                caller.arn
            ),
        )
    };
    let mut world = shared.world();
    let Some(role) = world.roles.get(role_arn).cloned() else {
        return Err(denied());
    };
    let root = format!("arn:aws:iam::{}:root", caller.account_id);
    let trusted = role.trusted.iter().any(|t| {
        t == "*"
            || *t == caller.account_id
            || *t == root
            || *t == caller.iam_arn
            || *t == caller.arn
    });
    if !trusted {
        return Err(denied());
    }
    if let Some(required) = &role.external_id {
        if external_id != Some(required.as_str()) {
            return Err(denied());
        }
    }
    if duration > role.max_session_duration {
        return Err(ApiError::client(
            "ValidationError",
            "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.",
        ));
    }
    if caller.is_session && duration > 3600 {
        return Err(ApiError::client(
            "ValidationError",
            "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.",
        ));
    }

    let now = now_millis();
    // Drop sessions that expired over a day ago so a long-running sandbox does not grow forever
    // (checked once a minute: see `Shared::sessions_swept_at`).
    if shared.sweep_sessions_due(now) {
        world
            .sessions
            .retain(|_, s| s.expiration_millis + 86_400_000 > now);
    }
    let session = Session {
        access_key_id: format!("ASIA{}", random_string(16).to_ascii_uppercase()),
        secret_access_key: random_string(40),
        session_token: format!("IQoJb3JpZ2luX2VjE{}", random_string(300)),
        account_id: shared
            .faults
            .get()
            .misrouted_roles
            .get(&role.arn)
            .cloned()
            .unwrap_or_else(|| role.account_id.clone()),
        role_arn: role.arn.clone(),
        role_name: role.name.clone(),
        role_id: role.role_id.clone(),
        session_name: session_name.to_string(),
        expiration_millis: now + u64::from(duration) * 1000,
    };
    world
        .sessions
        .insert(session.access_key_id.clone(), session.clone());
    shared.persist(&world);
    drop(world);

    let mut x = Xml::new();
    x.open_ns("AssumeRoleResponse")
        .open("AssumeRoleResult")
        .open("AssumedRoleUser")
        .leaf(
            "AssumedRoleId",
            &format!("{}:{}", session.role_id, session.session_name),
        )
        .leaf("Arn", &session.assumed_role_arn())
        .close("AssumedRoleUser")
        .open("Credentials")
        .leaf("AccessKeyId", &session.access_key_id)
        .leaf("SecretAccessKey", &session.secret_access_key)
        .leaf("SessionToken", &session.session_token)
        .leaf("Expiration", &iso8601(session.expiration_millis))
        .close("Credentials")
        .close("AssumeRoleResult")
        .open("ResponseMetadata")
        .leaf("RequestId", request_id)
        .close("ResponseMetadata")
        .close("AssumeRoleResponse");
    Ok(x.finish())
}
