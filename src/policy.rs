//! Rekognition project policies as the product reads and writes them: parse a source project's
//! policies, decide whether they let another account copy a version
//! (`rekognition:CopyProjectVersion`), and produce the statements reko-promote writes.
//!
//! Pure logic for `plan` (does a source project's policy let the destination copy this version?
//! which statement is missing?), `apply` (the managed policies it writes, the check before a
//! copy) and `policy_pack`. Reading and writing policies through the API is left to `state` and
//! `apply`. The sandbox has its own, independent reader (`sandbox::iam_policy`); the two are
//! compared by `tests/integration/policy_agreement.rs`.
//!
//! Evaluation follows the IAM rules: an applicable Deny wins over any Allow; action names are
//! case-insensitive and may hold wildcards (`rekognition:Copy*`); in resource ARNs `*` and `?`
//! match within one colon-separated segment, except that a `*` ending a segment (or the pattern)
//! may run on across colons; a principal names an account (its id or
//! `arn:PARTITION:iam::ACCOUNT:root`, of the caller's partition), a role (and so its sessions),
//! a user or one session.
//!
//! Conditions: reko-promote does not see a caller's whole request context, so it evaluates only
//! the condition keys it knows for certain, `aws:PrincipalAccount` (the destination account) and
//! `aws:PrincipalArn` (the role it copies with, when the manifest names one), with the string and
//! ARN operators (`IfExists` and `Null` included). Any other key or operator makes a statement
//! undecided: an Allow that rests on one is not counted as allowing
//! ([`Decision::MayBeAllowed`]), a Deny that rests on one is counted as possibly denying
//! ([`Decision::MayBeDenied`]); plan reports both as blocked, with the reason, rather than
//! promise a copy AWS might refuse.

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The only action a project policy may grant.
pub const COPY_ACTION: &str = "rekognition:CopyProjectVersion";

/// The largest policy document AWS accepts (`ProjectPolicyDocument` max length).
pub const MAX_DOCUMENT_CHARS: usize = 2000;

/// The most policies one project may carry.
pub const MAX_POLICIES_PER_PROJECT: usize = 5;

/// The IAM policy language version written into documents.
pub const POLICY_VERSION: &str = "2012-10-17";

/// Why a policy document is malformed, in the words AWS's MalformedPolicyDocumentException uses.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct MalformedPolicy(pub String);

/// Allow or Deny.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub enum Effect {
    Allow,
    Deny,
}

/// One statement of a project policy, normalized (lists even where the JSON had one string).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    pub sid: Option<String>,
    pub effect: Effect,
    /// `*`, account IDs, account root ARNs or role ARNs.
    pub principals: Vec<String>,
    /// Action names or wildcard patterns, each matching `rekognition:CopyProjectVersion`.
    pub actions: Vec<String>,
    pub resources: Vec<String>,
    /// The `Condition` block's tests, in the order read (empty: none).
    pub conditions: Vec<Condition>,
}

/// One `"Operator": {"Key": values}` test of a statement's `Condition` block, as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Condition {
    /// The operator as written (`StringEquals`, `ArnLikeIfExists`, `ForAnyValue:StringLike`, ...).
    pub operator: String,
    /// The condition key as written (keys are case-insensitive).
    pub key: String,
    /// The values (several are alternatives), numbers and booleans as their JSON text.
    pub values: Vec<String>,
}

/// A parsed project policy document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyDocument {
    pub statements: Vec<Statement>,
}

/// Who is calling, as far as a resource policy can see.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub account_id: String,
    /// The IAM user ARN, or for an assumed role the role ARN (`arn:aws:iam::A:role/N`).
    pub iam_arn: Option<String>,
    /// The assumed-role session ARN (`arn:aws:sts::A:assumed-role/N/S`), when the caller is one.
    pub session_arn: Option<String>,
}

/// The outcome of evaluating policies for one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Decision {
    /// A statement allows it and none denies it.
    Allowed,
    /// A statement explicitly denies it (a Deny always wins).
    ExplicitlyDenied,
    /// No statement allows it.
    NotAllowed,
    /// No statement surely denies it, but a Deny applies unless a condition reko-promote cannot
    /// evaluate says otherwise.
    MayBeDenied,
    /// Nothing denies it, and only statements with conditions reko-promote cannot evaluate
    /// allow it.
    MayBeAllowed,
}

/// A string or a non-empty list of strings, as IAM writes single values and lists alike.
fn one_or_many(value: &Value, field: &str) -> Result<Vec<String>, MalformedPolicy> {
    match value {
        Value::String(s) => Ok(vec![s.clone()]),
        Value::Array(items) if !items.is_empty() => items
            .iter()
            .map(|item| {
                item.as_str().map(str::to_string).ok_or_else(|| {
                    MalformedPolicy(format!("{field} must hold strings, found {item}"))
                })
            })
            .collect(),
        other => Err(MalformedPolicy(format!(
            "{field} must be a string or a non-empty list of strings, found {other}"
        ))),
    }
}

