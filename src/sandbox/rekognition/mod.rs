//! The Rekognition awsJson 1.1 protocol: `POST /` with `X-Amz-Target: RekognitionService.<Op>`,
//! JSON bodies, `{"__type": ..., "Message": ...}` errors; plus what the operations share: input
//! validation with Coral-style `ValidationException` messages, ARN ownership checks, opaque
//! pagination tokens and the JSON forms of projects and versions.
//!
//! The operations are in the sibling files, grouped by resource. Authentication, counting and
//! faults happen before them (`super::gate`); they run under the state lock and are synchronous.

mod copy;
mod policies;
mod projects;
mod tags;
mod versions;

use std::collections::BTreeMap;

use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use super::error::ApiError;
use super::state::{Feature, Project, Version, VersionStatus, World, millis_to_secs};
use super::{Caller, Refusal, Shared, faults::FaultEngine};
use crate::constraints::{self, ProjectArn, ProjectVersionArn};
use serde::Serialize;

/// Operations this sandbox implements.
pub const OPERATIONS: &[&str] = &[
    "CreateProject",
    "DescribeProjects",
    "DeleteProject",
    "CreateProjectVersion",
    "DescribeProjectVersions",
    "DeleteProjectVersion",
    "CopyProjectVersion",
    "PutProjectPolicy",
    "ListProjectPolicies",
    "DeleteProjectPolicy",
    "TagResource",
    "UntagResource",
    "ListTagsForResource",
    "StartProjectVersion",
    "StopProjectVersion",
];

const TARGET_PREFIX: &str = "RekognitionService.";
const CONTENT_TYPE: &str = "application/x-amz-json-1.1";

/// An operation's answer: a JSON value, or a body already serialised (for hot paths).
pub(crate) enum Output {
    Value(Value),
    Serialized(String),
}

impl From<Value> for Output {
    fn from(v: Value) -> Self {
        Output::Value(v)
    }
}

/// What an operation sees.
pub(crate) struct Ctx<'a> {
    pub world: &'a mut World,
    pub caller: &'a Caller,
    pub op: &'a str,
    pub now: u64,
    pub faults: &'a FaultEngine,
    pub token_secret: &'a [u8],
    /// Set by operations that changed the state, so it is persisted.
    pub dirty: bool,
}

fn json_response(status: StatusCode, body: &Value) -> Response {
    json_text_response(status, body.to_string())
}

fn json_text_response(status: StatusCode, body: String) -> Response {
    let mut resp = (status, body).into_response();
    resp.headers_mut().insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static(CONTENT_TYPE),
    );
    resp
}

/// An error in awsJson form.
pub(crate) fn respond_error(e: &ApiError) -> Response {
    let mut resp = json_response(e.status, &json!({"__type": e.code, "Message": e.message}));
    if let Ok(v) = HeaderValue::from_str(e.code) {
        resp.headers_mut().insert("x-amzn-errortype", v);
    }
    resp
}

pub(crate) async fn handle(
    shared: &Shared,
    _request_id: &str,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
) -> Response {
    let target = headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let name = target.strip_prefix(TARGET_PREFIX).unwrap_or("");
    let Some(&op) = OPERATIONS.iter().find(|o| **o == name) else {
        let shown = if target.is_empty() { "(none)" } else { target };
        return respond_error(&ApiError::client(
            "UnknownOperationException",
            format!("Unknown operation {shown}"),
        ));
    };
    let caller = match super::gate(shared, "rekognition", op, method, uri, headers, body).await {
        Ok(c) => c,
        Err(Refusal::Auth(e)) => return respond_error(&e.to_json_error()),
        Err(Refusal::Throttled) => {
            return respond_error(&ApiError::client("ThrottlingException", "Rate exceeded"));
        }
        Err(Refusal::InternalError) => {
            return respond_error(&ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "InternalServerError",
                "Amazon Rekognition experienced a service issue (injected by the sandbox).",
            ));
        }
    };
    let result = Input::parse(body).and_then(|mut input| {
        let mut world = shared.world();
        let mut ctx = Ctx {
            world: &mut world,
            caller: &caller,
            op,
            now: shared.now_millis(),
            faults: &shared.faults,
            token_secret: &shared.token_secret,
            dirty: false,
        };
        let out = dispatch(&mut ctx, &mut input);
        if ctx.dirty {
            shared.persist(&world);
        }
        out
    });
    let mut resp = match result {
        Ok(Output::Value(v)) => json_response(StatusCode::OK, &v),
        Ok(Output::Serialized(s)) => json_text_response(StatusCode::OK, s),
        Err(e) => respond_error(&e),
    };
    resp.extensions_mut().insert(super::Effected {
        op,
        account: caller.account_id.clone(),
    });
    resp
}

