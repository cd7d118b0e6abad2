//! Fuzzing of the sandbox's request parsers, in process (through the same router as the network,
//! no socket): every Rekognition operation (awsJson bodies) and STS (form bodies) get arbitrary
//! bytes and structure-aware mutations of valid requests (members dropped, retyped, added,
//! bodies cut or spliced), each signed so that it reaches the parser. Every input must be
//! answered (no panic), within a bound (no hang), with either a success or a well-formed AWS error;
//! a body that is not a JSON object must be a SerializationException.
//!
//! CI-sized by default (256 inputs per target); `REKO_FUZZ_CASES=100000` for a long run, which
//! prints per target the inputs, time and slowest input.

use std::time::{Duration, Instant};

use axum::body::Body;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use reko_promote::sandbox::rekognition::OPERATIONS;
use reko_promote::sandbox::seed::{self, DEFECT_DETECTOR, DEFECT_V2, LABEL_READER, ML_ACCOUNT};
use serde_json::{Value, json};

use super::helpers::*;

/// Longest any one input may take.
const PER_INPUT_BOUND: Duration = Duration::from_secs(5);

/// Which parser a target feeds.
#[derive(Clone, Copy, Debug)]
enum Protocol {
    Json,
    Form,
}

/// A valid request body of each Rekognition operation, against the default organisation.
fn rekognition_corpus(sb: &TestSandbox) -> Vec<(&'static str, Value)> {
    let project = seed::default_project_arn(ML_ACCOUNT, DEFECT_DETECTOR);
    let labels = seed::default_project_arn(ML_ACCOUNT, LABEL_READER);
    let version = seeded_version_arn(sb, ML_ACCOUNT, DEFECT_DETECTOR, DEFECT_V2);
    let output = json!({"S3Bucket": "fuzz-models", "S3KeyPrefix": "out/"});
    let policy = json!({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::222222222222:root"},
            "Action": "rekognition:CopyProjectVersion", "Resource": "*"}]
    })
    .to_string();
    vec![
        (
            "CreateProject",
            json!({"ProjectName": "fuzzed", "Feature": "CUSTOM_LABELS", "AutoUpdate": "DISABLED", "Tags": {"k": "v"}}),
        ),
        (
            "DescribeProjects",
            json!({"MaxResults": 2, "ProjectNames": [DEFECT_DETECTOR], "Features": ["CUSTOM_LABELS"]}),
        ),
        ("DeleteProject", json!({"ProjectArn": labels})),
        (
            "CreateProjectVersion",
            json!({"ProjectArn": project, "VersionName": "fz", "OutputConfig": output,
                "Tags": {"a": "b"}, "KmsKeyId": "alias/models", "VersionDescription": "fuzz"}),
        ),
        (
            "DescribeProjectVersions",
            json!({"ProjectArn": project, "VersionNames": [DEFECT_V2], "MaxResults": 10}),
        ),
        (
            "DeleteProjectVersion",
            json!({"ProjectVersionArn": version}),
        ),
        (
            "CopyProjectVersion",
            json!({"SourceProjectArn": project, "SourceProjectVersionArn": version,
                "DestinationProjectArn": project, "VersionName": "copy-1", "OutputConfig": output,
                "Tags": {"a": "b"}, "KmsKeyId": "alias/models"}),
        ),
        (
            "PutProjectPolicy",
            json!({"ProjectArn": project, "PolicyName": "fuzz", "PolicyDocument": policy}),
        ),
        (
            "ListProjectPolicies",
            json!({"ProjectArn": labels, "MaxResults": 5}),
        ),
        (
            "DeleteProjectPolicy",
            json!({"ProjectArn": labels, "PolicyName": seed::LABEL_READER_POLICY, "PolicyRevisionId": "0a1b"}),
        ),
        (
            "TagResource",
            json!({"ResourceArn": project, "Tags": {"team": "vision"}}),
        ),
        (
            "UntagResource",
            json!({"ResourceArn": project, "TagKeys": ["team"]}),
        ),
        ("ListTagsForResource", json!({"ResourceArn": version})),
        (
            "StartProjectVersion",
            json!({"ProjectVersionArn": version, "MinInferenceUnits": 1, "MaxInferenceUnits": 2}),
        ),
        ("StopProjectVersion", json!({"ProjectVersionArn": version})),
    ]
}