impl PolicyDocument {
    /// Parses a project policy as Rekognition accepts it: a JSON object of optional `Version`
    /// (`2012-10-17` or `2008-10-17`, which IAM takes when none is given), optional `Id`, and
    /// `Statement` (one object or a list); each statement with `Effect`, `Principal` (`*` or
    /// `{"AWS": ...}` of account ids and IAM or STS ARNs), `Action` (names or wildcard patterns
    /// that match `rekognition:CopyProjectVersion`, in any letter case), `Resource` (`*` or ARN
    /// patterns), optional `Sid` and `Condition`; `NotAction`, `NotResource`, `NotPrincipal` and
    /// anything else refused. The messages are MalformedPolicyDocumentException's.
    ///
    /// Lenient on one point: a pattern that matches other Rekognition actions as well
    /// (`rekognition:*`, `*`) is read, though PutProjectPolicy refuses it; the product only
    /// reads documents AWS stored, and reads such a pattern as IAM does (it matches the copy).
    pub fn parse(text: &str) -> Result<Self, MalformedPolicy> {
        let malformed = |m: String| Err(MalformedPolicy(m));
        if text.chars().count() > MAX_DOCUMENT_CHARS {
            return malformed(format!(
                "The policy document is {} characters; the maximum is {MAX_DOCUMENT_CHARS}",
                text.chars().count()
            ));
        }
        let value: Value = match serde_json::from_str(text) {
            Ok(value) => value,
            Err(e) => return malformed(format!("The policy document is not valid JSON: {e}")),
        };
        let Value::Object(object) = value else {
            return malformed("The policy document must be a JSON object".into());
        };
        for key in object.keys() {
            if !matches!(key.as_str(), "Version" | "Statement" | "Id") {
                return malformed(format!("Unsupported policy element: {key}"));
            }
        }
        match object.get("Version").and_then(Value::as_str) {
            Some("2012-10-17" | "2008-10-17") => {}
            Some(other) => return malformed(format!("Unsupported policy version: {other}")),
            None if object.contains_key("Version") => {
                return malformed("Version must be a string".into());
            }
            // IAM reads a document without Version as of the 2008-10-17 language.
            None => {}
        }
        let statements = match object.get("Statement") {
            Some(Value::Array(items)) if !items.is_empty() => items.iter().collect::<Vec<_>>(),
            Some(item @ Value::Object(_)) => vec![item],
            Some(_) => return malformed("Statement must be an object or a non-empty list".into()),
            None => return malformed("Missing required field Statement".into()),
        };
        let statements = statements
            .into_iter()
            .map(parse_statement)
            .collect::<Result<_, _>>()?;
        Ok(PolicyDocument { statements })
    }

    /// Serializes the document compactly, as apply writes it.
    pub fn to_json(&self) -> String {
        let statements: Vec<Value> = self.statements.iter().map(Statement::to_value).collect();
        serde_json::json!({ "Version": POLICY_VERSION, "Statement": statements }).to_string()
    }
}

fn parse_statement(value: &Value) -> Result<Statement, MalformedPolicy> {
    let malformed = |m: String| MalformedPolicy(m);
    let Value::Object(object) = value else {
        return Err(malformed("Each statement must be a JSON object".into()));
    };
    for key in object.keys() {
        match key.as_str() {
            "Sid" | "Effect" | "Principal" | "Action" | "Resource" | "Condition" => {}
            "NotAction" | "NotResource" | "NotPrincipal" => {
                return Err(malformed(format!(
                    "{key} is not supported in project policies"
                )));
            }
            other => return Err(malformed(format!("Unsupported statement element: {other}"))),
        }
    }
    let effect = match object.get("Effect").and_then(Value::as_str) {
        Some("Allow") => Effect::Allow,
        Some("Deny") => Effect::Deny,
        Some(other) => return Err(malformed(format!("Invalid Effect: {other}"))),
        None => return Err(malformed("Missing required field Effect".into())),
    };
    let principals = match object.get("Principal") {
        Some(Value::String(star)) if star == "*" => vec!["*".to_string()],
        Some(Value::Object(p)) if p.len() == 1 && p.contains_key("AWS") => {
            one_or_many(&p["AWS"], "Principal.AWS")?
        }
        Some(_) => {
            return Err(malformed(
                "Principal must be \"*\" or {\"AWS\": ...}".into(),
            ));
        }
        None => return Err(malformed("Missing required field Principal".into())),
    };
    for principal in &principals {
        let valid = principal == "*"
            || (principal.len() == 12 && principal.bytes().all(|b| b.is_ascii_digit()))
            || (principal.starts_with("arn:")
                && (principal.contains(":iam::") || principal.contains(":sts::")));
        if !valid {
            return Err(malformed(format!(
                "Invalid principal in policy: \"AWS\":\"{principal}\""
            )));
        }
    }
    let Some(actions) = object.get("Action") else {
        return Err(malformed("Missing required field Action".into()));
    };
    let actions = one_or_many(actions, "Action")?;
    for action in &actions {
        if !action_matches(action, COPY_ACTION) {
            return Err(malformed(format!(
                "Unsupported action {action}: a project policy may only allow {COPY_ACTION}"
            )));
        }
    }
    let Some(resources) = object.get("Resource") else {
        return Err(malformed("Missing required field Resource".into()));
    };
    let resources = one_or_many(resources, "Resource")?;
    for resource in &resources {
        if resource != "*" && !is_arn_pattern(resource) {
            return Err(malformed(format!(
                "Invalid resource: {resource} (give * or arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE)"
            )));
        }
    }
    let conditions = match object.get("Condition") {
        None => Vec::new(),
        Some(block) => parse_conditions(block)?,
    };
    Ok(Statement {
        sid: object
            .get("Sid")
            .and_then(Value::as_str)
            .map(str::to_string),
        effect,
        principals,
        actions,
        resources,
        conditions,
    })
}

