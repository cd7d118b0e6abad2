//! Injected faults: throttling (and the SDK's standard retry getting through it), server errors,
//! latency, and changing faults at run time.

use std::time::{Duration, Instant};

use aws_config::retry::RetryConfig;
use aws_config::{BehaviorVersion, Region};
use aws_credential_types::Credentials;
use reko_promote::sandbox::{Faults, Latency, SandboxConfig};

use super::helpers::*;

#[tokio::test]
async fn throttling_is_retried_by_the_sdk_standard_retry() {
    let mut faults = fast_faults();
    faults.tps.insert("DescribeProjects".into(), 5.0);
    let sb = start_with(SandboxConfig {
        faults: Some(faults),
        ..SandboxConfig::default()
    })
    .await;
    // Without retries the sixth call in a burst is throttled.
    let once = rek(&sb, "ml").await;
    let mut throttled = None;
    for _ in 0..8 {
        if let Err(e) = once.describe_projects().send().await {
            throttled = Some(e);
            break;
        }
    }
    let e = throttled.expect("a throttled call");
    assert_eq!(code(&e), "ThrottlingException");
    assert_eq!(e.raw_response().map(|r| r.status().as_u16()), Some(400));

    // With standard retry every call gets through eventually.
    let (k, s) = sb.credentials("ml").unwrap();
    let cfg = aws_config::defaults(BehaviorVersion::latest())
        .endpoint_url(sb.endpoint())
        .region(Region::new("eu-west-1"))
        .credentials_provider(Credentials::new(k, s, None, None, "test"))
        .retry_config(
            RetryConfig::standard()
                .with_max_attempts(10)
                .with_initial_backoff(Duration::from_millis(200)),
        )
        .load()
        .await;
    let retrying = aws_sdk_rekognition::Client::new(&cfg);
    sb.reset_call_counts();
    for _ in 0..12 {
        retrying
            .describe_projects()
            .send()
            .await
            .expect("retried until admitted");
    }
    assert!(
        sb.calls_of("DescribeProjects") > 12,
        "{:?}",
        sb.call_counts()
    );
    // Other operations and accounts are not throttled by DescribeProjects' bucket.
    let st = rek(&sb, "staging").await;
    for _ in 0..5 {
        st.describe_projects().send().await.unwrap();
    }
}

#[tokio::test]
async fn internal_server_errors_are_injected_and_can_be_turned_off() {
    let sb = start().await;
    let mut f = fast_faults();
    f.internal_error_rate.insert("*".into(), 1.0);
    sb.set_faults(f).unwrap();
    let ml = rek(&sb, "ml").await;
    let e = ml.describe_projects().send().await.unwrap_err();
    assert_eq!(code(&e), "InternalServerError");
    assert_eq!(e.raw_response().map(|r| r.status().as_u16()), Some(500));
    let e = sts(&sb, "ci")
        .await
        .get_caller_identity()
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        aws_sdk_sts::error::ProvideErrorMetadata::code(&e),
        Some("InternalFailure")
    );
    sb.set_faults(fast_faults()).unwrap();
    ml.describe_projects().send().await.unwrap();
}

#[tokio::test]
async fn latency_is_added_per_operation() {
    let sb = start().await;
    let mut f: Faults = fast_faults();
    f.latency.insert(
        "DescribeProjects".into(),
        Latency {
            ms: 300,
            jitter_ms: 50,
        },
    );
    sb.set_faults(f).unwrap();
    let ml = rek(&sb, "ml").await;
    let t = Instant::now();
    ml.describe_projects().send().await.unwrap();
    assert!(
        t.elapsed() >= Duration::from_millis(300),
        "{:?}",
        t.elapsed()
    );
    let t = Instant::now();
    ml.list_tags_for_resource()
        .resource_arn(reko_promote::sandbox::seed::default_project_arn(
            "111111111111",
            "label-reader",
        ))
        .send()
        .await
        .unwrap();
    assert!(
        t.elapsed() < Duration::from_millis(300),
        "{:?}",
        t.elapsed()
    );
}
