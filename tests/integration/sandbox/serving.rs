//! Serving and pruning through the real SDK: StartProjectVersion (inference units, validation,
//! the statuses it starts from, failure by fault), StopProjectVersion, DeleteProjectVersion
//! refused while a version is hosted or busy, CopyProjectVersion's tags on the new version, and
//! the status history (`GET /_sandbox/history`) that proves the order of a blue/green switch.
//!
//! Transitions take a long time here and the tests move the sandbox clock past them, so nothing
//! waits and every timestamp is known.

use std::time::Duration;

use aws_sdk_rekognition::Client;
use aws_sdk_rekognition::types::{OutputConfig, ProjectVersionStatus};
use reko_promote::sandbox::seed::{self, ML_ACCOUNT, STAGING_ACCOUNT};
use reko_promote::sandbox::state::{StatusChange, VersionStatus};
use reko_promote::sandbox::{Faults, SandboxConfig};

use super::helpers::*;

const HOSTING_MS: u64 = 60_000;
const COPY_MS: u64 = 120_000;

fn slow_faults() -> Faults {
    Faults {
        hosting_transition_ms: HOSTING_MS,
        copy_duration_ms: COPY_MS,
        ..fast_faults()
    }
}

async fn start_slow(faults: Faults) -> TestSandbox {
    start_with(SandboxConfig {
        faults: Some(faults),
        ..SandboxConfig::default()
    })
    .await
}

/// Moves the sandbox clock past one hosting transition.
fn pass_hosting(sb: &TestSandbox) {
    sb.advance_clock(Duration::from_millis(HOSTING_MS));
}

/// The Status an operation answered, or its error code.
fn status_or_code<O, E: aws_sdk_rekognition::error::ProvideErrorMetadata>(
    result: Result<O, E>,
    status: fn(&O) -> Option<&ProjectVersionStatus>,
) -> Result<String, String> {
    result
        .map(|o| status(&o).expect("a Status").as_str().to_string())
        .map_err(|e| code(&e))
}

async fn start_units(c: &Client, arn: &str, min: i32, max: Option<i32>) -> Result<String, String> {
    let result = c
        .start_project_version()
        .project_version_arn(arn)
        .min_inference_units(min)
        .set_max_inference_units(max)
        .send()
        .await;
    status_or_code(result, |o| o.status())
}

async fn stop(c: &Client, arn: &str) -> Result<String, String> {
    let result = c
        .stop_project_version()
        .project_version_arn(arn)
        .send()
        .await;
    status_or_code(result, |o| o.status())
}

async fn delete(c: &Client, arn: &str) -> Result<String, String> {
    let result = c
        .delete_project_version()
        .project_version_arn(arn)
        .send()
        .await;
    status_or_code(result, |o| o.status())
}

/// The statuses `arn` went through, in history order.
fn statuses_of(history: &[StatusChange], arn: &str) -> Vec<VersionStatus> {
    history
        .iter()
        .filter(|c| c.arn == arn)
        .map(|c| c.status)
        .collect()
}