/// `arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE`, wildcards allowed within segments; fewer
/// segments only where a `*` may stand for the rest (`arn:aws:rekognition:*`).
fn is_arn_pattern(text: &str) -> bool {
    let segments: Vec<&str> = text.splitn(6, ':').collect();
    segments.len() >= 2
        && segments[0] == "arn"
        && !segments[1].is_empty()
        && (segments.len() == 6 || text.contains('*'))
}

/// The tests of a `Condition` block: an object of operators, each an object of keys to a value
/// or a non-empty list of values (strings, numbers or booleans).
fn parse_conditions(block: &Value) -> Result<Vec<Condition>, MalformedPolicy> {
    let malformed = |m: String| MalformedPolicy(m);
    let Value::Object(operators) = block else {
        return Err(malformed(format!(
            "Condition must be an object of operators, found {block}"
        )));
    };
    let mut conditions = Vec::new();
    for (operator, tests) in operators {
        let Value::Object(tests) = tests else {
            return Err(malformed(format!(
                "Condition {operator} must map condition keys to values, found {tests}"
            )));
        };
        for (key, values) in tests {
            let scalar = |value: &Value| match value {
                Value::String(s) => Some(s.clone()),
                Value::Bool(_) | Value::Number(_) => Some(value.to_string()),
                _ => None,
            };
            let values = match values {
                Value::Array(items) if !items.is_empty() => {
                    items.iter().map(scalar).collect::<Option<Vec<_>>>()
                }
                single => scalar(single).map(|v| vec![v]),
            }
            .ok_or_else(|| {
                malformed(format!(
                    "Condition {operator} {key} must be a string, number or boolean, or a non-empty list of them, found {values}"
                ))
            })?;
            conditions.push(Condition {
                operator: operator.clone(),
                key: key.clone(),
                values,
            });
        }
    }
    Ok(conditions)
}

impl Statement {
    /// The statement that lets `account_id` copy exactly `version_arns`.
    pub fn allow_copy(
        sid: Option<String>,
        principals: Vec<String>,
        version_arns: Vec<String>,
    ) -> Self {
        Statement {
            sid,
            effect: Effect::Allow,
            principals,
            actions: vec![COPY_ACTION.to_string()],
            resources: version_arns,
            conditions: Vec::new(),
        }
    }

    /// The statement as policy JSON.
    pub fn to_value(&self) -> Value {
        let list = |items: &[String]| -> Value {
            if items.len() == 1 {
                Value::String(items[0].clone())
            } else {
                Value::Array(items.iter().cloned().map(Value::String).collect())
            }
        };
        let mut object = serde_json::Map::new();
        if let Some(sid) = &self.sid {
            object.insert("Sid".into(), Value::String(sid.clone()));
        }
        let effect = match self.effect {
            Effect::Allow => "Allow",
            Effect::Deny => "Deny",
        };
        object.insert("Effect".into(), Value::String(effect.into()));
        let principal = if self.principals == ["*"] {
            Value::String("*".into())
        } else {
            serde_json::json!({ "AWS": list(&self.principals) })
        };
        object.insert("Principal".into(), principal);
        object.insert("Action".into(), list(&self.actions));
        object.insert("Resource".into(), list(&self.resources));
        if !self.conditions.is_empty() {
            let mut block = serde_json::Map::new();
            for condition in &self.conditions {
                let tests = block
                    .entry(condition.operator.clone())
                    .or_insert_with(|| Value::Object(serde_json::Map::new()));
                if let Value::Object(tests) = tests {
                    tests.insert(condition.key.clone(), list(&condition.values));
                }
            }
            object.insert("Condition".into(), Value::Object(block));
        }
        Value::Object(object)
    }

    /// Whether the statement applies to `caller` doing `action` on `resource`: [`Known::No`]
    /// when its principal, action or resource does not name the request or a condition surely
    /// fails, [`Known::Unknown`] when only conditions reko-promote cannot evaluate are in doubt.
    fn applies(&self, caller: &Caller, action: &str, resource: &str) -> Known {
        let partition = caller_partition(caller, resource);
        let named = self
            .principals
            .iter()
            .any(|p| principal_matches(p, caller, partition))
            && self.actions.iter().any(|a| action_matches(a, action))
            && self.resources.iter().any(|r| arn_matches(r, resource));
        if !named {
            return Known::No;
        }
        self.conditions
            .iter()
            .map(|c| c.holds(caller))
            .fold(Known::Yes, Known::and)
    }
}

