//! What managed project policies grant, read independently of the product: the reference-model
//! test and the chaos run (`examples/chaos.rs`, which includes this file by path) check the
//! product's policies with it, so none of it may come from `reko_promote::policy`.

use std::collections::BTreeSet;

/// `*`/`?` wildcard matching, as IAM matches resources (managed policies' resources are exact
/// ARNs or end in `*`).
pub fn glob(pattern: &str, text: &str) -> bool {
    fn go(p: &[u8], t: &[u8]) -> bool {
        match (p.first(), t.first()) {
            (None, None) => true,
            (Some(b'*'), _) => go(&p[1..], t) || (!t.is_empty() && go(p, &t[1..])),
            (Some(b'?'), Some(_)) => go(&p[1..], &t[1..]),
            (Some(a), Some(b)) if a == b => go(&p[1..], &t[1..]),
            _ => false,
        }
    }
    go(pattern.as_bytes(), text.as_bytes())
}

/// A policy element that is one string or a list of them.
fn one_or_many(v: &serde_json::Value) -> Vec<String> {
    match v {
        serde_json::Value::String(s) => vec![s.clone()],
        serde_json::Value::Array(a) => a
            .iter()
            .filter_map(|x| x.as_str().map(str::to_string))
            .collect(),
        _ => Vec::new(),
    }
}

/// The (account id, version ARN) pairs `documents` allow, for the versions `arns`. Managed
/// policies hold Allow statements for account principals only: anything else is an error.
pub fn granted_pairs(
    documents: &[&str],
    arns: &[String],
) -> Result<BTreeSet<(String, String)>, String> {
    let mut pairs = BTreeSet::new();
    for text in documents {
        let doc: serde_json::Value =
            serde_json::from_str(text).map_err(|e| format!("managed policy is not JSON: {e}"))?;
        let statements = match &doc["Statement"] {
            serde_json::Value::Array(a) => a.clone(),
            other => vec![other.clone()],
        };
        for st in statements {
            if st["Effect"] != "Allow" {
                return Err(format!(
                    "a managed policy holds a non-Allow statement: {st}"
                ));
            }
            let principals = match &st["Principal"] {
                serde_json::Value::String(s) if s == "*" => {
                    return Err("a managed policy grants the `*` principal".into());
                }
                p => one_or_many(&p["AWS"]),
            };
            for principal in principals {
                let account = principal
                    .strip_prefix("arn:aws:iam::")
                    .and_then(|r| r.strip_suffix(":root"))
                    .unwrap_or(&principal)
                    .to_string();
                for resource in one_or_many(&st["Resource"]) {
                    for arn in arns.iter().filter(|arn| glob(&resource, arn)) {
                        pairs.insert((account.clone(), arn.clone()));
                    }
                }
            }
        }
    }
    Ok(pairs)
}