fn dispatch(ctx: &mut Ctx<'_>, input: &mut Input) -> Result<Output, ApiError> {
    if ctx.op == "DescribeProjectVersions" {
        return versions::describe(ctx, input);
    }
    let out = match ctx.op {
        "CreateProject" => projects::create(ctx, input),
        "DescribeProjects" => projects::describe(ctx, input),
        "DeleteProject" => projects::delete(ctx, input),
        "CreateProjectVersion" => versions::create(ctx, input),
        "DeleteProjectVersion" => versions::delete(ctx, input),
        "StartProjectVersion" => versions::start(ctx, input),
        "StopProjectVersion" => versions::stop(ctx, input),
        "CopyProjectVersion" => copy::copy(ctx, input),
        "PutProjectPolicy" => policies::put(ctx, input),
        "ListProjectPolicies" => policies::list(ctx, input),
        "DeleteProjectPolicy" => policies::delete(ctx, input),
        "TagResource" => tags::tag(ctx, input),
        "UntagResource" => tags::untag(ctx, input),
        "ListTagsForResource" => tags::list(ctx, input),
        other => Err(ApiError::client(
            "UnknownOperationException",
            format!("Unknown operation {TARGET_PREFIX}{other}"),
        )),
    };
    out.map(Output::Value)
}

// ---------------------------------------------------------------------------------------------
// Input validation

pub(crate) const NAME_PATTERN: &str = "[a-zA-Z0-9_.\\-]+";
pub(crate) const PROJECT_ARN_PATTERN: &str =
    "(^arn:[a-z\\d-]+:rekognition:[a-z\\d-]+:\\d{12}:project\\/[a-zA-Z0-9_.\\-]{1,255}\\/[0-9]+$)";
pub(crate) const VERSION_ARN_PATTERN: &str = "(^arn:[a-z\\d-]+:rekognition:[a-z\\d-]+:\\d{12}:project\\/[a-zA-Z0-9_.\\-]{1,255}\\/version\\/[a-zA-Z0-9_.\\-]{1,255}\\/[0-9]+$)";
pub(crate) const KMS_PATTERN: &str = "^[A-Za-z0-9][A-Za-z0-9:_/+=,@.-]{0,2048}$";
pub(crate) const REVISION_PATTERN: &str = "[0-9A-Fa-f]+";

/// An `OutputConfig`: (S3Bucket, S3KeyPrefix).
pub(crate) type OutputConfig = (Option<String>, Option<String>);

/// A pattern check: the model's pattern text (for the message) and a checker.
pub(crate) type Pattern = (&'static str, fn(&str) -> bool);

pub(crate) const NAME: Pattern = (NAME_PATTERN, |s| constraints::check_name(s).is_ok());
pub(crate) const POLICY_NAME: Pattern =
    (NAME_PATTERN, |s| constraints::check_policy_name(s).is_ok());
pub(crate) const PROJECT_ARN: Pattern = (PROJECT_ARN_PATTERN, |s| ProjectArn::parse(s).is_ok());
pub(crate) const VERSION_ARN: Pattern =
    (VERSION_ARN_PATTERN, |s| ProjectVersionArn::parse(s).is_ok());
pub(crate) const KMS: Pattern = (KMS_PATTERN, |s| constraints::check_kms_key_id(s).is_ok());
pub(crate) const REVISION: Pattern = (REVISION_PATTERN, |s| {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_hexdigit())
});

