//! Project policies: parsing a `PutProjectPolicy` document the way Rekognition accepts it, and
//! deciding whether a caller may `rekognition:CopyProjectVersion` a given source version.
//!
//! Rekognition project policies are a small subset of IAM resource policies: `Version` and
//! `Statement` (one object or a list), each statement with `Effect`, `Principal`, `Action` and
//! `Resource` (`Sid` optional). `NotAction`, `NotResource` and `NotPrincipal` are refused, as are
//! conditions and any action but `rekognition:CopyProjectVersion`. Evaluation follows IAM: an
//! explicit Deny wins, otherwise one matching Allow is enough. Who calls and which ARN is copied
//! are worked out by the caller (`rekognition/copy.rs`).

use serde_json::Value;

/// The only action a project policy may name.
pub const COPY_ACTION: &str = "rekognition:CopyProjectVersion";

/// Why a document is refused (MalformedPolicyDocumentException's message).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Malformed {
    pub message: String,
}

fn malformed<T>(message: impl Into<String>) -> Result<T, Malformed> {
    Err(Malformed {
        message: message.into(),
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    Allow,
    Deny,
}

#[derive(Debug, Clone)]
pub struct Statement {
    pub effect: Effect,
    /// Principal values; `*` for anyone.
    pub principals: Vec<String>,
    pub resources: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct PolicyDocument {
    pub statements: Vec<Statement>,
}

/// Who is asking, as far as a resource policy can see.
#[derive(Debug, Clone)]
pub struct Principal<'a> {
    pub account_id: &'a str,
    /// The IAM user ARN, or for an assumed role the role ARN (`arn:aws:iam::A:role/N`).
    pub iam_arn: &'a str,
    /// The assumed-role session ARN, when the caller is one.
    pub session_arn: Option<&'a str>,
}

fn strings(v: &Value, what: &str) -> Result<Vec<String>, Malformed> {
    match v {
        Value::String(s) => Ok(vec![s.clone()]),
        Value::Array(items) if !items.is_empty() => items
            .iter()
            .map(|i| match i {
                Value::String(s) => Ok(s.clone()),
                _ => malformed(format!("{what} entries must be strings")),
            })
            .collect(),
        _ => malformed(format!(
            "{what} must be a string or a non-empty list of strings"
        )),
    }
}

impl PolicyDocument {
    pub fn parse(text: &str) -> Result<Self, Malformed> {
        let doc: Value = match serde_json::from_str(text) {
            Ok(v) => v,
            Err(e) => return malformed(format!("The policy document is not valid JSON: {e}")),
        };
        let Value::Object(doc) = doc else {
            return malformed("The policy document must be a JSON object");
        };
        for key in doc.keys() {
            if !matches!(key.as_str(), "Version" | "Statement" | "Id") {
                return malformed(format!("Unsupported policy element: {key}"));
            }
        }
        match doc.get("Version").and_then(Value::as_str) {
            Some("2012-10-17") | Some("2008-10-17") => {}
            Some(other) => return malformed(format!("Unsupported policy version: {other}")),
            None => return malformed("Missing required field Version"),
        }
        let statements = match doc.get("Statement") {
            Some(Value::Array(items)) if !items.is_empty() => items.iter().collect::<Vec<_>>(),
            Some(o @ Value::Object(_)) => vec![o],
            Some(_) => return malformed("Statement must be an object or a non-empty list"),
            None => return malformed("Missing required field Statement"),
        };
        let mut out = Vec::with_capacity(statements.len());
        for s in statements {
            let Value::Object(s) = s else {
                return malformed("Each statement must be a JSON object");
            };
            for key in s.keys() {
                match key.as_str() {
                    "Sid" | "Effect" | "Principal" | "Action" | "Resource" => {}
                    "NotAction" | "NotResource" | "NotPrincipal" => {
                        return malformed(format!("{key} is not supported in project policies"));
                    }
                    other => return malformed(format!("Unsupported statement element: {other}")),
                }
            }
            let effect = match s.get("Effect").and_then(Value::as_str) {
                Some("Allow") => Effect::Allow,
                Some("Deny") => Effect::Deny,
                Some(other) => return malformed(format!("Invalid Effect: {other}")),
                None => return malformed("Missing required field Effect"),
            };
            let principals = match s.get("Principal") {
                Some(Value::String(star)) if star == "*" => vec!["*".to_string()],
                Some(Value::Object(p)) => {
                    if p.keys().any(|k| k != "AWS") || !p.contains_key("AWS") {
                        return malformed("Principal must be \"*\" or {\"AWS\": ...}");
                    }
                    strings(&p["AWS"], "Principal.AWS")?
                }
                Some(_) => return malformed("Principal must be \"*\" or {\"AWS\": ...}"),
                None => return malformed("Missing required field Principal"),
            };
            for p in &principals {
                let ok = p == "*"
                    || (p.len() == 12 && p.bytes().all(|b| b.is_ascii_digit()))
                    || p.starts_with("arn:aws:iam::")
                    || p.starts_with("arn:aws:sts::");
                if !ok {
                    return malformed(format!("Invalid principal in policy: \"AWS\":\"{p}\""));
                }
            }
            let Some(actions) = s.get("Action") else {
                return malformed("Missing required field Action");
            };
            for a in strings(actions, "Action")? {
                if !a.eq_ignore_ascii_case(COPY_ACTION) {
                    return malformed(format!(
                        "Unsupported action {a}: a project policy may only allow {COPY_ACTION}"
                    ));
                }
            }
            let Some(resources) = s.get("Resource") else {
                return malformed("Missing required field Resource");
            };
            let resources = strings(resources, "Resource")?;
            for r in &resources {
                if r != "*" && !r.starts_with("arn:") {
                    return malformed(format!("Invalid resource: {r}"));
                }
            }
            out.push(Statement {
                effect,
                principals,
                resources,
            });
        }
        Ok(Self { statements: out })
    }

    /// The statements' verdict for `who` copying `resource`: `Some(Deny)` on an explicit deny,
    /// `Some(Allow)` when allowed, `None` when nothing matches (an implicit deny).
    pub fn evaluate(&self, who: &Principal<'_>, resource: &str) -> Option<Effect> {
        let mut verdict = None;
        for s in &self.statements {
            let principal = s.principals.iter().any(|p| principal_matches(p, who));
            let res = s.resources.iter().any(|r| glob_match(r, resource));
            if principal && res {
                if s.effect == Effect::Deny {
                    return Some(Effect::Deny);
                }
                verdict = Some(Effect::Allow);
            }
        }
        verdict
    }
}

fn principal_matches(p: &str, who: &Principal<'_>) -> bool {
    p == "*"
        || p == who.account_id
        || *p == format!("arn:aws:iam::{}:root", who.account_id)
        || p == who.iam_arn
        || who.session_arn == Some(p)
}

/// IAM-style wildcard match: `*` any run of characters, `?` one character.
pub fn glob_match(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    // Iterative match with backtracking to the last `*`: linear in practice, no recursion for
    // hostile patterns to blow the stack with.
    let (mut pi, mut ti) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == '*' {
        pi += 1;
    }
    pi == p.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    const V: &str =
        "arn:aws:rekognition:eu-west-1:111111111111:project/p/version/p.v1/1700000000000";

    fn doc(statements: &str) -> String {
        format!(r#"{{"Version":"2012-10-17","Statement":{statements}}}"#)
    }

    #[test]
    fn wildcards() {
        assert!(glob_match("*", V));
        assert!(glob_match(
            "arn:aws:rekognition:*:111111111111:project/p/version/*",
            V
        ));
        assert!(glob_match(
            "arn:aws:rekognition:eu-west-?:111111111111:project/p/*",
            V
        ));
        assert!(!glob_match("arn:aws:rekognition:us-*", V));
    }

    #[test]
    fn deny_wins_and_principals_match() {
        let d = PolicyDocument::parse(&doc(&format!(
            r#"[{{"Effect":"Allow","Principal":{{"AWS":"222222222222"}},"Action":"rekognition:CopyProjectVersion","Resource":"*"}},
               {{"Effect":"Deny","Principal":{{"AWS":"arn:aws:iam::222222222222:role/bad"}},"Action":"rekognition:CopyProjectVersion","Resource":"{V}"}}]"#
        )))
        .unwrap();
        let good = Principal {
            account_id: "222222222222",
            iam_arn: "arn:aws:iam::222222222222:role/reko-promote",
            session_arn: None,
        };
        let bad = Principal {
            iam_arn: "arn:aws:iam::222222222222:role/bad",
            ..good.clone()
        };
        let other = Principal {
            account_id: "333333333333",
            iam_arn: "arn:aws:iam::333333333333:role/reko-promote",
            session_arn: None,
        };
        assert_eq!(d.evaluate(&good, V), Some(Effect::Allow));
        assert_eq!(d.evaluate(&bad, V), Some(Effect::Deny));
        assert_eq!(d.evaluate(&other, V), None);
    }

    #[test]
    fn malformed_documents() {
        for bad in [
            "not json".to_string(),
            r#"{"Statement":[]}"#.to_string(),
            doc(
                r#"[{"Effect":"Allow","Principal":"*","Action":"rekognition:CopyProjectVersion"}]"#,
            ),
            doc(r#"[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"*"}]"#),
            doc(
                r#"[{"Effect":"Allow","NotPrincipal":"*","Action":"rekognition:CopyProjectVersion","Resource":"*"}]"#,
            ),
            doc(
                r#"[{"Effect":"Maybe","Principal":"*","Action":"rekognition:CopyProjectVersion","Resource":"*"}]"#,
            ),
        ] {
            assert!(PolicyDocument::parse(&bad).is_err(), "{bad}");
        }
    }
}