#[tokio::test]
async fn a_started_version_runs_with_its_inference_units() {
    let sb = start_slow(slow_faults()).await;
    let ml = rek(&sb, "ml").await;
    let v1 = seeded_version_arn(&sb, ML_ACCOUNT, seed::DEFECT_DETECTOR, seed::DEFECT_V1);

    // Refused before anything changes: units out of range, a model not hosted.
    assert_eq!(
        start_units(&ml, &v1, 0, None).await.unwrap_err(),
        "ValidationException"
    );
    assert_eq!(
        start_units(&ml, &v1, 3, Some(2)).await.unwrap_err(),
        "InvalidParameterException"
    );
    assert_eq!(stop(&ml, &v1).await.unwrap_err(), "ResourceInUseException");
    let failed = seeded_version_arn(
        &sb,
        ML_ACCOUNT,
        seed::DEFECT_DETECTOR,
        seed::DEFECT_V3_FAILED,
    );
    assert_eq!(
        start_units(&ml, &failed, 1, None).await.unwrap_err(),
        "ResourceInUseException",
        "a version whose training failed has no model to host"
    );

    assert_eq!(start_units(&ml, &v1, 2, Some(4)).await.unwrap(), "STARTING");
    let starting = describe_version(&ml, ML_ACCOUNT, seed::DEFECT_DETECTOR, seed::DEFECT_V1).await;
    assert_eq!(starting.status(), Some(&ProjectVersionStatus::Starting));
    assert_eq!(
        start_units(&ml, &v1, 1, None).await.unwrap_err(),
        "ResourceInUseException"
    );
    pass_hosting(&sb);
    let running = describe_version(&ml, ML_ACCOUNT, seed::DEFECT_DETECTOR, seed::DEFECT_V1).await;
    assert_eq!(running.status(), Some(&ProjectVersionStatus::Running));
    assert_eq!(running.min_inference_units(), Some(2));
    assert_eq!(running.max_inference_units(), Some(4));
    assert_eq!(
        start_units(&ml, &v1, 1, None).await.unwrap_err(),
        "ResourceInUseException"
    );

    assert_eq!(stop(&ml, &v1).await.unwrap(), "STOPPING");
    assert_eq!(stop(&ml, &v1).await.unwrap_err(), "ResourceInUseException");
    pass_hosting(&sb);
    let stopped = describe_version(&ml, ML_ACCOUNT, seed::DEFECT_DETECTOR, seed::DEFECT_V1).await;
    assert_eq!(stopped.status(), Some(&ProjectVersionStatus::Stopped));
    // Without MaxInferenceUnits the model does not auto-scale: the maximum is the minimum.
    assert_eq!(start_units(&ml, &v1, 3, None).await.unwrap(), "STARTING");
    pass_hosting(&sb);
    let again = describe_version(&ml, ML_ACCOUNT, seed::DEFECT_DETECTOR, seed::DEFECT_V1).await;
    assert_eq!(again.status(), Some(&ProjectVersionStatus::Running));
    assert_eq!(again.min_inference_units(), Some(3));
    assert_eq!(again.max_inference_units(), Some(3));
}

#[tokio::test]
async fn a_start_failure_ends_failed_with_the_configured_message() {
    let sb = start_slow(Faults {
        start_fail_versions: vec!["defect-detector\\.2026-11-15.*".into()],
        start_failure_message: "Insufficient inference capacity (test).".into(),
        ..slow_faults()
    })
    .await;
    let ml = rek(&sb, "ml").await;
    let v2 = seeded_version_arn(&sb, ML_ACCOUNT, seed::DEFECT_DETECTOR, seed::DEFECT_V2);
    assert_eq!(start_units(&ml, &v2, 1, None).await.unwrap(), "STARTING");
    let starting = describe_version(&ml, ML_ACCOUNT, seed::DEFECT_DETECTOR, seed::DEFECT_V2).await;
    assert_eq!(starting.status(), Some(&ProjectVersionStatus::Starting));
    pass_hosting(&sb);
    let failed = describe_version(&ml, ML_ACCOUNT, seed::DEFECT_DETECTOR, seed::DEFECT_V2).await;
    assert_eq!(failed.status(), Some(&ProjectVersionStatus::Failed));
    assert_eq!(
        failed.status_message(),
        Some("Insufficient inference capacity (test).")
    );
    // Another version is not affected by the fault.
    let v1 = seeded_version_arn(&sb, ML_ACCOUNT, seed::DEFECT_DETECTOR, seed::DEFECT_V1);
    start_units(&ml, &v1, 1, None).await.unwrap();
    pass_hosting(&sb);
    let running = describe_version(&ml, ML_ACCOUNT, seed::DEFECT_DETECTOR, seed::DEFECT_V1).await;
    assert_eq!(running.status(), Some(&ProjectVersionStatus::Running));

    // A failed start can be retried; without the fault it runs.
    sb.set_faults(slow_faults()).unwrap();
    assert_eq!(start_units(&ml, &v2, 1, None).await.unwrap(), "STARTING");
    pass_hosting(&sb);
    let running = describe_version(&ml, ML_ACCOUNT, seed::DEFECT_DETECTOR, seed::DEFECT_V2).await;
    assert_eq!(running.status(), Some(&ProjectVersionStatus::Running));
    assert_eq!(
        statuses_of(&sb.history(), &v2),
        [
            VersionStatus::Starting,
            VersionStatus::Failed,
            VersionStatus::Starting,
            VersionStatus::Running
        ]
    );
}