/// A JSON request body being read member by member. Constraint violations are collected and
/// reported together by [`Input::finish`], as AWS's front end does; a member of the wrong JSON
/// type is a SerializationException at once.
pub(crate) struct Input {
    obj: Map<String, Value>,
    errors: Vec<String>,
}

fn member(name: &str) -> String {
    let mut c = name.chars();
    match c.next() {
        Some(f) => f.to_lowercase().chain(c).collect(),
        None => String::new(),
    }
}

fn shown(v: &str) -> String {
    // Long values are cut in messages, as AWS does, so a 2 000-character document is not echoed.
    if v.chars().count() > 100 {
        format!("{}...", v.chars().take(100).collect::<String>())
    } else {
        v.to_string()
    }
}

impl Input {
    pub fn parse(body: &[u8]) -> Result<Self, ApiError> {
        if body.iter().all(u8::is_ascii_whitespace) {
            return Ok(Self {
                obj: Map::new(),
                errors: vec![],
            });
        }
        match serde_json::from_slice::<Value>(body) {
            Ok(Value::Object(obj)) => Ok(Self {
                obj,
                errors: vec![],
            }),
            Ok(_) => Err(ApiError::serialization(
                "Start of structure or map found where not expected.",
            )),
            Err(e) => Err(ApiError::serialization(format!(
                "Could not parse request body: {e}"
            ))),
        }
    }

    fn get(&self, name: &str) -> Option<&Value> {
        self.obj.get(name).filter(|v| !v.is_null())
    }

    fn type_error(name: &str, expected: &str) -> ApiError {
        ApiError::serialization(format!(
            "Unexpected value type for member '{name}': expected {expected}"
        ))
    }

    fn push(&mut self, value: &str, name: &str, constraint: String) {
        self.errors.push(format!(
            "Value {value} at '{}' failed to satisfy constraint: Member must {constraint}",
            member(name)
        ));
    }

    fn null(&mut self, name: &str) {
        self.errors.push(format!(
            "Value null at '{}' failed to satisfy constraint: Member must not be null",
            member(name)
        ));
    }

    /// A string member with length bounds (in characters) and an optional pattern.
    pub fn string(
        &mut self,
        name: &str,
        required: bool,
        min: usize,
        max: usize,
        pattern: Option<Pattern>,
    ) -> Result<Option<String>, ApiError> {
        let Some(v) = self.get(name) else {
            if required {
                self.null(name);
            }
            return Ok(None);
        };
        let Value::String(s) = v else {
            return Err(Self::type_error(name, "a string"));
        };
        let s = s.clone();
        self.check_string(name, &s, min, max, pattern);
        Ok(Some(s))
    }

    fn check_string(
        &mut self,
        name: &str,
        s: &str,
        min: usize,
        max: usize,
        pattern: Option<Pattern>,
    ) {
        let len = s.chars().count();
        // Quoted only for a violation: this runs for every string member of every request.
        let quoted = || format!("'{}'", shown(s));
        if len < min {
            self.push(
                &quoted(),
                name,
                format!("have length greater than or equal to {min}"),
            );
        } else if len > max {
            self.push(
                &quoted(),
                name,
                format!("have length less than or equal to {max}"),
            );
        } else if let Some((text, check)) = pattern {
            if !check(s) {
                self.push(
                    &quoted(),
                    name,
                    format!("satisfy regular expression pattern: {text}"),
                );
            }
        }
    }

    pub fn enumeration(&mut self, name: &str, values: &[&str]) -> Result<Option<String>, ApiError> {
        let v = self.string(name, false, 0, usize::MAX, None)?;
        if let Some(s) = &v {
            if !values.contains(&s.as_str()) {
                self.push(
                    &format!("'{}'", shown(s)),
                    name,
                    format!("satisfy enum value set: [{}]", values.join(", ")),
                );
            }
        }
        Ok(v)
    }