/// A truth value reko-promote may not know.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Known {
    Yes,
    No,
    Unknown,
}

impl Known {
    fn and(self, other: Known) -> Known {
        match (self, other) {
            (Known::No, _) | (_, Known::No) => Known::No,
            (Known::Yes, Known::Yes) => Known::Yes,
            _ => Known::Unknown,
        }
    }

    fn from_bool(value: bool) -> Known {
        if value { Known::Yes } else { Known::No }
    }
}

/// The operators reko-promote evaluates, without `IfExists` (which changes nothing for the keys
/// it knows: they are always present).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Operator {
    StringEquals,
    StringEqualsIgnoreCase,
    StringLike,
    ArnEquals,
    ArnLike,
}

impl Condition {
    /// Whether the test holds for `caller`, when reko-promote can know: for
    /// `aws:PrincipalAccount` always, for `aws:PrincipalArn` when the caller's role or user ARN
    /// is known; with the string and ARN operators, their `Not` forms, `IfExists` and `Null`.
    fn holds(&self, caller: &Caller) -> Known {
        let value = match self.key.to_ascii_lowercase().as_str() {
            "aws:principalaccount" => caller.account_id.as_str(),
            "aws:principalarn" => match &caller.iam_arn {
                Some(arn) => arn.as_str(),
                None => return Known::Unknown,
            },
            _ => return Known::Unknown,
        };
        if self.operator == "Null" {
            // The key is present: `Null: true` fails, `Null: false` holds.
            return match self.values.iter().map(String::as_str).collect::<Vec<_>>()[..] {
                ["false"] => Known::Yes,
                ["true"] => Known::No,
                _ => Known::Unknown,
            };
        }
        let name = self
            .operator
            .strip_suffix("IfExists")
            .unwrap_or(&self.operator);
        let (negated, base) = match name {
            "StringNotEquals" => (true, Operator::StringEquals),
            "StringNotEqualsIgnoreCase" => (true, Operator::StringEqualsIgnoreCase),
            "StringNotLike" => (true, Operator::StringLike),
            "ArnNotEquals" => (true, Operator::ArnEquals),
            "ArnNotLike" => (true, Operator::ArnLike),
            "StringEquals" => (false, Operator::StringEquals),
            "StringEqualsIgnoreCase" => (false, Operator::StringEqualsIgnoreCase),
            "StringLike" => (false, Operator::StringLike),
            "ArnEquals" => (false, Operator::ArnEquals),
            "ArnLike" => (false, Operator::ArnLike),
            _ => return Known::Unknown,
        };
        let any = self.values.iter().any(|pattern| match base {
            Operator::StringEquals => pattern == value,
            Operator::StringEqualsIgnoreCase => pattern.to_lowercase() == value.to_lowercase(),
            Operator::StringLike => wildcard_match(pattern, value, Wildcards::Text),
            Operator::ArnEquals | Operator::ArnLike => arn_matches(pattern, value),
        });
        Known::from_bool(any != negated)
    }
}

impl fmt::Display for Statement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = serde_json::to_string_pretty(&self.to_value()).map_err(|_| fmt::Error)?;
        f.write_str(&text)
    }
}

/// The caller's partition: that of its ARN, else that of the resource it asks for (a request
/// reaches only its own partition's endpoints, so the two are one).
fn caller_partition<'a>(caller: &'a Caller, resource: &'a str) -> Option<&'a str> {
    let partition = |arn: &'a str| {
        arn.strip_prefix("arn:")
            .and_then(|rest| rest.split(':').next())
            .filter(|p| !p.is_empty() && !p.contains(['*', '?']))
    };
    [caller.session_arn.as_deref(), caller.iam_arn.as_deref()]
        .into_iter()
        .flatten()
        .chain([resource])
        .find_map(partition)
}

fn principal_matches(principal: &str, caller: &Caller, partition: Option<&str>) -> bool {
    if principal == "*" {
        return true;
    }
    if principal == caller.account_id {
        return true;
    }
    if caller.iam_arn.as_deref() == Some(principal)
        || caller.session_arn.as_deref() == Some(principal)
    {
        return true;
    }
    // `arn:PARTITION:iam::ACCOUNT:root` stands for every principal of the account in that
    // partition (account ids of different partitions name different accounts).
    principal
        .strip_prefix("arn:")
        .map(|rest| rest.splitn(5, ':').collect::<Vec<_>>())
        .is_some_and(|parts| {
            matches!(parts[..], [root_partition, "iam", "", account, "root"]
                if account == caller.account_id
                    && partition.is_none_or(|p| p == root_partition))
        })
}

