//! The sandbox's own reading of resource policies, as AWS reads Rekognition project policies:
//! the IAM policy grammar, the checks PutProjectPolicy makes on a document
//! (MalformedPolicyDocumentException), and the evaluation that decides whether a caller may
//! `rekognition:CopyProjectVersion` a model version of another account.
//!
//! Written from the IAM User Guide ("Policy evaluation logic", "IAM JSON policy elements":
//! Version, Statement, Sid, Effect, Principal, NotPrincipal, Action, NotAction, Resource,
//! NotResource, Condition) and the Rekognition Custom Labels guide ("Creating a project policy
//! document"). It shares no code with the product's `crate::policy`, on purpose: the sandbox plays
//! AWS, and a property test (`tests/integration/policy_agreement.rs`) checks that the two
//! readings agree, so that a mistake in one of them shows instead of being agreed with.
//!
//! [`PolicyDocument::parse`] reads the general grammar (the `Not…` elements included, so the
//! evaluator is the IAM one); [`project_policy`] adds what Rekognition refuses on top. Identity
//! policies, SCPs and permission boundaries are not modelled: the sandbox's callers are taken to
//! be allowed by their own account, and only the source project's policies decide a copy across
//! accounts. Serving requests is left to `rekognition/`.

use std::collections::BTreeSet;

use serde_json::{Map, Value};

/// The action a project policy governs (and the only one Rekognition accepts in one).
pub const COPY_PROJECT_VERSION: &str = "rekognition:CopyProjectVersion";

/// Rekognition's actions (the operations of the service model, rekognition-2016-06-27): what an
/// action pattern of a project policy is expanded against.
const REKOGNITION_ACTIONS: [&str; 75] = [
    "AssociateFaces",
    "CompareFaces",
    "CopyProjectVersion",
    "CreateCollection",
    "CreateDataset",
    "CreateFaceLivenessSession",
    "CreateProject",
    "CreateProjectVersion",
    "CreateStreamProcessor",
    "CreateUser",
    "DeleteCollection",
    "DeleteDataset",
    "DeleteFaces",
    "DeleteProject",
    "DeleteProjectPolicy",
    "DeleteProjectVersion",
    "DeleteStreamProcessor",
    "DeleteUser",
    "DescribeCollection",
    "DescribeDataset",
    "DescribeProjectVersions",
    "DescribeProjects",
    "DescribeStreamProcessor",
    "DetectCustomLabels",
    "DetectFaces",
    "DetectLabels",
    "DetectModerationLabels",
    "DetectProtectiveEquipment",
    "DetectText",
    "DisassociateFaces",
    "DistributeDatasetEntries",
    "GetCelebrityInfo",
    "GetCelebrityRecognition",
    "GetContentModeration",
    "GetFaceDetection",
    "GetFaceLivenessSessionResults",
    "GetFaceSearch",
    "GetLabelDetection",
    "GetMediaAnalysisJob",
    "GetPersonTracking",
    "GetSegmentDetection",
    "GetTextDetection",
    "IndexFaces",
    "ListCollections",
    "ListDatasetEntries",
    "ListDatasetLabels",
    "ListFaces",
    "ListMediaAnalysisJobs",
    "ListProjectPolicies",
    "ListStreamProcessors",
    "ListTagsForResource",
    "ListUsers",
    "PutProjectPolicy",
    "RecognizeCelebrities",
    "SearchFaces",
    "SearchFacesByImage",
    "SearchUsers",
    "SearchUsersByImage",
    "StartCelebrityRecognition",
    "StartContentModeration",
    "StartFaceDetection",
    "StartFaceSearch",
    "StartLabelDetection",
    "StartMediaAnalysisJob",
    "StartPersonTracking",
    "StartProjectVersion",
    "StartSegmentDetection",
    "StartStreamProcessor",
    "StartTextDetection",
    "StopProjectVersion",
    "StopStreamProcessor",
    "TagResource",
    "UntagResource",
    "UpdateDatasetEntries",
    "UpdateStreamProcessor",
];

/// The longest document PutProjectPolicy accepts (`ProjectPolicyDocument`, max 2000).
pub const MAX_PROJECT_POLICY_CHARS: usize = 2000;

/// The policy language versions IAM knows; a document without `Version` is read as the older.
const VERSIONS: [&str; 2] = ["2012-10-17", "2008-10-17"];

/// Why a document is refused, with AWS's error code [`MalformedPolicyDocument::CODE`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct MalformedPolicyDocument {
    pub message: String,
}

impl MalformedPolicyDocument {
    /// The error code Rekognition answers a refused document with.
    pub const CODE: &'static str = "MalformedPolicyDocumentException";

    fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
        }
    }
}

type Parsed<T> = Result<T, MalformedPolicyDocument>;

/// `Allow` or `Deny`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    Allow,
    Deny,
}

/// A statement's element in its positive (`Action`) or negated (`NotAction`) form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope<T> {
    /// The statement applies to what matches one of these.
    Only(Vec<T>),
    /// The statement applies to what matches none of these.
    AllBut(Vec<T>),
}

impl<T> Scope<T> {
    fn covers(&self, matches: impl Fn(&T) -> bool) -> bool {
        match self {
            Scope::Only(items) => items.iter().any(matches),
            Scope::AllBut(items) => !items.iter().any(matches),
        }
    }

    fn is_negated(&self) -> bool {
        matches!(self, Scope::AllBut(_))
    }
}