/// Valid STS bodies, as (name, value) pairs.
fn sts_corpus() -> Vec<Vec<(String, String)>> {
    let pairs = |p: &[(&str, &str)]| {
        p.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect::<Vec<_>>()
    };
    vec![
        pairs(&[("Action", "GetCallerIdentity"), ("Version", "2011-06-15")]),
        pairs(&[
            ("Action", "AssumeRole"),
            ("Version", "2011-06-15"),
            ("RoleArn", &seed::role_arn(seed::STAGING_ACCOUNT)),
            ("RoleSessionName", "fuzz-session"),
            ("DurationSeconds", "900"),
        ]),
        pairs(&[
            ("Action", "AssumeRole"),
            ("Version", "2011-06-15"),
            ("RoleArn", &seed::role_arn(seed::PROD_ACCOUNT)),
            ("RoleSessionName", "fuzz"),
            ("ExternalId", seed::PROD_EXTERNAL_ID),
        ]),
    ]
}

/// Any JSON value, a few levels deep.
fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>().prop_map(|f| json!(f)),
        ".{0,40}".prop_map(Value::String),
        "[a-zA-Z0-9_.:/-]{0,300}".prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(".{0,12}", inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// One structure-aware change to a JSON object.
#[derive(Debug, Clone)]
enum Mutation {
    Remove(prop::sample::Index),
    Replace(prop::sample::Index, Value),
    Insert(String, Value),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        any::<prop::sample::Index>().prop_map(Mutation::Remove),
        (any::<prop::sample::Index>(), any_json()).prop_map(|(i, v)| Mutation::Replace(i, v)),
        ("[A-Z][a-zA-Z]{0,20}", any_json()).prop_map(|(k, v)| Mutation::Insert(k, v)),
    ]
}

fn apply(
    mut object: serde_json::Map<String, Value>,
    m: &Mutation,
) -> serde_json::Map<String, Value> {
    let keys: Vec<String> = object.keys().cloned().collect();
    match m {
        Mutation::Remove(i) if !keys.is_empty() => {
            object.remove(&keys[i.index(keys.len())]);
        }
        Mutation::Replace(i, v) if !keys.is_empty() => {
            object.insert(keys[i.index(keys.len())].clone(), v.clone());
        }
        Mutation::Insert(k, v) => {
            object.insert(k.clone(), v.clone());
        }
        _ => {}
    }
    object
}

/// A byte-level change to a serialised body.
#[derive(Debug, Clone)]
enum ByteChange {
    Keep,
    Truncate(prop::sample::Index),
    Splice(prop::sample::Index, Vec<u8>),
}

fn byte_change() -> impl Strategy<Value = ByteChange> {
    prop_oneof![
        6 => Just(ByteChange::Keep),
        1 => any::<prop::sample::Index>().prop_map(ByteChange::Truncate),
        1 => (any::<prop::sample::Index>(), prop::collection::vec(any::<u8>(), 1..8))
            .prop_map(|(i, b)| ByteChange::Splice(i, b)),
    ]
}

fn change_bytes(mut body: Vec<u8>, change: &ByteChange) -> Vec<u8> {
    match change {
        ByteChange::Keep => {}
        ByteChange::Truncate(i) => body.truncate(i.index(body.len() + 1)),
        ByteChange::Splice(i, b) => {
            let at = i.index(body.len() + 1);
            body.splice(at..at, b.iter().copied());
        }
    }
    body
}

/// Bodies for a JSON target: arbitrary bytes, or the valid body mutated.
fn json_bodies(valid: Value) -> impl Strategy<Value = Vec<u8>> {
    let object = match valid {
        Value::Object(o) => o,
        _ => unreachable!("corpus bodies are objects"),
    };
    prop_oneof![
        1 => prop::collection::vec(any::<u8>(), 0..256),
        4 => (prop::collection::vec(mutation(), 0..4), byte_change()).prop_map(move |(ms, change)| {
            let mutated = ms.iter().fold(object.clone(), apply);
            change_bytes(Value::Object(mutated).to_string().into_bytes(), &change)
        }),
    ]
}

