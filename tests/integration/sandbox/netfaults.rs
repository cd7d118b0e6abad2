//! Faults that real networks have, after the operation took effect: a lost response (the
//! connection closes with no answer, the SDK retries a call that already happened) and a slow
//! response (the SDK's timeout fires first). Driven through the real SDK; the sandbox must answer
//! each retry as AWS would, count every call that took effect, and keep the state it made.

use std::time::Duration;

use aws_config::timeout::TimeoutConfig;
use aws_sdk_rekognition::Client;
use aws_sdk_rekognition::error::SdkError;
use aws_sdk_rekognition::types::OutputConfig;
use reko_promote::sandbox::seed::{
    self, DEFAULT_REGION, LABEL_READER, LABEL_V1, ML_ACCOUNT, STAGING_ACCOUNT,
};
use reko_promote::sandbox::{Faults, Latency, SandboxArgs, SandboxConfig, Seed};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::helpers::*;

async fn start_faulty(faults: Faults) -> TestSandbox {
    start_with(SandboxConfig {
        faults: Some(faults),
        ..SandboxConfig::default()
    })
    .await
}

/// A client as `account`'s reko-promote role whose SDK retries (standard mode, 3 attempts).
async fn role_client_with_retries(sb: &TestSandbox, account: &str) -> Client {
    let session = assume(sb, account).await;
    let credentials = aws_credential_types::provider::ProvideCredentials::provide_credentials(
        session
            .credentials_provider()
            .expect("credentials")
            .as_ref(),
    )
    .await
    .expect("session credentials");
    let config = sdk_config(
        sb,
        credentials.access_key_id(),
        credentials.secret_access_key(),
        credentials.session_token().map(str::to_string),
        DEFAULT_REGION,
        3,
    )
    .await;
    Client::new(&config)
}

#[tokio::test]
async fn a_lost_copy_response_is_retried_and_the_retry_answered_as_aws_would() {
    let mut faults = fast_faults();
    faults
        .lost_response_next
        .insert("CopyProjectVersion".into(), 1);
    let sb = start_faulty(faults).await;
    let staging = role_client_with_retries(&sb, STAGING_ACCOUNT).await;
    let source = seeded_version_arn(&sb, ML_ACCOUNT, LABEL_READER, LABEL_V1);
    sb.reset_call_counts();
    let e = staging
        .copy_project_version()
        .source_project_arn(seed::default_project_arn(ML_ACCOUNT, LABEL_READER))
        .source_project_version_arn(&source)
        .destination_project_arn(seed::default_project_arn(STAGING_ACCOUNT, LABEL_READER))
        .version_name("promoted")
        .output_config(OutputConfig::builder().s3_bucket("staging-models").build())
        .send()
        .await
        .expect_err("the first answer was lost; the retry finds the name taken");
    // The first attempt copied and got no answer; the SDK's retry is refused as AWS refuses a
    // second copy to the same name.
    assert_eq!(code(&e), "ResourceInUseException", "{e:?}");
    assert_eq!(sb.calls_of("CopyProjectVersion"), 2);
    assert_eq!(
        sb.lost_responses(),
        [(
            (
                STAGING_ACCOUNT.to_string(),
                "CopyProjectVersion".to_string()
            ),
            1
        )]
        .into()
    );
    let state = sb.state();
    let project = &state.rekognition[STAGING_ACCOUNT][DEFAULT_REGION].projects[LABEL_READER];
    let copies: Vec<_> = project
        .versions
        .values()
        .filter(|v| v.source_version_arn.as_deref() == Some(source.as_str()))
        .collect();
    assert_eq!(copies.len(), 1, "exactly one copy was made");
    assert!(project.versions.contains_key("promoted"));
    assert!(sb.faults().lost_response_next.is_empty());
}

#[tokio::test]
async fn a_lost_put_project_policy_response_is_retried_and_refused_as_existing() {
    let mut faults = fast_faults();
    faults
        .lost_response_next
        .insert("PutProjectPolicy".into(), 1);
    let sb = start_faulty(faults).await;
    let (k, s) = sb.credentials("ml").unwrap();
    let ml = Client::new(&sdk_config(&sb, &k, &s, None, DEFAULT_REGION, 3).await);
    let project = seed::default_project_arn(ML_ACCOUNT, LABEL_READER);
    let document = serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"AWS": format!("arn:aws:iam::{STAGING_ACCOUNT}:root")},
            "Action": "rekognition:CopyProjectVersion",
            "Resource": "*",
        }]
    })
    .to_string();
    let e = ml
        .put_project_policy()
        .project_arn(&project)
        .policy_name("lost-answer")
        .policy_document(&document)
        .send()
        .await
        .expect_err("the retry of a put that happened");
    assert_eq!(code(&e), "ResourceAlreadyExistsException", "{e:?}");
    assert_eq!(sb.calls_of("PutProjectPolicy"), 2);
    assert_eq!(sb.lost_responses().values().sum::<u64>(), 1);
    let policies = ml
        .list_project_policies()
        .project_arn(&project)
        .send()
        .await
        .unwrap();
    let put: Vec<_> = policies
        .project_policies()
        .iter()
        .filter(|p| p.policy_name() == Some("lost-answer"))
        .collect();
    assert_eq!(put.len(), 1);
    assert_eq!(put[0].policy_document(), Some(document.as_str()));
}