/// One entry of a `Principal` (`{"AWS": ...}` or `"*"`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    /// `"*"` or `{"AWS": "*"}`: anyone.
    Anyone,
    /// `"123456789012"` or `arn:PARTITION:iam::123456789012:root`: every principal of the
    /// account (whose own IAM then decides; the sandbox takes that as given).
    Account {
        partition: Option<String>,
        account_id: String,
    },
    /// `arn:PARTITION:iam::ACCOUNT:user/...`: that IAM user.
    User { arn: String },
    /// `arn:PARTITION:iam::ACCOUNT:role/...`: the role, and so every session of it.
    Role { arn: String },
    /// `arn:PARTITION:sts::ACCOUNT:assumed-role/ROLE/SESSION`: that one session.
    Session { arn: String },
}

/// A condition operator (`StringEquals`, `ArnLike`, ... with an optional `IfExists`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Operator {
    StringEquals,
    StringNotEquals,
    StringEqualsIgnoreCase,
    StringNotEqualsIgnoreCase,
    StringLike,
    StringNotLike,
    ArnEquals,
    ArnNotEquals,
    ArnLike,
    ArnNotLike,
    Bool,
    Null,
}

impl Operator {
    fn parse(name: &str) -> Option<(Self, bool)> {
        let (base, if_exists) = match name.strip_suffix("IfExists") {
            Some(base) => (base, true),
            None => (name, false),
        };
        let op = match base {
            "StringEquals" => Self::StringEquals,
            "StringNotEquals" => Self::StringNotEquals,
            "StringEqualsIgnoreCase" => Self::StringEqualsIgnoreCase,
            "StringNotEqualsIgnoreCase" => Self::StringNotEqualsIgnoreCase,
            "StringLike" => Self::StringLike,
            "StringNotLike" => Self::StringNotLike,
            "ArnEquals" => Self::ArnEquals,
            "ArnNotEquals" => Self::ArnNotEquals,
            "ArnLike" => Self::ArnLike,
            "ArnNotLike" => Self::ArnNotLike,
            "Bool" => Self::Bool,
            // `NullIfExists` means nothing; IAM refuses it.
            "Null" if !if_exists => Self::Null,
            _ => return None,
        };
        Some((op, if_exists))
    }

    /// Negated operators hold when the key is missing from the request (IAM's rule for them).
    fn is_negated(self) -> bool {
        matches!(
            self,
            Self::StringNotEquals
                | Self::StringNotEqualsIgnoreCase
                | Self::StringNotLike
                | Self::ArnNotEquals
                | Self::ArnNotLike
        )
    }

    fn value_matches(self, pattern: &str, value: &str) -> bool {
        match self {
            Self::StringEquals | Self::StringNotEquals => pattern == value,
            Self::StringEqualsIgnoreCase | Self::StringNotEqualsIgnoreCase => {
                pattern.to_lowercase() == value.to_lowercase()
            }
            Self::StringLike | Self::StringNotLike => glob(pattern, value, Glob::Text),
            Self::ArnEquals | Self::ArnNotEquals | Self::ArnLike | Self::ArnNotLike => {
                glob(pattern, value, Glob::Arn)
            }
            Self::Bool => pattern.eq_ignore_ascii_case(value),
            Self::Null => unreachable!("Null compares presence, not values"),
        }
    }
}

/// One `"Operator": {"key": values}` test of a `Condition` block.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Condition {
    operator: Operator,
    if_exists: bool,
    /// Lower-cased: condition keys are case-insensitive.
    key: String,
    values: Vec<String>,
}

/// One statement, normalised (single values become one-element lists).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    pub sid: Option<String>,
    pub effect: Effect,
    pub principals: Scope<Principal>,
    pub actions: Scope<String>,
    pub resources: Scope<String>,
    conditions: Vec<Condition>,
}

/// A parsed policy document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyDocument {
    pub version: &'static str,
    pub statements: Vec<Statement>,
}

/// Who is asking, as a resource policy sees them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Requester {
    pub partition: String,
    pub account_id: String,
    /// The IAM user, or for an assumed-role session the role.
    pub identity_arn: String,
    /// The assumed-role session ARN, when the requester is one.
    pub session_arn: Option<String>,
}

/// One request to authorize.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    pub requester: &'a Requester,
    pub action: &'a str,
    pub resource: &'a str,
    /// The region the request was sent to (`aws:RequestedRegion`).
    pub region: &'a str,
}

/// The outcome of evaluating the policies that apply to one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// A statement allows the request and none denies it.
    Allow,
    /// A statement denies it: a Deny wins over every Allow.
    ExplicitDeny,
    /// Nothing allows it (IAM's default).
    ImplicitDeny,
}

/// Evaluates `policies` for `request`: an applicable Deny decides at once, else an applicable
/// Allow, else the implicit deny.
pub fn evaluate<'a>(
    policies: impl IntoIterator<Item = &'a PolicyDocument>,
    request: &Request<'_>,
) -> Verdict {
    let mut allowed = false;
    for statement in policies.into_iter().flat_map(|p| &p.statements) {
        if statement.applies_to(request) {
            match statement.effect {
                Effect::Deny => return Verdict::ExplicitDeny,
                Effect::Allow => allowed = true,
            }
        }
    }
    if allowed {
        Verdict::Allow
    } else {
        Verdict::ImplicitDeny
    }
}