/// Bodies for STS: arbitrary bytes, or a valid form with pairs dropped, replaced or added.
fn form_bodies(valid: Vec<Vec<(String, String)>>) -> impl Strategy<Value = Vec<u8>> {
    let pair_change = prop_oneof![
        any::<prop::sample::Index>().prop_map(|i| (i, None)),
        (any::<prop::sample::Index>(), ".{0,80}").prop_map(|(i, v)| (i, Some(v))),
    ];
    prop_oneof![
        1 => prop::collection::vec(any::<u8>(), 0..256),
        4 => (
            any::<prop::sample::Index>(),
            prop::collection::vec(pair_change, 0..4),
            prop::collection::vec(("[A-Za-z]{1,16}", ".{0,40}"), 0..3),
            byte_change(),
        )
            .prop_map(move |(which, changes, extra, change)| {
                let mut pairs = valid[which.index(valid.len())].clone();
                for (i, value) in &changes {
                    if pairs.is_empty() {
                        break;
                    }
                    let at = i.index(pairs.len());
                    match value {
                        None => {
                            pairs.remove(at);
                        }
                        Some(v) => pairs[at].1 = v.clone(),
                    }
                }
                pairs.extend(extra);
                let text = form_urlencoded::Serializer::new(String::new())
                    .extend_pairs(pairs)
                    .finish();
                change_bytes(text.into_bytes(), &change)
            }),
    ]
}

/// Codes of a refused signature: never expected, as every input is signed, so that it reaches
/// the parser.
const AUTH_CODES: &[&str] = &[
    "MissingAuthenticationTokenException",
    "IncompleteSignatureException",
    "UnrecognizedClientException",
    "InvalidSignatureException",
    "MissingAuthenticationToken",
    "IncompleteSignature",
    "InvalidClientTokenId",
    "SignatureDoesNotMatch",
];

/// One answer: how long it took and what it was (`OK` or the error code).
struct Answered {
    took: Duration,
    outcome: String,
}