#[tokio::test]
async fn the_history_orders_a_blue_green_switch_by_when_each_change_happened() {
    let sb = start_slow(slow_faults()).await;
    let ml = rek(&sb, "ml").await;
    // Blue and green in different projects: reading one project settles only that one, so the
    // green model's RUNNING is observed after the blue one's STOPPING was recorded.
    let blue = seeded_version_arn(&sb, ML_ACCOUNT, seed::DEFECT_DETECTOR, seed::DEFECT_V1);
    let green = seeded_version_arn(&sb, ML_ACCOUNT, seed::LABEL_READER, seed::LABEL_V1);
    assert!(sb.history().is_empty(), "seeded versions have no history");

    let t0 = sb.clock_millis();
    start_units(&ml, &blue, 1, None).await.unwrap();
    pass_hosting(&sb);
    start_units(&ml, &green, 1, None).await.unwrap();
    sb.advance_clock(Duration::from_millis(2 * HOSTING_MS));
    stop(&ml, &blue).await.unwrap();
    pass_hosting(&sb);
    assert_eq!(delete(&ml, &blue).await.unwrap(), "DELETING");
    let t_end = sb.clock_millis();

    let history = sb.history();
    let green_running = change(&history, &green, VersionStatus::Running);
    let blue_stopping = change(&history, &blue, VersionStatus::Stopping);
    assert!(green_running.at_ms <= blue_stopping.at_ms);
    assert!(
        green_running.seq > blue_stopping.seq,
        "green's RUNNING was recorded later, when it was observed"
    );
    // Due changes carry their due time.
    let green_starting = change(&history, &green, VersionStatus::Starting);
    assert_eq!(green_running.at_ms, green_starting.at_ms + HOSTING_MS);
    let blue_starting = change(&history, &blue, VersionStatus::Starting);
    assert!(blue_starting.at_ms >= t0);
    assert_eq!(
        change(&history, &blue, VersionStatus::Running).at_ms,
        blue_starting.at_ms + HOSTING_MS
    );
    assert_eq!(
        statuses_of(&history, &blue),
        [
            VersionStatus::Starting,
            VersionStatus::Running,
            VersionStatus::Stopping,
            VersionStatus::Stopped,
            VersionStatus::Deleting
        ]
    );
    assert!(
        history
            .windows(2)
            .all(|w| (w[0].at_ms, w[0].seq) < (w[1].at_ms, w[1].seq))
    );
    assert!(history.iter().all(|c| c.at_ms <= t_end));
    let mut seqs: Vec<u64> = history.iter().map(|c| c.seq).collect();
    seqs.sort_unstable();
    assert_eq!(seqs, (0..history.len() as u64).collect::<Vec<_>>());

    // The admin route answers the same rows in its JSON form; reset clears them.
    let admin = raw_http(&sb, "GET", "/_sandbox/history", &[], b"").await;
    assert_eq!(admin.status, 200, "{}", admin.body);
    let rows = admin.json();
    assert_eq!(rows.as_array().unwrap().len(), history.len());
    assert_eq!(rows[0]["arn"], history[0].arn.as_str());
    assert_eq!(rows[0]["status"], "STARTING");
    assert_eq!(rows[0]["atMs"], history[0].at_ms);
    assert_eq!(rows[0]["seq"], history[0].seq);
    let typed: Vec<StatusChange> = serde_json::from_value(rows).unwrap();
    assert_eq!(typed, history);
    let reset = raw_http(
        &sb,
        "POST",
        "/_sandbox/reset",
        &[("content-type".into(), "application/json".into())],
        b"{}",
    )
    .await;
    assert_eq!(reset.status, 200, "{}", reset.body);
    assert!(sb.history().is_empty());
}