    pub fn int(
        &mut self,
        name: &str,
        required: bool,
        min: i64,
        max: Option<i64>,
    ) -> Result<Option<i64>, ApiError> {
        let Some(v) = self.get(name) else {
            if required {
                self.null(name);
            }
            return Ok(None);
        };
        let Some(n) = v.as_i64() else {
            return Err(Self::type_error(name, "an integer"));
        };
        if n < min {
            self.push(
                &format!("'{n}'"),
                name,
                format!("have value greater than or equal to {min}"),
            );
        } else if let Some(max) = max.filter(|m| n > *m) {
            self.push(
                &format!("'{n}'"),
                name,
                format!("have value less than or equal to {max}"),
            );
        }
        Ok(Some(n))
    }

    /// A list of strings with item-count bounds; each item checked like [`Input::string`].
    #[allow(clippy::too_many_arguments)]
    pub fn string_list(
        &mut self,
        name: &str,
        required: bool,
        min_items: usize,
        max_items: usize,
        item_min: usize,
        item_max: usize,
        pattern: Option<Pattern>,
    ) -> Result<Option<Vec<String>>, ApiError> {
        let Some(v) = self.get(name) else {
            if required {
                self.null(name);
            }
            return Ok(None);
        };
        let Value::Array(items) = v else {
            return Err(Self::type_error(name, "a list"));
        };
        let mut out = Vec::with_capacity(items.len());
        for item in items {
            match item {
                Value::String(s) => out.push(s.clone()),
                _ => return Err(Self::type_error(name, "a list of strings")),
            }
        }
        let listed = format!("'[{}]'", shown(&out.join(", ")));
        if out.len() < min_items {
            self.push(
                &listed,
                name,
                format!("have length greater than or equal to {min_items}"),
            );
        } else if out.len() > max_items {
            self.push(
                &listed,
                name,
                format!("have length less than or equal to {max_items}"),
            );
        }
        for (i, s) in out.iter().enumerate() {
            self.check_string(&format!("{name}.{}", i + 1), s, item_min, item_max, pattern);
        }
        Ok(Some(out))
    }

    /// A `TagMap`: string keys and values checked with the shared tag rules.
    pub fn tags(
        &mut self,
        name: &str,
        required: bool,
    ) -> Result<Option<BTreeMap<String, String>>, ApiError> {
        let Some(v) = self.get(name) else {
            if required {
                self.null(name);
            }
            return Ok(None);
        };
        let Value::Object(m) = v else {
            return Err(Self::type_error(name, "a map"));
        };
        let mut out = BTreeMap::new();
        for (k, v) in m {
            let Value::String(v) = v else {
                return Err(Self::type_error(name, "a map of strings"));
            };
            out.insert(k.clone(), v.clone());
        }
        if out.len() > constraints::MAX_TAGS {
            self.push(
                "'{...}'",
                name,
                format!(
                    "have length less than or equal to {}",
                    constraints::MAX_TAGS
                ),
            );
        }
        for (k, v) in &out {
            if let Err(e) = constraints::check_tag_key(k) {
                self.push(
                    &format!("'{}'", shown(k)),
                    &format!("{name}.key"),
                    format!("be a valid tag key ({e})"),
                );
            }
            if let Err(e) = constraints::check_tag_value(v) {
                self.push(
                    &format!("'{}'", shown(v)),
                    &format!("{name}.value"),
                    format!("be a valid tag value ({e})"),
                );
            }
        }
        Ok(Some(out))
    }