/// Sends one signed request in process and checks the answer.
async fn check_one(
    sb: &TestSandbox,
    protocol: Protocol,
    target: &str,
    body: &[u8],
) -> Result<Answered, TestCaseError> {
    let (key, secret) = sb.credentials("ml").expect("seeded account");
    let extra: Vec<(&str, &str)> = match protocol {
        Protocol::Json => vec![
            ("content-type", "application/x-amz-json-1.1"),
            ("x-amz-target", target),
        ],
        Protocol::Form => vec![("content-type", "application/x-www-form-urlencoded")],
    };
    let service = match protocol {
        Protocol::Json => "rekognition",
        Protocol::Form => "sts",
    };
    let headers = sign(sb, service, &key, &secret, &extra, body);
    let mut request = http::Request::post("/");
    for (k, v) in &headers {
        request = request.header(k.as_str(), v.as_str());
    }
    let request = request
        .body(Body::from(body.to_vec()))
        .map_err(|e| TestCaseError::fail(format!("request: {e}")))?;
    let started = Instant::now();
    let response = tokio::time::timeout(PER_INPUT_BOUND, sb.call(request))
        .await
        .map_err(|_| TestCaseError::fail(format!("no answer within {PER_INPUT_BOUND:?}")))?;
    let elapsed = started.elapsed();
    let status = response.status().as_u16();
    let error_type = response
        .headers()
        .get("x-amzn-errortype")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    prop_assert!(response.headers().contains_key("x-amzn-requestid"));
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .map_err(|e| TestCaseError::fail(format!("body: {e}")))?;
    let text = String::from_utf8_lossy(&bytes);
    prop_assert!(
        status == 200 || (400..500).contains(&status),
        "HTTP {status}: {text}"
    );
    let outcome = if status == 200 {
        "OK".to_string()
    } else {
        match protocol {
            Protocol::Json => error_type.clone().unwrap_or_default(),
            Protocol::Form => text
                .split("<Code>")
                .nth(1)
                .and_then(|rest| rest.split("</Code>").next())
                .unwrap_or_default()
                .to_string(),
        }
    };
    prop_assert!(
        !AUTH_CODES.contains(&outcome.as_str()),
        "a signed input was refused: {text}"
    );
    match protocol {
        Protocol::Json => {
            let answer: Value = serde_json::from_slice(&bytes)
                .map_err(|e| TestCaseError::fail(format!("answer is not JSON ({e}): {text}")))?;
            prop_assert!(answer.is_object(), "{text}");
            let not_an_object = !body.iter().all(u8::is_ascii_whitespace)
                && !matches!(serde_json::from_slice::<Value>(body), Ok(Value::Object(_)));
            if status != 200 {
                let code = answer["__type"].as_str().unwrap_or_default();
                prop_assert!(!code.is_empty() && answer["Message"].is_string(), "{text}");
                prop_assert_eq!(error_type.as_deref(), Some(code));
            }
            if not_an_object {
                prop_assert_eq!(
                    answer["__type"].as_str(),
                    Some("SerializationException"),
                    "{}",
                    text
                );
            }
        }
        Protocol::Form => {
            if status == 200 {
                prop_assert!(
                    text.starts_with("<AssumeRoleResponse ")
                        || text.starts_with("<GetCallerIdentityResponse "),
                    "{text}"
                );
            } else {
                prop_assert!(
                    text.starts_with("<ErrorResponse ")
                        && text.contains("<Code>")
                        && text.contains("<Message>"),
                    "{text}"
                );
            }
        }
    }
    Ok(Answered {
        took: elapsed,
        outcome,
    })
}

fn cases() -> u32 {
    std::env::var("REKO_FUZZ_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(256)
}

/// Runs `strategy`'s inputs against one target and reports the figures.
fn fuzz_target<S: Strategy<Value = Vec<u8>>>(
    rt: &tokio::runtime::Runtime,
    sb: &TestSandbox,
    protocol: Protocol,
    target: &str,
    strategy: S,
) {
    // Each target starts from the seed, whatever the one before deleted.
    sb.reset().expect("reset");
    let mut runner = TestRunner::new(Config {
        cases: cases(),
        failure_persistence: None,
        ..Config::default()
    });
    let started = Instant::now();
    let inputs = std::cell::Cell::new(0u64);
    let slowest = std::cell::Cell::new(Duration::ZERO);
    let outcomes = std::cell::RefCell::new(std::collections::BTreeMap::<String, u64>::new());
    let result = runner.run(&strategy, |body| {
        inputs.set(inputs.get() + 1);
        let answered = rt.block_on(check_one(sb, protocol, target, &body))?;
        slowest.set(slowest.get().max(answered.took));
        *outcomes.borrow_mut().entry(answered.outcome).or_default() += 1;
        Ok(())
    });
    if let Err(e) = result {
        panic!("{target}: {e}");
    }
    eprintln!(
        "fuzz {target}: {} inputs in {:.1?}, slowest {:.1?}, no crash; answers {:?}",
        inputs.get(),
        started.elapsed(),
        slowest.get(),
        outcomes.borrow()
    );
}

#[test]
fn request_parsers_survive_arbitrary_and_mutated_bodies() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let sb = rt.block_on(start());
    let corpus = rekognition_corpus(&sb);
    for op in OPERATIONS {
        assert!(
            corpus.iter().any(|(name, _)| name == op),
            "no valid body for {op}"
        );
    }
    for (op, valid) in corpus {
        let target = format!("RekognitionService.{op}");
        fuzz_target(&rt, &sb, Protocol::Json, &target, json_bodies(valid));
    }
    fuzz_target(&rt, &sb, Protocol::Form, "STS", form_bodies(sts_corpus()));
    // Still serving over the network afterwards.
    rt.block_on(assert_still_serving(&sb));
}