/// Reads a document submitted to PutProjectPolicy (or seeded) as Rekognition does: the IAM
/// grammar, at most [`MAX_PROJECT_POLICY_CHARS`] characters, `Principal` of AWS principals only,
/// no `NotPrincipal`, `NotAction` or `NotResource` ("prohibited fields" in the Custom Labels
/// guide), and every action naming `rekognition:CopyProjectVersion` and nothing else ("the only
/// supported action is rekognition:CopyProjectVersion"): a wildcard pattern is expanded as IAM
/// expands it, against Rekognition's actions, so `rekognition:Copy*` is accepted while
/// `rekognition:*` and `*` (which also grant every other action) are not. Conditions are
/// accepted as IAM accepts them (see `docs/sandbox.md` for which keys the sandbox knows).
pub fn project_policy(text: &str) -> Parsed<PolicyDocument> {
    let chars = text.chars().count();
    if chars > MAX_PROJECT_POLICY_CHARS {
        return Err(MalformedPolicyDocument::new(format!(
            "The policy document is {chars} characters long; the limit is {MAX_PROJECT_POLICY_CHARS}."
        )));
    }
    let document = PolicyDocument::parse(text)?;
    for (index, statement) in document.statements.iter().enumerate() {
        let at = statement.label(index);
        for (negated, element) in [
            (statement.principals.is_negated(), "NotPrincipal"),
            (statement.actions.is_negated(), "NotAction"),
            (statement.resources.is_negated(), "NotResource"),
        ] {
            if negated {
                return Err(MalformedPolicyDocument::new(format!(
                    "{at}: {element} is not allowed in a project policy; use {}.",
                    &element[3..]
                )));
            }
        }
        if let Scope::Only(actions) = &statement.actions {
            if let Some(other) = actions.iter().find(|a| !names_only_copy(a)) {
                return Err(MalformedPolicyDocument::new(format!(
                    "{at}: the action {other} is not supported; the only supported action is {COPY_PROJECT_VERSION}."
                )));
            }
        }
    }
    Ok(document)
}

impl PolicyDocument {
    /// Parses a document of the IAM policy grammar.
    pub fn parse(text: &str) -> Parsed<Self> {
        let value: Value = serde_json::from_str(text).map_err(|e| {
            MalformedPolicyDocument::new(format!("The policy document is not valid JSON: {e}."))
        })?;
        let Value::Object(object) = value else {
            return Err(MalformedPolicyDocument::new(
                "The policy document must be a JSON object.",
            ));
        };
        if let Some(key) = object
            .keys()
            .find(|k| !matches!(k.as_str(), "Version" | "Id" | "Statement"))
        {
            return Err(MalformedPolicyDocument::new(format!(
                "Unknown policy element {key}: a policy has Version, Id and Statement."
            )));
        }
        let version =
            match object.get("Version") {
                None => VERSIONS[1],
                Some(Value::String(v)) => VERSIONS
                    .into_iter()
                    .find(|known| known == v)
                    .ok_or_else(|| {
                        MalformedPolicyDocument::new(format!(
                            "The policy Version {v} is not valid: use 2012-10-17."
                        ))
                    })?,
                Some(other) => {
                    return Err(MalformedPolicyDocument::new(format!(
                        "The policy Version must be a string, not {other}."
                    )));
                }
            };
        if object.get("Id").is_some_and(|id| !id.is_string()) {
            return Err(MalformedPolicyDocument::new(
                "The policy Id must be a string.",
            ));
        }
        let statements: Vec<&Value> = match object.get("Statement") {
            Some(Value::Array(items)) if !items.is_empty() => items.iter().collect(),
            Some(single @ Value::Object(_)) => vec![single],
            Some(_) => {
                return Err(MalformedPolicyDocument::new(
                    "Statement must be a statement object or a non-empty list of them.",
                ));
            }
            None => {
                return Err(MalformedPolicyDocument::new("The policy has no Statement."));
            }
        };
        let statements = statements
            .into_iter()
            .enumerate()
            .map(|(index, value)| Statement::parse(index, value))
            .collect::<Parsed<Vec<_>>>()?;
        let mut sids = BTreeSet::new();
        if let Some(duplicate) = statements
            .iter()
            .filter_map(|s| s.sid.as_deref())
            .find(|sid| !sids.insert(*sid))
        {
            return Err(MalformedPolicyDocument::new(format!(
                "Statement ids (Sid) must be unique within a policy; {duplicate} is used twice."
            )));
        }
        Ok(PolicyDocument {
            version,
            statements,
        })
    }
}

impl Statement {
    fn label(&self, index: usize) -> String {
        match &self.sid {
            Some(sid) => format!("Statement {sid}"),
            None => format!("Statement {}", index + 1),
        }
    }

    fn parse(index: usize, value: &Value) -> Parsed<Self> {
        let Value::Object(object) = value else {
            return Err(MalformedPolicyDocument::new(format!(
                "Statement {} must be a JSON object.",
                index + 1
            )));
        };
        let sid = match object.get("Sid") {
            None => None,
            Some(Value::String(sid)) => Some(sid.clone()),
            Some(_) => {
                return Err(MalformedPolicyDocument::new(format!(
                    "Statement {}: Sid must be a string.",
                    index + 1
                )));
            }
        };
        let at = match &sid {
            Some(sid) => format!("Statement {sid}"),
            None => format!("Statement {}", index + 1),
        };
        let bad = |message: String| MalformedPolicyDocument::new(format!("{at}: {message}"));
        if let Some(key) = object.keys().find(|k| {
            !matches!(
                k.as_str(),
                "Sid"
                    | "Effect"
                    | "Principal"
                    | "NotPrincipal"
                    | "Action"
                    | "NotAction"
                    | "Resource"
                    | "NotResource"
                    | "Condition"
            )
        }) {
            return Err(bad(format!("unknown statement element {key}.")));
        }
        let effect = match object.get("Effect") {
            Some(Value::String(e)) if e == "Allow" => Effect::Allow,
            Some(Value::String(e)) if e == "Deny" => Effect::Deny,
            Some(other) => {
                return Err(bad(format!("Effect must be Allow or Deny, not {other}.")));
            }
            None => return Err(bad("Effect is required.".into())),
        };
        let principals = either(object, "Principal", &at, parse_principals)?;
        let actions = either(object, "Action", &at, |v, element, at| {
            let actions = strings(v, element, at)?;
            for action in &actions {
                check_action(action).map_err(|why| {
                    MalformedPolicyDocument::new(format!("{at}: {element} {action} {why}."))
                })?;
            }
            Ok(actions)
        })?;
        let resources = either(object, "Resource", &at, |v, element, at| {
            let resources = strings(v, element, at)?;
            for resource in &resources {
                if resource != "*" && !is_arn_pattern(resource) {
                    return Err(MalformedPolicyDocument::new(format!(
                        "{at}: {element} {resource} is not an ARN (arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE) or *."
                    )));
                }
            }
            Ok(resources)
        })?;
        let conditions = match object.get("Condition") {
            None => Vec::new(),
            Some(block) => parse_conditions(block, &at)?,
        };
        Ok(Statement {
            sid,
            effect,
            principals,
            actions,
            resources,
            conditions,
        })
    }