#[tokio::test]
async fn a_slow_response_hits_the_sdk_operation_timeout_after_the_effect() {
    let mut faults = fast_faults();
    faults.slow_response.insert(
        "CreateProject".into(),
        Latency {
            ms: 5_000,
            jitter_ms: 0,
        },
    );
    let sb = start_faulty(faults).await;
    let (k, s) = sb.credentials("ml").unwrap();
    let config = sdk_config(&sb, &k, &s, None, DEFAULT_REGION, 1)
        .await
        .into_builder()
        .timeout_config(
            TimeoutConfig::builder()
                .operation_timeout(Duration::from_millis(400))
                .build(),
        )
        .build();
    let ml = Client::new(&config);
    let e = ml
        .create_project()
        .project_name("made-but-unanswered")
        .send()
        .await
        .expect_err("the answer comes after the timeout");
    assert!(matches!(e, SdkError::TimeoutError(_)), "{e:?}");
    // The effect happened before the delay: the project exists and the call counted.
    assert!(
        sb.state().rekognition[ML_ACCOUNT][DEFAULT_REGION]
            .projects
            .contains_key("made-but-unanswered")
    );
    assert_eq!(sb.calls_of("CreateProject"), 1);
    assert!(sb.lost_responses().is_empty());
    // Other operations are not slowed.
    ml.describe_projects().send().await.unwrap();
}

/// The admin endpoint switches a lost response on; a raw request then gets the connection
/// closed with no byte of an answer, and still counts as a call.
#[tokio::test]
async fn lost_responses_set_at_run_time_close_the_connection_without_an_answer() {
    let sb = start().await;
    let r = raw_http(
        &sb,
        "PUT",
        "/_sandbox/faults",
        &[("content-type".into(), "application/json".into())],
        br#"{"lost_response": {"DescribeProjects": 1.0}}"#,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(sb.faults().lost_response["DescribeProjects"], 1.0);
    let body = b"{}";
    let headers = rekognition_headers(&sb, "ml", "RekognitionService.DescribeProjects", body);
    let mut stream = tokio::net::TcpStream::connect(sb.addr()).await.unwrap();
    let mut request = format!("POST / HTTP/1.1\r\ncontent-length: {}\r\n", body.len());
    for (k, v) in &headers {
        request.push_str(&format!("{k}: {v}\r\n"));
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    stream.write_all(body).await.unwrap();
    let mut answer = Vec::new();
    // The connection ends (EOF, or a reset) with nothing read.
    let _ = tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut answer))
        .await
        .expect("the connection is closed, not left hanging");
    assert!(answer.is_empty(), "{}", String::from_utf8_lossy(&answer));
    assert_eq!(sb.calls_of("DescribeProjects"), 1);
    let calls = raw_http(&sb, "GET", "/_sandbox/calls", &[], b"")
        .await
        .json();
    assert_eq!(calls[0]["operation"], "DescribeProjects");
    assert_eq!(
        (calls[0]["count"].as_u64(), calls[0]["lost"].as_u64()),
        (Some(1), Some(1))
    );
    // Other operations answer.
    rek(&sb, "ml")
        .await
        .list_project_policies()
        .project_arn(seed::default_project_arn(ML_ACCOUNT, LABEL_READER))
        .send()
        .await
        .unwrap();
}

#[test]
fn lost_and_slow_responses_are_set_by_seed_and_flags() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("seed.yaml");
    std::fs::write(
        &path,
        "faults:\n  lost_response: {CopyProjectVersion: 0.2}\n  slow_response: {'*': {ms: 5}}\n",
    )
    .unwrap();
    let seed = Seed::from_file(&path).unwrap();
    assert_eq!(seed.faults.lost_response["CopyProjectVersion"], 0.2);
    assert_eq!(seed.faults.slow_response["*"].ms, 5);
    let args = SandboxArgs {
        seed: Some(path.clone()),
        lost_response_rate: Some(0.1),
        slow_response_ms: Some(30_000),
        ..SandboxArgs::default()
    };
    let faults = args.to_config().unwrap().faults.unwrap();
    assert_eq!(faults.lost_response["CopyProjectVersion"], 0.2);
    assert_eq!(faults.lost_response["*"], 0.1);
    assert_eq!(faults.slow_response["*"].ms, 30_000);
    std::fs::write(&path, "faults:\n  lost_response: {'*': 1.5}\n").unwrap();
    let err = SandboxArgs {
        seed: Some(path),
        ..SandboxArgs::default()
    }
    .to_config()
    .map(|_| ())
    .unwrap_err();
    assert!(
        err.to_string()
            .contains("lost_response.*: 1.5 is not between 0 and 1"),
        "{err}"
    );
}
