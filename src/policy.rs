//! Rekognition project policies: parse, evaluate and write the resource policies that let another
//! account copy a project's versions (`rekognition:CopyProjectVersion`).
//!
//! Pure logic, shared by every side that reasons about policies: `plan` (does a source project's
//! policy let the destination copy this version? which statement is missing?), `apply` (the
//! managed policies it writes) and the `sandbox` (which enforces them as AWS does). Reading and
//! writing policies through the API is left to `state` and `apply`.

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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
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
    pub actions: Vec<String>,
    pub resources: Vec<String>,
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
    /// Parses a project policy as Rekognition accepts it: a JSON object of `Version`
    /// (`2012-10-17` or `2008-10-17`), optional `Id`, and `Statement` (one object or a list);
    /// each statement with `Effect`, `Principal` (`*` or `{"AWS": ...}` of account ids and IAM or
    /// STS ARNs), `Action` (`rekognition:CopyProjectVersion` only) and `Resource` (ARNs or `*`),
    /// `Sid` optional; `NotAction`, `NotResource`, `NotPrincipal`, `Condition` and anything else
    /// refused. The messages are MalformedPolicyDocumentException's.
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
            None => return malformed("Missing required field Version".into()),
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
            "Sid" | "Effect" | "Principal" | "Action" | "Resource" => {}
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
        if !action.eq_ignore_ascii_case(COPY_ACTION) {
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
        if resource != "*" && !resource.starts_with("arn:") {
            return Err(malformed(format!("Invalid resource: {resource}")));
        }
    }
    Ok(Statement {
        sid: object
            .get("Sid")
            .and_then(Value::as_str)
            .map(str::to_string),
        effect,
        principals,
        actions,
        resources,
    })
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
        Value::Object(object)
    }

    fn matches(&self, caller: &Caller, action: &str, resource: &str) -> bool {
        self.principals.iter().any(|p| principal_matches(p, caller))
            && self.actions.iter().any(|a| a.eq_ignore_ascii_case(action))
            && self.resources.iter().any(|r| wildcard_match(r, resource))
    }
}

impl fmt::Display for Statement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = serde_json::to_string_pretty(&self.to_value()).map_err(|_| fmt::Error)?;
        f.write_str(&text)
    }
}

fn principal_matches(principal: &str, caller: &Caller) -> bool {
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
    // `arn:PARTITION:iam::ACCOUNT:root` stands for every principal of the account.
    principal
        .strip_prefix("arn:")
        .map(|rest| rest.splitn(5, ':').collect::<Vec<_>>())
        .is_some_and(|parts| {
            matches!(parts[..], [_, "iam", "", account, "root"] if account == caller.account_id)
        })
}

/// IAM-style matching: `*` any run of characters, `?` any one character.
pub fn wildcard_match(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let (mut pi, mut ti) = (0, 0);
    let (mut star, mut mark) = (None, 0);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == '*' {
        pi += 1;
    }
    pi == p.len()
}

/// Evaluates `documents` for `caller` doing `action` on `resource`: an explicit Deny wins, then
/// any Allow, else not allowed.
pub fn evaluate<'a>(
    documents: impl IntoIterator<Item = &'a PolicyDocument>,
    caller: &Caller,
    action: &str,
    resource: &str,
) -> Decision {
    let mut allowed = false;
    for document in documents {
        for statement in &document.statements {
            if statement.matches(caller, action, resource) {
                match statement.effect {
                    Effect::Deny => return Decision::ExplicitlyDenied,
                    Effect::Allow => allowed = true,
                }
            }
        }
    }
    if allowed {
        Decision::Allowed
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
                r#"{"Statement":[]}"#.to_string(),
                "Missing required field Version",
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

    #[test]
    fn wildcards() {
        assert!(wildcard_match("a*c", "abbbc"));
        assert!(wildcard_match("a?c", "abc"));
        assert!(!wildcard_match("a?c", "abbc"));
        assert!(wildcard_match("*", ""));
        assert!(!wildcard_match("abc", "abcd"));
    }
}