    fn applies_to(&self, request: &Request<'_>) -> bool {
        let requester = request.requester;
        let principal_applies = match &self.principals {
            Scope::Only(principals) => principals.iter().any(|p| p.includes(requester)),
            // NotPrincipal excludes a requester only when each entity it acts as (its account,
            // its user or role, its session) is listed, as the IAM guide requires of it.
            Scope::AllBut(principals) => !requester
                .entities()
                .iter()
                .all(|entity| principals.iter().any(|p| p.names(entity, requester))),
        };
        principal_applies
            && self
                .actions
                .covers(|pattern| glob(pattern, request.action, Glob::Action))
            && self
                .resources
                .covers(|pattern| glob(pattern, request.resource, Glob::Arn))
            && self.conditions.iter().all(|c| c.holds(request))
    }
}

/// Reads `X` or `NotX` (exactly one of them) with `read`.
fn either<T>(
    object: &Map<String, Value>,
    element: &str,
    at: &str,
    read: impl Fn(&Value, &str, &str) -> Parsed<Vec<T>>,
) -> Parsed<Scope<T>> {
    let negated = format!("Not{element}");
    match (object.get(element), object.get(&negated)) {
        (Some(v), None) => Ok(Scope::Only(read(v, element, at)?)),
        (None, Some(v)) => Ok(Scope::AllBut(read(v, &negated, at)?)),
        (Some(_), Some(_)) => Err(MalformedPolicyDocument::new(format!(
            "{at}: {element} and {negated} cannot both be given."
        ))),
        (None, None) => Err(MalformedPolicyDocument::new(format!(
            "{at}: {element} is required."
        ))),
    }
}

/// A string or a non-empty list of strings.
fn strings(value: &Value, element: &str, at: &str) -> Parsed<Vec<String>> {
    let wrong = || {
        MalformedPolicyDocument::new(format!(
            "{at}: {element} must be a string or a non-empty list of strings."
        ))
    };
    match value {
        Value::String(s) => Ok(vec![s.clone()]),
        Value::Array(items) if !items.is_empty() => items
            .iter()
            .map(|item| item.as_str().map(str::to_string).ok_or_else(wrong))
            .collect(),
        _ => Err(wrong()),
    }
}

/// Whether an action pattern grants `rekognition:CopyProjectVersion` and no other action.
fn names_only_copy(pattern: &str) -> bool {
    // `*` alone grants every action of every service.
    let Some((service, name)) = pattern.split_once(':') else {
        return false;
    };
    let copy = &COPY_PROJECT_VERSION["rekognition:".len()..];
    if !service.eq_ignore_ascii_case("rekognition") {
        return false;
    }
    if !name.contains(['*', '?']) {
        return name.eq_ignore_ascii_case(copy);
    }
    // Only names starting with the pattern's literal head can match it: a cheap first sieve.
    let head = name.split(['*', '?']).next().unwrap_or_default();
    glob(name, copy, Glob::Action)
        && !REKOGNITION_ACTIONS.iter().any(|other| {
            *other != copy
                && other
                    .get(..head.len())
                    .is_some_and(|start| start.eq_ignore_ascii_case(head))
                && glob(name, other, Glob::Action)
        })
}

/// `*`, or `service:pattern` with a service prefix of letters, digits and hyphens and an action
/// name of letters, digits and the wildcards `*` and `?`.
fn check_action(action: &str) -> Result<(), &'static str> {
    if action == "*" {
        return Ok(());
    }
    let Some((service, name)) = action.split_once(':') else {
        return Err("must be * or SERVICE:ACTION");
    };
    if service.is_empty()
        || !service
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-')
    {
        return Err("has no valid service prefix (wildcards are not allowed in it)");
    }
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '*' || c == '?')
    {
        return Err("has no valid action name");
    }
    Ok(())
}

/// `arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE`, wildcards allowed in the segments; fewer
/// segments only where a `*` may stand for the rest (`arn:aws:rekognition:*`).
fn is_arn_pattern(text: &str) -> bool {
    let parts: Vec<&str> = text.splitn(6, ':').collect();
    parts.len() >= 2
        && parts[0] == "arn"
        && !parts[1].is_empty()
        && (parts.len() == 6 || text.contains('*'))
}

fn parse_principals(value: &Value, element: &str, at: &str) -> Parsed<Vec<Principal>> {
    let invalid = |what: &str| {
        MalformedPolicyDocument::new(format!(
            "{at}: Invalid principal in policy: {what}. Give \"*\" or {{\"AWS\": ...}} of account ids and IAM user, role, account root or assumed-role session ARNs."
        ))
    };
    match value {
        Value::String(star) if star == "*" => Ok(vec![Principal::Anyone]),
        Value::Object(kinds) if !kinds.is_empty() => {
            let mut principals = Vec::new();
            for (kind, names) in kinds {
                // Rekognition's examples and guide name only AWS principals; service, federated
                // and canonical-user principals cannot call CopyProjectVersion across accounts.
                if kind != "AWS" {
                    return Err(invalid(&format!("\"{kind}\" principals")));
                }
                for name in strings(names, &format!("{element}.AWS"), at)? {
                    principals.push(
                        Principal::parse(&name)
                            .ok_or_else(|| invalid(&format!("\"AWS\": \"{name}\"")))?,
                    );
                }
            }
            Ok(principals)
        }
        other => Err(invalid(&other.to_string())),
    }
}