    /// An `OutputConfig` structure: (S3Bucket, S3KeyPrefix).
    pub fn output_config(
        &mut self,
        name: &str,
        required: bool,
    ) -> Result<Option<OutputConfig>, ApiError> {
        let Some(v) = self.get(name) else {
            if required {
                self.null(name);
            }
            return Ok(None);
        };
        let Value::Object(m) = v else {
            return Err(Self::type_error(name, "a structure"));
        };
        let mut inner = Input {
            obj: m.clone(),
            errors: vec![],
        };
        let bucket = inner.string(
            "S3Bucket",
            false,
            3,
            255,
            Some(("[0-9A-Za-z\\.\\-_]*", |s| {
                s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
            })),
        )?;
        let prefix = inner.string("S3KeyPrefix", false, 0, 1024, None)?;
        let prefix_name = member(name);
        self.errors.extend(
            inner
                .errors
                .into_iter()
                .map(|e| e.replacen(" at '", &format!(" at '{prefix_name}."), 1)),
        );
        Ok(Some((bucket, prefix)))
    }

    /// Reports the collected constraint violations, if any.
    pub fn finish(&mut self) -> Result<(), ApiError> {
        match self.errors.len() {
            0 => Ok(()),
            n => Err(ApiError::validation(format!(
                "{n} validation error{} detected: {}",
                if n == 1 { "" } else { "s" },
                self.errors.join("; ")
            ))),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Ownership and lookup

impl Ctx<'_> {
    fn denied(&self, resource: &str) -> ApiError {
        ApiError::access_denied(format!(
            "User: {} is not authorized to perform: rekognition:{} on resource: {resource}",
            self.caller.arn, self.op
        ))
    }

    /// A KMS key given as an ARN must be in the request's region (KMS keys are regional; key ids
    /// and aliases are resolved in the request's region, so they cannot be wrong this way).
    pub fn check_kms_region(&self, kms: Option<&str>) -> Result<(), ApiError> {
        match kms.and_then(constraints::kms_arn_region_account) {
            Some((region, _)) if region != self.caller.region => {
                Err(ApiError::invalid_parameter(format!(
                    "KmsKeyId is a key in region {region}; the model is in {}, and KMS keys are regional.",
                    self.caller.region
                )))
            }
            _ => Ok(()),
        }
    }

    fn wrong_region(&self, member: &str, region: &str) -> ApiError {
        ApiError::invalid_parameter(format!(
            "{member} is in region {region} but the request was sent to {}; Rekognition Custom Labels resources are regional",
            self.caller.region
        ))
    }

    /// Refuses an ARN (named by `member`) of another account or another region than the
    /// request's: callers touch only their own account's resources, in one region.
    fn check_owned(
        &self,
        member: &str,
        arn: &str,
        account_id: &str,
        region: &str,
    ) -> Result<(), ApiError> {
        if account_id != self.caller.account_id {
            return Err(self.denied(arn));
        }
        if region != self.caller.region {
            return Err(self.wrong_region(member, region));
        }
        Ok(())
    }

    /// A project ARN the caller must own, in the request's region.
    pub fn own_project_arn(&self, member: &str, arn: &str) -> Result<ProjectArn, ApiError> {
        let parsed = ProjectArn::parse(arn)
            .map_err(|e| ApiError::invalid_parameter(format!("{member}: {e}")))?;
        self.check_owned(member, arn, &parsed.account_id, &parsed.region)?;
        Ok(parsed)
    }

    /// A version ARN the caller must own, in the request's region.
    pub fn own_version_arn(&self, member: &str, arn: &str) -> Result<ProjectVersionArn, ApiError> {
        let parsed = ProjectVersionArn::parse(arn)
            .map_err(|e| ApiError::invalid_parameter(format!("{member}: {e}")))?;
        self.check_owned(member, arn, &parsed.account_id, &parsed.region)?;
        Ok(parsed)
    }

    pub fn project_mut(&mut self, arn: &ProjectArn) -> Result<&mut Project, ApiError> {
        let full = arn.to_string();
        match self
            .world
            .project_mut(&arn.account_id, &arn.region, &arn.project)
        {
            Some(p) if p.arn == full => Ok(p),
            _ => Err(project_not_found(&full)),
        }
    }

    pub fn version_mut(&mut self, arn: &ProjectVersionArn) -> Result<&mut Version, ApiError> {
        let now = self.now;
        let full = arn.to_string();
        self.world
            .settle_project(&arn.account_id, &arn.region, &arn.project, now);
        self.world
            .project_mut(&arn.account_id, &arn.region, &arn.project)
            .and_then(|p| p.versions.get_mut(&arn.version))
            .filter(|v| v.arn == full)
            .ok_or_else(|| version_not_found(&full))
    }
}

pub(crate) fn project_not_found(arn: &str) -> ApiError {
    ApiError::not_found(format!("The project {arn} does not exist."))
}

pub(crate) fn version_not_found(arn: &str) -> ApiError {
    ApiError::not_found(format!("The project version {arn} does not exist."))
}

/// The ARN of a new project.
pub(crate) fn project_arn(region: &str, account: &str, name: &str, created: u64) -> String {
    let partition = constraints::partition_of_region(region);
    format!("arn:{partition}:rekognition:{region}:{account}:project/{name}/{created}")
}

/// The ARN of a new version of `project_arn`.
pub(crate) fn version_arn(project: &ProjectArn, version: &str, created: u64) -> String {
    format!(
        "arn:{}:rekognition:{}:{}:project/{}/version/{version}/{created}",
        project.partition, project.region, project.account_id, project.project
    )
}

// ---------------------------------------------------------------------------------------------
// Pagination

/// Opaque NextTokens: the offset and a keyed checksum over (scope, offset), hex-encoded. A token
/// altered, forged, or used with other parameters is refused.
pub(crate) fn encode_token(secret: &[u8], scope: &str, offset: usize) -> String {
    let off = (offset as u64).to_be_bytes();
    let mac = token_mac(secret, scope, &off);
    let mut bytes = off.to_vec();
    bytes.extend_from_slice(&mac);
    hex::encode(bytes)
}

fn token_mac(secret: &[u8], scope: &str, off: &[u8]) -> [u8; 16] {
    let mut h = Sha256::new();
    h.update(secret);
    h.update(scope.as_bytes());
    h.update([0]);
    h.update(off);
    let d = h.finalize();
    let mut out = [0u8; 16];
    out.copy_from_slice(&d[..16]);
    out
}

pub(crate) fn decode_token(secret: &[u8], scope: &str, token: &str) -> Result<usize, ApiError> {
    let invalid = || {
        ApiError::client(
            "InvalidPaginationTokenException",
            "Invalid pagination token provided.",
        )
    };
    let bytes = hex::decode(token).map_err(|_| invalid())?;
    if bytes.len() != 24 {
        return Err(invalid());
    }
    let (off, mac) = bytes.split_at(8);
    if token_mac(secret, scope, off) != mac {
        return Err(invalid());
    }
    let mut b = [0u8; 8];
    b.copy_from_slice(off);
    usize::try_from(u64::from_be_bytes(b)).map_err(|_| invalid())
}

/// The range of one page of `total` items, and the token for the next page if there is one.
pub(crate) fn page_bounds(
    secret: &[u8],
    total: usize,
    max: usize,
    token: Option<&str>,
    scope: &str,
) -> Result<(usize, usize, Option<String>), ApiError> {
    let start = match token {
        Some(t) => decode_token(secret, scope, t)?,
        None => 0,
    }
    .min(total);
    let end = start.saturating_add(max).min(total);
    let next = (end < total).then(|| encode_token(secret, scope, end));
    Ok((start, end, next))
}

/// One page of `items`, and the token for the next page if there is one.
pub(crate) fn page<T>(
    ctx: &Ctx<'_>,
    items: Vec<T>,
    max: usize,
    token: Option<&str>,
    scope: &str,
) -> Result<(Vec<T>, Option<String>), ApiError> {
    let (start, end, next) = page_bounds(ctx.token_secret, items.len(), max, token, scope)?;
    let page = items.into_iter().skip(start).take(end - start).collect();
    Ok((page, next))
}

// ---------------------------------------------------------------------------------------------
// Output shapes

/// `ProjectVersionDescription`, serialised straight from the state (no intermediate `Value`: this
/// is the hottest answer, and building maps per field is most of its cost).
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct VersionOut<'a> {
    project_version_arn: &'a str,
    creation_timestamp: f64,
    status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    status_message: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    billable_training_time_in_seconds: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    training_end_timestamp: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    output_config: Option<OutputConfigOut<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    evaluation_result: Option<EvaluationOut<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    kms_key_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    min_inference_units: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    max_inference_units: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    source_project_version_arn: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    version_description: Option<&'a str>,
    feature: &'static str,
}

#[derive(Serialize)]
pub(crate) struct OutputConfigOut<'a> {
    #[serde(rename = "S3Bucket", skip_serializing_if = "Option::is_none")]
    s3_bucket: Option<&'a str>,
    #[serde(rename = "S3KeyPrefix", skip_serializing_if = "Option::is_none")]
    s3_key_prefix: Option<&'a str>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct EvaluationOut<'a> {
    #[serde(rename = "F1Score", skip_serializing_if = "Option::is_none")]
    f1_score: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    summary: Option<SummaryOut<'a>>,
}

#[derive(Serialize)]
pub(crate) struct SummaryOut<'a> {
    #[serde(rename = "S3Object")]
    s3_object: S3ObjectOut<'a>,
}