/// How a wildcard pattern is matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wildcards {
    /// Action names: letter case ignored, `*` any run of characters, `?` any one character.
    Action,
    /// ARNs (Resource, ArnLike), per the IAM guide: case-sensitive; `*` and `?` stand for
    /// characters within one colon-separated segment (`?` is never a colon), except that a `*`
    /// that ends a segment (or the pattern) may run on across colons.
    Arn,
    /// StringLike: case-sensitive, `*` any run of characters, `?` any one character.
    Text,
}

/// Whether an action name or pattern matches `action` (both `service:Name`).
fn action_matches(pattern: &str, action: &str) -> bool {
    wildcard_match(pattern, action, Wildcards::Action)
}

/// Whether a resource pattern matches the ARN `arn`.
fn arn_matches(pattern: &str, arn: &str) -> bool {
    wildcard_match(pattern, arn, Wildcards::Arn)
}

/// IAM-style matching of `text` against `pattern`, read as `kind` says.
pub fn wildcard_match(pattern: &str, text: &str, kind: Wildcards) -> bool {
    // Without wildcards the pattern matches only itself (most statements name their versions
    // exactly): compared as is, without the table below (the plan evaluates every placement).
    if !pattern.contains(['*', '?']) {
        return match kind {
            Wildcards::Action => pattern
                .chars()
                .flat_map(char::to_lowercase)
                .eq(text.chars().flat_map(char::to_lowercase)),
            Wildcards::Arn | Wildcards::Text => pattern == text,
        };
    }
    let chars = |s: &str| -> Vec<char> {
        match kind {
            Wildcards::Action => s.chars().flat_map(char::to_lowercase).collect(),
            Wildcards::Arn | Wildcards::Text => s.chars().collect(),
        }
    };
    let (p, t) = (chars(pattern), chars(text));
    let segmented = kind == Wildcards::Arn;
    // reachable[j]: the pattern read so far can match exactly t[..j].
    let mut reachable = vec![false; t.len() + 1];
    reachable[0] = true;
    // Every entry of `next` is written for each pattern character (the empty prefix of the
    // text stays reachable only through a `*`), so one buffer serves all of them.
    let mut next = vec![false; t.len() + 1];
    for (i, &c) in p.iter().enumerate() {
        next[0] = false;
        match c {
            '*' => {
                let may_cross = !segmented || p.get(i + 1).is_none_or(|&n| n == ':');
                next[0] = reachable[0];
                for j in 1..=t.len() {
                    next[j] = reachable[j] || (next[j - 1] && (may_cross || t[j - 1] != ':'));
                }
            }
            '?' => {
                for j in 1..=t.len() {
                    next[j] = reachable[j - 1] && !(segmented && t[j - 1] == ':');
                }
            }
            literal => {
                for j in 1..=t.len() {
                    next[j] = reachable[j - 1] && t[j - 1] == literal;
                }
            }
        }
        if !next.contains(&true) {
            return false;
        }
        std::mem::swap(&mut reachable, &mut next);
    }
    reachable[t.len()]
}

/// Evaluates `documents` for `caller` doing `action` on `resource`, as IAM does: a Deny that
/// applies wins, then any Allow that applies, else not allowed. Statements whose conditions
/// reko-promote cannot evaluate give [`Decision::MayBeDenied`] (a Deny, unless a surer Deny
/// applies) or [`Decision::MayBeAllowed`] (an Allow, when no surer Allow applies).
pub fn evaluate<'a>(
    documents: impl IntoIterator<Item = &'a PolicyDocument>,
    caller: &Caller,
    action: &str,
    resource: &str,
) -> Decision {
    let (mut allowed, mut may_be_allowed, mut may_be_denied) = (false, false, false);
    for statement in documents.into_iter().flat_map(|d| &d.statements) {
        match (
            statement.effect,
            statement.applies(caller, action, resource),
        ) {
            (_, Known::No) => {}
            (Effect::Deny, Known::Yes) => return Decision::ExplicitlyDenied,
            (Effect::Deny, Known::Unknown) => may_be_denied = true,
            (Effect::Allow, Known::Yes) => allowed = true,
            (Effect::Allow, Known::Unknown) => may_be_allowed = true,
        }
    }
    if may_be_denied {
        Decision::MayBeDenied
    } else if allowed {
        Decision::Allowed
    } else if may_be_allowed {
        Decision::MayBeAllowed
    } else {
        Decision::NotAllowed
    }
}

/// The principal reko-promote grants for a destination account: its root, so any role the
/// account chooses may copy (the account's own IAM still decides who inside it can).
pub fn account_principal(partition: &str, account_id: &str) -> String {
    format!("arn:{partition}:iam::{account_id}:root")
}

#[cfg(test)]
mod tests {
    use super::*;

    const VERSION: &str =
        "arn:aws:rekognition:eu-west-1:111111111111:project/p/version/v1/1700000000000";

    fn caller(account: &str, role: Option<&str>) -> Caller {
        Caller {
            account_id: account.into(),
            iam_arn: role.map(str::to_string),
            session_arn: role.map(|r| {
                r.replace(":iam::", ":sts::")
                    .replace(":role/", ":assumed-role/")
                    + "/session"
            }),
        }
    }