impl Principal {
    /// One `AWS` principal name. IAM allows no wildcard in one except `*` alone.
    fn parse(name: &str) -> Option<Self> {
        if name == "*" {
            return Some(Self::Anyone);
        }
        if is_account_id(name) {
            return Some(Self::Account {
                partition: None,
                account_id: name.to_string(),
            });
        }
        if name.contains(['*', '?']) {
            return None;
        }
        let parts: Vec<&str> = name.splitn(6, ':').collect();
        let [arn, partition, service, region, account, resource] = parts[..] else {
            return None;
        };
        if arn != "arn" || partition.is_empty() || !region.is_empty() || !is_account_id(account) {
            return None;
        }
        let path_and_name = |prefix: &str| {
            resource
                .strip_prefix(prefix)
                .is_some_and(|rest| !rest.is_empty() && !rest.ends_with('/'))
        };
        let arn = name.to_string();
        match service {
            "iam" if resource == "root" => Some(Self::Account {
                partition: Some(partition.to_string()),
                account_id: account.to_string(),
            }),
            "iam" if path_and_name("user/") => Some(Self::User { arn }),
            "iam" if path_and_name("role/") => Some(Self::Role { arn }),
            "sts" => {
                let rest = resource.strip_prefix("assumed-role/")?;
                let (role, session) = rest.split_once('/')?;
                (!role.is_empty() && !session.is_empty() && !session.contains('/'))
                    .then_some(Self::Session { arn })
            }
            _ => None,
        }
    }

    /// Whether a `Principal` entry takes in `requester` (a role takes in its sessions).
    fn includes(&self, requester: &Requester) -> bool {
        match self {
            Self::Anyone => true,
            Self::Account {
                partition,
                account_id,
            } => {
                *account_id == requester.account_id
                    && partition.as_ref().is_none_or(|p| *p == requester.partition)
            }
            Self::User { arn } | Self::Role { arn } => *arn == requester.identity_arn,
            Self::Session { arn } => requester.session_arn.as_ref() == Some(arn),
        }
    }

    /// Whether a `NotPrincipal` entry names exactly `entity` of `requester`.
    fn names(&self, entity: &Entity<'_>, requester: &Requester) -> bool {
        match (self, entity) {
            (Self::Anyone, _) => true,
            (
                Self::Account {
                    partition,
                    account_id,
                },
                Entity::Account,
            ) => {
                *account_id == requester.account_id
                    && partition.as_ref().is_none_or(|p| *p == requester.partition)
            }
            (Self::User { arn } | Self::Role { arn }, Entity::Identity(id)) => arn == id,
            (Self::Session { arn }, Entity::Session(session)) => arn == session,
            _ => false,
        }
    }
}

/// The entities a request is made as: its account, its user or role, its session.
enum Entity<'a> {
    Account,
    Identity(&'a str),
    Session(&'a str),
}

impl Requester {
    fn entities(&self) -> Vec<Entity<'_>> {
        let mut entities = vec![Entity::Account, Entity::Identity(&self.identity_arn)];
        if let Some(session) = &self.session_arn {
            entities.push(Entity::Session(session));
        }
        entities
    }

    /// The global condition keys the sandbox knows for this requester; any other key is absent
    /// from the request context.
    fn context_value(&self, key: &str, region: &str) -> Option<String> {
        match key {
            "aws:principalaccount" => Some(self.account_id.clone()),
            "aws:principalarn" => Some(self.identity_arn.clone()),
            "aws:principaltype" => Some(
                if self.session_arn.is_some() {
                    "AssumedRole"
                } else {
                    "User"
                }
                .to_string(),
            ),
            "aws:requestedregion" => Some(region.to_string()),
            _ => None,
        }
    }
}

fn is_account_id(text: &str) -> bool {
    text.len() == 12 && text.bytes().all(|b| b.is_ascii_digit())
}

fn parse_conditions(block: &Value, at: &str) -> Parsed<Vec<Condition>> {
    let bad = |message: String| MalformedPolicyDocument::new(format!("{at}: {message}"));
    let Value::Object(operators) = block else {
        return Err(bad("Condition must be an object of operators.".into()));
    };
    let mut conditions = Vec::new();
    for (name, tests) in operators {
        let (operator, if_exists) = Operator::parse(name)
            .ok_or_else(|| bad(format!("the condition operator {name} is not supported.")))?;
        let Value::Object(tests) = tests else {
            return Err(bad(format!("Condition {name} must map keys to values.")));
        };
        for (key, values) in tests {
            let values = match values {
                Value::Array(items) if !items.is_empty() => {
                    items.iter().map(scalar).collect::<Option<Vec<_>>>()
                }
                single => scalar(single).map(|v| vec![v]),
            }
            .ok_or_else(|| {
                bad(format!(
                    "Condition {name} {key} must be a string, number or boolean, or a non-empty list of them."
                ))
            })?;
            if operator == Operator::Null
                && !values
                    .iter()
                    .all(|v| matches!(v.as_str(), "true" | "false"))
            {
                return Err(bad(format!("Condition Null {key} takes true or false.")));
            }
            conditions.push(Condition {
                operator,
                if_exists,
                key: key.to_lowercase(),
                values,
            });
        }
    }
    Ok(conditions)
}