#[derive(Serialize)]
pub(crate) struct S3ObjectOut<'a> {
    #[serde(rename = "Bucket")]
    bucket: &'a str,
    #[serde(rename = "Name")]
    name: &'a str,
}

impl<'a> VersionOut<'a> {
    /// The description of `v` (of a project customizing `feature`); the evaluation is left out
    /// while training or after it failed.
    pub fn new(v: &'a Version, feature: Feature) -> Self {
        let evaluated = !matches!(
            v.status,
            VersionStatus::TrainingInProgress | VersionStatus::TrainingFailed
        ) && (v.f1_score.is_some() || v.summary.is_some());
        Self {
            project_version_arn: &v.arn,
            creation_timestamp: millis_to_secs(v.created_millis),
            status: v.status.as_str(),
            status_message: v.status_message.as_deref(),
            billable_training_time_in_seconds: v.billable_training_seconds,
            training_end_timestamp: v.training_end_millis.map(millis_to_secs),
            output_config: (v.output_bucket.is_some() || v.output_prefix.is_some()).then_some(
                OutputConfigOut {
                    s3_bucket: v.output_bucket.as_deref(),
                    s3_key_prefix: v.output_prefix.as_deref(),
                },
            ),
            evaluation_result: evaluated.then(|| EvaluationOut {
                f1_score: v.f1_score,
                summary: v.summary.as_ref().map(|s| SummaryOut {
                    s3_object: S3ObjectOut {
                        bucket: &s.bucket,
                        name: &s.name,
                    },
                }),
            }),
            kms_key_id: v.kms_key_id.as_deref(),
            min_inference_units: v.min_inference_units,
            max_inference_units: v.max_inference_units,
            source_project_version_arn: v.source_version_arn.as_deref(),
            version_description: v.description.as_deref(),
            feature: feature.as_str(),
        }
    }
}

pub(crate) fn project_json(p: &Project) -> Value {
    let mut m = Map::new();
    m.insert("ProjectArn".into(), json!(p.arn));
    m.insert(
        "CreationTimestamp".into(),
        json!(millis_to_secs(p.created_millis)),
    );
    m.insert("Status".into(), json!("CREATED"));
    m.insert("Datasets".into(), json!([]));
    m.insert("Feature".into(), json!(p.feature.as_str()));
    if let Some(a) = p.auto_update {
        m.insert("AutoUpdate".into(), json!(a.as_str()));
    }
    Value::Object(m)
}