#[tokio::test]
async fn delete_is_refused_while_hosted_or_busy_and_allowed_once_stopped() {
    let sb = start_slow(slow_faults()).await;
    let ml = rek(&sb, "ml").await;
    let v1 = seeded_version_arn(&sb, ML_ACCOUNT, seed::DEFECT_DETECTOR, seed::DEFECT_V1);
    start_units(&ml, &v1, 1, None).await.unwrap();
    assert_eq!(
        delete(&ml, &v1).await.unwrap_err(),
        "ResourceInUseException"
    );
    pass_hosting(&sb);
    let refused = ml
        .delete_project_version()
        .project_version_arn(&v1)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&refused), "ResourceInUseException");
    let message = aws_sdk_rekognition::error::ProvideErrorMetadata::message(&refused).unwrap();
    assert!(
        message.contains(&v1) && message.contains("RUNNING"),
        "{message}"
    );
    stop(&ml, &v1).await.unwrap();
    assert_eq!(
        delete(&ml, &v1).await.unwrap_err(),
        "ResourceInUseException"
    );
    pass_hosting(&sb);
    assert_eq!(delete(&ml, &v1).await.unwrap(), "DELETING");
    let left = ml
        .describe_project_versions()
        .project_arn(seed::default_project_arn(ML_ACCOUNT, seed::DEFECT_DETECTOR))
        .send()
        .await
        .unwrap();
    assert!(
        left.project_version_descriptions()
            .iter()
            .all(|v| v.project_version_arn() != Some(v1.as_str()))
    );
    assert_eq!(
        delete(&ml, &v1).await.unwrap_err(),
        "ResourceNotFoundException"
    );

    // A copy in progress cannot be deleted either; once complete it can.
    let src = seeded_version_arn(&sb, ML_ACCOUNT, seed::LABEL_READER, seed::LABEL_V1);
    let copy = ml
        .copy_project_version()
        .source_project_arn(seed::default_project_arn(ML_ACCOUNT, seed::LABEL_READER))
        .source_project_version_arn(&src)
        .destination_project_arn(seed::default_project_arn(ML_ACCOUNT, seed::LABEL_READER))
        .version_name("label-reader.copy")
        .output_config(OutputConfig::builder().s3_bucket("ml-models").build())
        .send()
        .await
        .unwrap()
        .project_version_arn()
        .unwrap()
        .to_string();
    assert_eq!(
        delete(&ml, &copy).await.unwrap_err(),
        "ResourceInUseException"
    );
    sb.advance_clock(Duration::from_millis(COPY_MS));
    assert_eq!(delete(&ml, &copy).await.unwrap(), "DELETING");
    assert_eq!(
        statuses_of(&sb.history(), &copy),
        [
            VersionStatus::CopyingInProgress,
            VersionStatus::CopyingCompleted,
            VersionStatus::Deleting
        ]
    );
}

#[tokio::test]
async fn copy_tags_are_on_the_new_version() {
    let sb = start_slow(slow_faults()).await;
    let staging = rek_as_role(&sb, STAGING_ACCOUNT).await;
    let src = seeded_version_arn(&sb, ML_ACCOUNT, seed::LABEL_READER, seed::LABEL_V1);
    let copied_at = sb.clock_millis();
    let arn = staging
        .copy_project_version()
        .source_project_arn(seed::default_project_arn(ML_ACCOUNT, seed::LABEL_READER))
        .source_project_version_arn(&src)
        .destination_project_arn(seed::default_project_arn(
            STAGING_ACCOUNT,
            seed::LABEL_READER,
        ))
        .version_name("label-reader.v1")
        .output_config(OutputConfig::builder().s3_bucket("staging-models").build())
        .tags("reko-promote", "promotion")
        .tags("team", "vision")
        .send()
        .await
        .unwrap()
        .project_version_arn()
        .unwrap()
        .to_string();
    let tags = staging
        .list_tags_for_resource()
        .resource_arn(&arn)
        .send()
        .await
        .unwrap();
    let tags = tags.tags().unwrap();
    assert_eq!(tags.len(), 2, "{tags:?}");
    assert_eq!(
        tags.get("reko-promote").map(String::as_str),
        Some("promotion")
    );
    assert_eq!(tags.get("team").map(String::as_str), Some("vision"));
    // The source keeps its own tags (none).
    let source_tags = rek(&sb, "ml")
        .await
        .list_tags_for_resource()
        .resource_arn(&src)
        .send()
        .await
        .unwrap();
    assert!(source_tags.tags().is_none_or(|t| t.is_empty()));

    // The copy is recorded when made and when it completes, at its due time.
    sb.advance_clock(Duration::from_millis(COPY_MS));
    let history = sb.history();
    let began = change(&history, &arn, VersionStatus::CopyingInProgress);
    assert!(began.at_ms >= copied_at);
    assert_eq!(
        change(&history, &arn, VersionStatus::CopyingCompleted).at_ms,
        began.at_ms + COPY_MS
    );
}