fn scalar(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

impl Condition {
    /// IAM's rules: a missing key fails a positive operator, passes a negated one and anything
    /// with `IfExists`; `Null` tests presence; several values of one key are alternatives (for a
    /// negated operator: none may match).
    fn holds(&self, request: &Request<'_>) -> bool {
        let value = request.requester.context_value(&self.key, request.region);
        if self.operator == Operator::Null {
            let want_missing = self.values.iter().any(|v| v == "true");
            return value.is_none() == want_missing;
        }
        let Some(value) = value else {
            return self.if_exists || self.operator.is_negated();
        };
        let any = self
            .values
            .iter()
            .any(|pattern| self.operator.value_matches(pattern, &value));
        if self.operator.is_negated() {
            !any
        } else {
            any
        }
    }
}

/// How a wildcard pattern is matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Glob {
    /// Action names: case-insensitive, `*` any run, `?` any one character.
    Action,
    /// ARNs (Resource, ArnLike): case-sensitive and segment-aware, per the IAM guide: wildcards
    /// stand for characters within a colon-separated segment (`?` never a colon), except that a
    /// `*` ending a segment (or the pattern) may run on across colons.
    Arn,
    /// StringLike: case-sensitive, `*` any run, `?` any one character.
    Text,
}

/// Whether `text` matches the wildcard `pattern`.
fn glob(pattern: &str, text: &str, kind: Glob) -> bool {
    let chars = |s: &str| -> Vec<char> {
        match kind {
            Glob::Action => s.chars().flat_map(char::to_lowercase).collect(),
            Glob::Arn | Glob::Text => s.chars().collect(),
        }
    };
    let (pattern, text) = (chars(pattern), chars(text));
    // The literal head of the pattern must be the text's head; only the rest needs the table.
    let head = pattern
        .iter()
        .zip(&text)
        .take_while(|(p, t)| !matches!(p, '*' | '?') && p == t)
        .count();
    let (pattern, text) = (&pattern[head..], &text[head..]);
    if !pattern.contains(&'*') && !pattern.contains(&'?') {
        return pattern == text;
    }
    let segmented = kind == Glob::Arn;
    // matched[j]: the pattern read so far matches text[..j]; `next` is the row being built.
    let mut matched = vec![false; text.len() + 1];
    let mut next = vec![false; text.len() + 1];
    matched[0] = true;
    for (i, &p) in pattern.iter().enumerate() {
        match p {
            '*' => {
                let crosses = !segmented || pattern.get(i + 1).is_none_or(|&c| c == ':');
                next[0] = matched[0];
                for j in 1..text.len() + 1 {
                    next[j] = matched[j] || (next[j - 1] && (crosses || text[j - 1] != ':'));
                }
            }
            '?' => {
                next[0] = false;
                for j in 1..text.len() + 1 {
                    next[j] = matched[j - 1] && !(segmented && text[j - 1] == ':');
                }
            }
            _ => {
                next[0] = false;
                for j in 1..text.len() + 1 {
                    next[j] = matched[j - 1] && p == text[j - 1];
                }
            }
        }
        std::mem::swap(&mut matched, &mut next);
    }
    matched[text.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    const VERSION: &str =
        "arn:aws:rekognition:eu-west-1:111111111111:project/p/version/v1/1700000000000";

    fn session(account: &str, role: &str) -> Requester {
        Requester {
            partition: "aws".into(),
            account_id: account.into(),
            identity_arn: format!("arn:aws:iam::{account}:role/{role}"),
            session_arn: Some(format!("arn:aws:sts::{account}:assumed-role/{role}/s")),
        }
    }

    fn user(account: &str, name: &str) -> Requester {
        Requester {
            partition: "aws".into(),
            account_id: account.into(),
            identity_arn: format!("arn:aws:iam::{account}:user/{name}"),
            session_arn: None,
        }
    }

    fn verdict(documents: &[&str], requester: &Requester) -> Verdict {
        let documents: Vec<PolicyDocument> = documents
            .iter()
            .map(|d| PolicyDocument::parse(d).unwrap())
            .collect();
        evaluate(
            &documents,
            &Request {
                requester,
                action: COPY_PROJECT_VERSION,
                resource: VERSION,
                region: "eu-west-1",
            },
        )
    }

    fn statement(effect: &str, principal: &str, action: &str, resource: &str) -> String {
        format!(
            r#"{{"Version":"2012-10-17","Statement":{{"Effect":"{effect}","Principal":{principal},"Action":"{action}","Resource":"{resource}"}}}}"#
        )
    }

    #[test]
    fn principals_name_accounts_roles_users_and_sessions() {
        let staging = session("222222222222", "deployer");
        let allow = |principal: &str| {
            verdict(
                &[&statement(
                    "Allow",
                    principal,
                    COPY_PROJECT_VERSION,
                    VERSION,
                )],
                &staging,
            )
        };
        for principal in [
            r#""*""#,
            r#"{"AWS":"*"}"#,
            r#"{"AWS":"222222222222"}"#,
            r#"{"AWS":"arn:aws:iam::222222222222:root"}"#,
            r#"{"AWS":"arn:aws:iam::222222222222:role/deployer"}"#,
            r#"{"AWS":"arn:aws:sts::222222222222:assumed-role/deployer/s"}"#,
            r#"{"AWS":["333333333333","arn:aws:iam::222222222222:role/deployer"]}"#,
        ] {
            assert_eq!(allow(principal), Verdict::Allow, "{principal}");
        }
        for principal in [
            r#"{"AWS":"333333333333"}"#,
            r#"{"AWS":"arn:aws-cn:iam::222222222222:root"}"#,
            r#"{"AWS":"arn:aws:iam::222222222222:role/other"}"#,
            r#"{"AWS":"arn:aws:iam::222222222222:user/deployer"}"#,
            r#"{"AWS":"arn:aws:sts::222222222222:assumed-role/deployer/other"}"#,
        ] {
            assert_eq!(allow(principal), Verdict::ImplicitDeny, "{principal}");
        }
        let by_user = statement(
            "Allow",
            r#"{"AWS":"arn:aws:iam::222222222222:user/ci"}"#,
            COPY_PROJECT_VERSION,
            VERSION,
        );
        assert_eq!(
            verdict(&[&by_user], &user("222222222222", "ci")),
            Verdict::Allow
        );
    }

    #[test]
    fn deny_wins_and_nothing_allows_by_default() {
        let staging = session("222222222222", "deployer");
        let allow = statement("Allow", r#""*""#, COPY_PROJECT_VERSION, "*");
        let deny = statement(
            "Deny",
            r#"{"AWS":"222222222222"}"#,
            "rekognition:copy*",
            "arn:aws:rekognition:*:111111111111:project/p/*",
        );
        assert_eq!(verdict(&[&allow, &deny], &staging), Verdict::ExplicitDeny);
        assert_eq!(verdict(&[&deny], &staging), Verdict::ExplicitDeny);
        assert_eq!(verdict(&[], &staging), Verdict::ImplicitDeny);
        assert_eq!(verdict(&[&allow], &staging), Verdict::Allow);
    }

    #[test]
    fn actions_are_case_insensitive_and_resources_are_not() {
        let staging = session("222222222222", "deployer");
        for (action, resource, expected) in [
            ("REKOGNITION:copyprojectversion", VERSION, Verdict::Allow),
            ("rekognition:Copy?rojectVersion", VERSION, Verdict::Allow),
            ("*", VERSION, Verdict::Allow),
            ("rekognition:Delete*", VERSION, Verdict::ImplicitDeny),
            (
                COPY_PROJECT_VERSION,
                "arn:aws:rekognition:eu-west-1:111111111111:project/P/*",
                Verdict::ImplicitDeny,
            ),
            (
                COPY_PROJECT_VERSION,
                "arn:aws:rekognition:eu-west-?:111111111111:project/p/version/*",
                Verdict::Allow,
            ),
        ] {
            assert_eq!(
                verdict(&[&statement("Allow", r#""*""#, action, resource)], &staging),
                expected,
                "{action} {resource}"
            );
        }
    }

    #[test]
    fn arn_wildcards_stay_within_a_segment_unless_they_end_it() {
        assert!(glob("arn:aws:rekognition:*", VERSION, Glob::Arn));
        assert!(glob("arn:*:111111111111:project/*", VERSION, Glob::Arn));
        assert!(glob("arn:aws:rekognition:eu-*-1:*", VERSION, Glob::Arn));
        assert!(!glob("arn:aws:rek*1:project/*", VERSION, Glob::Arn));
        assert!(!glob(
            "arn:aws:rekognition:eu-west-1?111111111111:*",
            VERSION,
            Glob::Arn
        ));
        assert!(glob("a*c", "a:b:c", Glob::Text));
        assert!(!glob("a?c", "abbc", Glob::Action));
        assert!(glob("*", "", Glob::Action));
    }

    #[test]
    fn not_elements_invert_what_they_name() {
        let staging = session("222222222222", "deployer");
        let request = |action: &'static str| Request {
            requester: &staging,
            action,
            resource: VERSION,
            region: "eu-west-1",
        };
        let document = PolicyDocument::parse(
            r#"{"Statement":[{"Effect":"Allow","Principal":"*","NotAction":"rekognition:Delete*","NotResource":"arn:aws:s3:::*"}]}"#,
        )
        .unwrap();
        assert_eq!(document.version, "2008-10-17");
        assert_eq!(
            evaluate([&document], &request(COPY_PROJECT_VERSION)),
            Verdict::Allow
        );
        assert_eq!(
            evaluate([&document], &request("rekognition:DeleteProject")),
            Verdict::ImplicitDeny
        );
        // NotPrincipal spares a session only when its account, role and session are all listed.
        let deny_all_but = |names: &str| {
            PolicyDocument::parse(&format!(
                r#"{{"Statement":{{"Effect":"Deny","NotPrincipal":{{"AWS":[{names}]}},"Action":"*","Resource":"*"}}}}"#
            ))
            .unwrap()
        };
        let role_only = deny_all_but(r#""arn:aws:iam::222222222222:role/deployer""#);
        assert_eq!(
            evaluate([&role_only], &request(COPY_PROJECT_VERSION)),
            Verdict::ExplicitDeny
        );
        let whole_chain = deny_all_but(
            r#""222222222222","arn:aws:iam::222222222222:role/deployer","arn:aws:sts::222222222222:assumed-role/deployer/s""#,
        );
        assert_eq!(
            evaluate([&whole_chain], &request(COPY_PROJECT_VERSION)),
            Verdict::ImplicitDeny
        );
    }

    #[test]
    fn conditions_follow_iam_rules_for_known_and_unknown_keys() {
        let staging = session("222222222222", "deployer");
        let with = |condition: &str| {
            verdict(
                &[&format!(
                    r#"{{"Version":"2012-10-17","Statement":{{"Effect":"Allow","Principal":"*","Action":"{COPY_PROJECT_VERSION}","Resource":"*","Condition":{condition}}}}}"#
                )],
                &staging,
            )
        };
        for (condition, expected) in [
            (
                r#"{"StringEquals":{"aws:PrincipalAccount":"222222222222"}}"#,
                Verdict::Allow,
            ),
            (
                r#"{"StringEquals":{"AWS:principalaccount":["1","222222222222"]}}"#,
                Verdict::Allow,
            ),
            (
                r#"{"StringNotEquals":{"aws:PrincipalAccount":"222222222222"}}"#,
                Verdict::ImplicitDeny,
            ),
            (
                r#"{"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::*:role/deploy*"}}"#,
                Verdict::Allow,
            ),
            (
                r#"{"StringEquals":{"aws:PrincipalOrgID":"o-123"}}"#,
                Verdict::ImplicitDeny,
            ),
            (
                r#"{"StringNotEquals":{"aws:PrincipalOrgID":"o-123"}}"#,
                Verdict::Allow,
            ),
            (
                r#"{"StringEqualsIfExists":{"aws:PrincipalOrgID":"o-123"}}"#,
                Verdict::Allow,
            ),
            (r#"{"Null":{"aws:PrincipalOrgID":"true"}}"#, Verdict::Allow),
            (
                r#"{"Null":{"aws:PrincipalArn":"true"}}"#,
                Verdict::ImplicitDeny,
            ),
        ] {
            assert_eq!(with(condition), expected, "{condition}");
        }
        assert!(
            PolicyDocument::parse(
                r#"{"Statement":{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*","Condition":{"NumericSoon":{"k":"1"}}}}"#
            )
            .is_err()
        );
    }

    #[test]
    fn project_policies_refuse_what_rekognition_refuses() {
        const S: &str = r#""Effect":"Allow","Principal":"*""#;
        for (document, needle) in [
            ("{".to_string(), "not valid JSON"),
            ("[]".to_string(), "JSON object"),
            (r#"{"Version":"2012-10-17"}"#.to_string(), "no Statement"),
            (
                r#"{"Version":"2012-10-17","Statement":[]}"#.to_string(),
                "non-empty",
            ),
            (
                r#"{"Version":"2011-01-01","Statement":{}}"#.to_string(),
                "Version",
            ),
            (
                r#"{"Statement":{"Principal":"*","Action":"*","Resource":"*"}}"#.to_string(),
                "Effect is required",
            ),
            (
                r#"{"Statement":{"Effect":"allow","Principal":"*","Action":"*","Resource":"*"}}"#.to_string(),
                "Allow or Deny",
            ),
            (
                r#"{"Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}"#.to_string(),
                "Principal is required",
            ),
            (
                format!(r#"{{"Statement":{{{S},"Resource":"*"}}}}"#),
                "Action is required",
            ),
            (
                format!(r#"{{"Statement":{{{S},"Action":"*"}}}}"#),
                "Resource is required",
            ),
            (
                format!(r#"{{"Statement":{{{S},"Action":"*","NotAction":"*","Resource":"*"}}}}"#),
                "cannot both",
            ),
            (
                format!(r#"{{"Statement":{{{S},"NotAction":"s3:*","Resource":"*"}}}}"#),
                "NotAction is not allowed",
            ),
            (
                format!(r#"{{"Statement":{{{S},"Action":"*","NotResource":"*"}}}}"#),
                "NotResource is not allowed",
            ),
            (
                r#"{"Statement":{"Effect":"Deny","NotPrincipal":"*","Action":"*","Resource":"*"}}"#.to_string(),
                "NotPrincipal is not allowed",
            ),
            (
                format!(
                    r#"{{"Statement":{{{S},"Action":"rekognition:DeleteProject","Resource":"*"}}}}"#
                ),
                "only supported action",
            ),
            (
                format!(
                    r#"{{"Statement":{{{S},"Action":["rekognition:CopyProjectVersion","s3:*"],"Resource":"*"}}}}"#
                ),
                "only supported action",
            ),
            (
                format!(
                    r#"{{"Statement":{{{S},"Action":"*:CopyProjectVersion","Resource":"*"}}}}"#
                ),
                "service prefix",
            ),
            (
                format!(r#"{{"Statement":{{{S},"Action":"*","Resource":"project/p"}}}}"#),
                "not an ARN",
            ),
            (
                r#"{"Statement":{"Effect":"Allow","Principal":{"AWS":"bob"},"Action":"*","Resource":"*"}}"#.to_string(),
                "Invalid principal",
            ),
            (
                r#"{"Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::*:root"},"Action":"*","Resource":"*"}}"#.to_string(),
                "Invalid principal",
            ),
            (
                r#"{"Statement":{"Effect":"Allow","Principal":{"Service":"rekognition.amazonaws.com"},"Action":"*","Resource":"*"}}"#.to_string(),
                "Invalid principal",
            ),
            (
                format!(
                    r#"{{"Statement":[{{"Sid":"A",{S},"Action":"*","Resource":"*"}},{{"Sid":"A",{S},"Action":"*","Resource":"*"}}]}}"#
                ),
                "used twice",
            ),
            (
                format!(r#"{{"Statement":{{{S},"Action":"*","Resource":"*","Effects":"Allow"}}}}"#),
                "unknown statement element",
            ),
            (
                format!(r#"{{"Statement":{{{S},"Action":"*","Resource":"*"}},"Extra":1}}"#),
                "Unknown policy element",
            ),
            (
                format!(
                    r#"{{"Statement":{{{S},"Action":"*","Resource":"*","Description":"{}"}}}}"#,
                    "x".repeat(2000)
                ),
                "limit is 2000",
            ),
            (
                format!(r#"{{"Statement":{{{S},"Action":"rekognition:*","Resource":"*"}}}}"#),
                "only supported action",
            ),
            (
                format!(r#"{{"Statement":{{{S},"Action":"*","Resource":"*"}}}}"#),
                "only supported action",
            ),
            (
                format!(
                    r#"{{"Statement":{{{S},"Action":"rekognition:*ProjectVersion","Resource":"*"}}}}"#
                ),
                "only supported action",
            ),
        ] {
            let error = project_policy(&document).unwrap_err();
            assert!(error.message.contains(needle), "{document}: {error}");
        }
        for accepted in [
            format!(
                r#"{{"Version":"2012-10-17","Id":"x","Statement":{{{S},"Action":"rekognition:CopyProject?ersion","Resource":"*"}}}}"#
            ),
            format!(
                r#"{{"Statement":[{{"Sid":"A",{S},"Action":["rekognition:copyprojectversion","rekognition:Copy*"],"Resource":["*","{VERSION}"]}}]}}"#
            ),
        ] {
            project_policy(&accepted).unwrap();
        }
    }
}