    fn doc(json: &str) -> PolicyDocument {
        PolicyDocument::parse(json).unwrap()
    }

    #[test]
    fn allows_by_account_root_id_or_role_and_deny_wins() {
        let by_root = doc(&format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::222222222222:root"}},"Action":"rekognition:CopyProjectVersion","Resource":"{VERSION}"}}]}}"#
        ));
        let c = caller("222222222222", Some("arn:aws:iam::222222222222:role/r"));
        assert_eq!(
            evaluate([&by_root], &c, COPY_ACTION, VERSION),
            Decision::Allowed
        );
        assert_eq!(
            evaluate(
                [&by_root],
                &caller("333333333333", None),
                COPY_ACTION,
                VERSION
            ),
            Decision::NotAllowed
        );
        let by_role = doc(
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":["arn:aws:iam::222222222222:role/r"]},"Action":"rekognition:CopyProjectVersion","Resource":"arn:aws:rekognition:eu-west-1:111111111111:project/p/version/*"}}"#,
        );
        assert_eq!(
            evaluate([&by_role], &c, COPY_ACTION, VERSION),
            Decision::Allowed
        );
        assert_eq!(
            evaluate(
                [&by_role],
                &caller("222222222222", Some("arn:aws:iam::222222222222:role/other")),
                COPY_ACTION,
                VERSION
            ),
            Decision::NotAllowed
        );
        let deny = doc(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"rekognition:CopyProjectVersion","Resource":"*"}]}"#,
        );
        assert_eq!(
            evaluate([&by_root, &deny], &c, COPY_ACTION, VERSION),
            Decision::ExplicitlyDenied
        );
    }

    #[test]
    fn refuses_what_rekognition_refuses() {
        const V: &str = r#""Version":"2012-10-17","#;
        for (json, needle) in [
            ("not json".to_string(), "not valid JSON"),
            (
                r#"{"Version":"2011-01-01","Statement":[]}"#.to_string(),
                "Unsupported policy version",
            ),
            (
                format!(
                    r#"{{{V}"Statement":[{{"Effect":"Allow","Principal":"*","Action":"rekognition:CopyProjectVersion","Resource":"arn:aws:rekognition:eu-west-1?1:project/p"}}]}}"#
                ),
                "Invalid resource",
            ),
            (
                format!(
                    r#"{{{V}"Statement":[{{"Effect":"Allow","Principal":"*","Action":"rekognition:CopyProjectVersion","Resource":"*","Condition":"x"}}]}}"#
                ),
                "Condition must be an object",
            ),
            (
                format!(
                    r#"{{{V}"Statement":[{{"Effect":"Allow","Principal":"*","Action":"rekognition:Delete*","Resource":"*"}}]}}"#
                ),
                "may only allow",
            ),
            (format!(r#"{{{V}"Statement":[]}}"#), "Statement"),
            (
                format!(
                    r#"{{{V}"Statement":[{{"Principal":"*","Action":"rekognition:CopyProjectVersion","Resource":"*"}}]}}"#
                ),
                "Missing required field Effect",
            ),
            (
                format!(
                    r#"{{{V}"Statement":[{{"Effect":"Allow","Action":"rekognition:CopyProjectVersion","Resource":"*"}}]}}"#
                ),
                "Missing required field Principal",
            ),
            (
                format!(
                    r#"{{{V}"Statement":[{{"Effect":"Allow","Principal":"*","Resource":"*"}}]}}"#
                ),
                "Missing required field Action",
            ),
            (
                format!(
                    r#"{{{V}"Statement":[{{"Effect":"Allow","Principal":"*","Action":"rekognition:CopyProjectVersion"}}]}}"#
                ),
                "Missing required field Resource",
            ),
            (
                format!(
                    r#"{{{V}"Statement":[{{"Effect":"Allow","Principal":"*","NotAction":"x","Resource":"*"}}]}}"#
                ),
                "NotAction",
            ),
            (
                format!(
                    r#"{{{V}"Statement":[{{"Effect":"Allow","Principal":"*","Action":"rekognition:DeleteProject","Resource":"*"}}]}}"#
                ),
                "may only allow",
            ),
            (
                format!(
                    r#"{{{V}"Statement":[{{"Effect":"Allow","Principal":{{"AWS":"bob"}},"Action":"rekognition:CopyProjectVersion","Resource":"*"}}]}}"#
                ),
                "Invalid principal",
            ),
        ] {
            let error = PolicyDocument::parse(&json).unwrap_err();
            assert!(error.0.contains(needle), "{json}: {error}");
        }
        let long = format!(r#"{{"Statement":"{}"}}"#, "x".repeat(2000));
        assert!(
            PolicyDocument::parse(&long)
                .unwrap_err()
                .0
                .contains("maximum is 2000")
        );
    }

    #[test]
    fn written_documents_parse_back() {
        let statement = Statement::allow_copy(
            Some("ReKoPromote".into()),
            vec![account_principal("aws", "222222222222")],
            vec![VERSION.into()],
        );
        let document = PolicyDocument {
            statements: vec![statement.clone()],
        };
        assert_eq!(
            PolicyDocument::parse(&document.to_json()).unwrap(),
            document
        );
        assert!(
            statement
                .to_string()
                .contains("\"Action\": \"rekognition:CopyProjectVersion\"")
        );
    }

    /// A statement of `effect` for `principal` (JSON) doing `action` on `resource`, with an
    /// optional `Condition` block (JSON).
    fn statement(
        effect: &str,
        principal: &str,
        action: &str,
        resource: &str,
        condition: Option<&str>,
    ) -> PolicyDocument {
        let condition = condition
            .map(|c| format!(r#","Condition":{c}"#))
            .unwrap_or_default();
        doc(&format!(
            r#"{{"Version":"2012-10-17","Statement":{{"Effect":"{effect}","Principal":{principal},"Action":"{action}","Resource":"{resource}"{condition}}}}}"#
        ))
    }

    #[test]
    fn action_wildcards_naming_the_copy_are_read_and_matched() {
        let c = caller("222222222222", Some("arn:aws:iam::222222222222:role/r"));
        for action in [
            "rekognition:Copy*",
            "rekognition:CopyProject?ersion",
            "REKOGNITION:copy*",
            "rekognition:COPYPROJECT?ERSION",
            // Wider than PutProjectPolicy accepts, read as IAM reads them all the same.
            "rekognition:*",
            "*",
        ] {
            let allow = statement("Allow", r#""*""#, action, VERSION, None);
            assert_eq!(allow.statements[0].actions, [action]);
            assert_eq!(
                evaluate([&allow], &c, COPY_ACTION, VERSION),
                Decision::Allowed,
                "{action}"
            );
            let deny = statement("Deny", r#""*""#, action, "*", None);
            assert_eq!(
                evaluate([&allow, &deny], &c, COPY_ACTION, VERSION),
                Decision::ExplicitlyDenied,
                "{action}"
            );
        }
        for action in ["rekognition:Delete*", "rekognition:Copy?", "s3:*"] {
            let json = format!(
                r#"{{"Version":"2012-10-17","Statement":{{"Effect":"Deny","Principal":"*","Action":"{action}","Resource":"*"}}}}"#
            );
            assert!(PolicyDocument::parse(&json).is_err(), "{action}");
        }
    }

    #[test]
    fn resource_wildcards_stay_within_an_arn_segment_unless_they_end_it() {
        for (pattern, matches) in [
            ("arn:aws:rekognition:*", true),
            ("arn:*:111111111111:project/*", true),
            ("arn:aws:rekognition:eu-*-1:*", true),
            (
                "arn:aws:rekognition:eu-west-?:111111111111:project/p/version/*",
                true,
            ),
            // A `*` inside a segment ends at the segment's colon.
            ("arn:aws:rek*1:project/p/version/v1/1700000000000", false),
            ("arn:aws:rekognition:eu*111111111111:project/*", false),
            // A `?` is never a colon.
            ("arn:aws:rekognition:eu-west-1?111111111111:*", false),
            // Within the resource part a `*` spans slashes.
            (
                "arn:aws:rekognition:eu-west-1:111111111111:project/*/1700000000000",
                true,
            ),
            // Resources are case-sensitive.
            (
                "arn:aws:rekognition:eu-west-1:111111111111:project/P/*",
                false,
            ),
        ] {
            assert_eq!(
                wildcard_match(pattern, VERSION, Wildcards::Arn),
                matches,
                "{pattern}"
            );
            let allow = statement("Allow", r#""*""#, COPY_ACTION, pattern, None);
            let expected = if matches {
                Decision::Allowed
            } else {
                Decision::NotAllowed
            };
            assert_eq!(
                evaluate(
                    [&allow],
                    &caller("222222222222", None),
                    COPY_ACTION,
                    VERSION
                ),
                expected,
                "{pattern}"
            );
        }
    }

    #[test]
    fn an_account_root_names_its_own_partition_only() {
        let cn_root = statement(
            "Allow",
            r#"{"AWS":"arn:aws-cn:iam::222222222222:root"}"#,
            COPY_ACTION,
            "*",
            None,
        );
        let in_aws = caller("222222222222", Some("arn:aws:iam::222222222222:role/r"));
        assert_eq!(
            evaluate([&cn_root], &in_aws, COPY_ACTION, VERSION),
            Decision::NotAllowed
        );
        // With no ARN of its own, the caller is of the version's partition.
        assert_eq!(
            evaluate(
                [&cn_root],
                &caller("222222222222", None),
                COPY_ACTION,
                VERSION
            ),
            Decision::NotAllowed
        );
        let cn_version = VERSION.replace("arn:aws:", "arn:aws-cn:");
        assert_eq!(
            evaluate(
                [&cn_root],
                &caller("222222222222", None),
                COPY_ACTION,
                &cn_version
            ),
            Decision::Allowed
        );
        let aws_root = statement(
            "Allow",
            r#"{"AWS":"arn:aws:iam::222222222222:root"}"#,
            COPY_ACTION,
            "*",
            None,
        );
        assert_eq!(
            evaluate([&aws_root], &in_aws, COPY_ACTION, VERSION),
            Decision::Allowed
        );
    }

    #[test]
    fn a_document_without_version_is_read() {
        let document = doc(
            r#"{"Statement":{"Effect":"Allow","Principal":"*","Action":"rekognition:CopyProjectVersion","Resource":"*"}}"#,
        );
        assert_eq!(
            evaluate(
                [&document],
                &caller("222222222222", None),
                COPY_ACTION,
                VERSION
            ),
            Decision::Allowed
        );
    }

    #[test]
    fn conditions_on_known_keys_are_evaluated_and_others_leave_the_decision_open() {
        let role = caller(
            "222222222222",
            Some("arn:aws:iam::222222222222:role/deployer"),
        );
        let decide = |effect: &str, condition: &str, who: &Caller| {
            let conditional = statement("Allow", r#""*""#, COPY_ACTION, "*", None);
            let tested = statement(effect, r#""*""#, COPY_ACTION, "*", Some(condition));
            match effect {
                // A Deny is tested against an unconditional Allow.
                "Deny" => evaluate([&conditional, &tested], who, COPY_ACTION, VERSION),
                _ => evaluate([&tested], who, COPY_ACTION, VERSION),
            }
        };
        for (effect, condition, expected) in [
            (
                "Allow",
                r#"{"StringEquals":{"aws:PrincipalAccount":"222222222222"}}"#,
                Decision::Allowed,
            ),
            (
                "Allow",
                r#"{"StringEquals":{"AWS:principalaccount":["1","222222222222"]}}"#,
                Decision::Allowed,
            ),
            (
                "Allow",
                r#"{"StringNotEquals":{"aws:PrincipalAccount":"222222222222"}}"#,
                Decision::NotAllowed,
            ),
            (
                "Allow",
                r#"{"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::*:role/deploy*"}}"#,
                Decision::Allowed,
            ),
            (
                "Allow",
                r#"{"ArnNotLikeIfExists":{"aws:PrincipalArn":"arn:aws:iam::*:role/deploy*"}}"#,
                Decision::NotAllowed,
            ),
            (
                "Allow",
                r#"{"Null":{"aws:PrincipalArn":"false"}}"#,
                Decision::Allowed,
            ),
            (
                "Allow",
                r#"{"StringEquals":{"aws:PrincipalOrgID":"o-123"}}"#,
                Decision::MayBeAllowed,
            ),
            (
                "Allow",
                r#"{"StringEquals":{"aws:PrincipalAccount":"333333333333","aws:PrincipalOrgID":"o-123"}}"#,
                Decision::NotAllowed,
            ),
            (
                "Allow",
                r#"{"NumericLessThan":{"aws:PrincipalAccount":"3"}}"#,
                Decision::MayBeAllowed,
            ),
            (
                "Deny",
                r#"{"StringEquals":{"aws:PrincipalAccount":"222222222222"}}"#,
                Decision::ExplicitlyDenied,
            ),
            (
                "Deny",
                r#"{"StringNotLike":{"aws:PrincipalArn":"arn:aws:iam::*:role/deploy*"}}"#,
                Decision::Allowed,
            ),
            (
                "Deny",
                r#"{"Bool":{"aws:SecureTransport":"false"}}"#,
                Decision::MayBeDenied,
            ),
        ] {
            assert_eq!(
                decide(effect, condition, &role),
                expected,
                "{effect} {condition}"
            );
        }
        // Without the caller's role ARN, aws:PrincipalArn is not known.
        assert_eq!(
            decide(
                "Allow",
                r#"{"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::*:role/deploy*"}}"#,
                &caller("222222222222", None)
            ),
            Decision::MayBeAllowed
        );
        // A surer Deny wins over an undecided one; an undecided Deny over any Allow.
        let deny = statement("Deny", r#""*""#, COPY_ACTION, "*", None);
        let maybe_deny = statement(
            "Deny",
            r#""*""#,
            COPY_ACTION,
            "*",
            Some(r#"{"Bool":{"aws:SecureTransport":"false"}}"#),
        );
        assert_eq!(
            evaluate([&maybe_deny, &deny], &role, COPY_ACTION, VERSION),
            Decision::ExplicitlyDenied
        );
        // Conditions are kept when the statement is written back.
        let text = maybe_deny.statements[0].to_value().to_string();
        assert_eq!(
            PolicyDocument::parse(&format!(r#"{{"Statement":{text}}}"#)).unwrap(),
            maybe_deny
        );
    }

    #[test]
    fn wildcards() {
        assert!(wildcard_match("a*c", "abbbc", Wildcards::Text));
        assert!(wildcard_match("a?c", "abc", Wildcards::Text));
        assert!(!wildcard_match("a?c", "abbc", Wildcards::Text));
        assert!(wildcard_match("*", "", Wildcards::Text));
        assert!(!wildcard_match("abc", "abcd", Wildcards::Text));
        assert!(wildcard_match("a*c", "a:b:c", Wildcards::Text));
    }
}
