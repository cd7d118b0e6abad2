//! CopyProjectVersion: same-account and cross-account copies, project-policy evaluation, regions,
//! name conflicts, completion after the copy delay and failure by fault.

use std::time::Duration;

use aws_sdk_rekognition::Client;
use aws_sdk_rekognition::types::{OutputConfig, ProjectVersionStatus};
use reko_promote::sandbox::SandboxConfig;
use reko_promote::sandbox::seed::{self, ML_ACCOUNT, STAGING_ACCOUNT};

use super::helpers::*;

fn output() -> OutputConfig {
    OutputConfig::builder()
        .s3_bucket("staging-models")
        .s3_key_prefix("copies/")
        .build()
}

async fn copy(
    c: &Client,
    src_account: &str,
    src_project: &str,
    src_version_arn: &str,
    dst_account: &str,
    name: &str,
) -> Result<String, String> {
    c.copy_project_version()
        .source_project_arn(seed::default_project_arn(src_account, src_project))
        .source_project_version_arn(src_version_arn)
        .destination_project_arn(seed::default_project_arn(dst_account, src_project))
        .version_name(name)
        .output_config(output())
        .tags("promoted-by", "test")
        .kms_key_id("alias/models")
        .send()
        .await
        .map(|o| o.project_version_arn().unwrap().to_string())
        .map_err(|e| code(&e))
}

async fn put_policy(sb: &TestSandbox, project: &str, name: &str, doc: serde_json::Value) {
    rek(sb, "ml")
        .await
        .put_project_policy()
        .project_arn(seed::default_project_arn(ML_ACCOUNT, project))
        .policy_name(name)
        .policy_document(doc.to_string())
        .send()
        .await
        .unwrap();
}

fn statement(effect: &str, principal: &str, resource: &str) -> serde_json::Value {
    serde_json::json!({
        "Effect": effect,
        "Principal": {"AWS": principal},
        "Action": "rekognition:CopyProjectVersion",
        "Resource": resource,
    })
}

#[tokio::test]
async fn cross_account_copy_allowed_by_policy_completes_after_the_delay() {
    let sb = start().await;
    let staging = rek_as_role(&sb, STAGING_ACCOUNT).await;
    let src = seeded_version_arn(&sb, ML_ACCOUNT, seed::LABEL_READER, seed::LABEL_V1);
    let arn = copy(
        &staging,
        ML_ACCOUNT,
        seed::LABEL_READER,
        &src,
        STAGING_ACCOUNT,
        "label-reader.v1",
    )
    .await
    .unwrap();
    assert!(arn.starts_with(
        "arn:aws:rekognition:eu-west-1:222222222222:project/label-reader/version/label-reader.v1/"
    ));
    let v = describe_version(
        &staging,
        STAGING_ACCOUNT,
        seed::LABEL_READER,
        "label-reader.v1",
    )
    .await;
    assert_eq!(v.status(), Some(&ProjectVersionStatus::CopyingInProgress));
    assert_eq!(v.source_project_version_arn(), Some(src.as_str()));
    assert_eq!(v.kms_key_id(), Some("alias/models"));
    assert_eq!(
        v.output_config().unwrap().s3_bucket(),
        Some("staging-models")
    );
    assert_eq!(v.evaluation_result().unwrap().f1_score(), Some(0.88));
    let tags = staging
        .list_tags_for_resource()
        .resource_arn(&arn)
        .send()
        .await
        .unwrap();
    assert_eq!(
        tags.tags().unwrap().get("promoted-by").map(String::as_str),
        Some("test")
    );
    assert!(
        eventually(Duration::from_secs(5), || async {
            describe_version(
                &staging,
                STAGING_ACCOUNT,
                seed::LABEL_READER,
                "label-reader.v1",
            )
            .await
            .status()
                == Some(&ProjectVersionStatus::CopyingCompleted)
        })
        .await
    );
    // The name is now taken.
    let e = copy(
        &staging,
        ML_ACCOUNT,
        seed::LABEL_READER,
        &src,
        STAGING_ACCOUNT,
        "label-reader.v1",
    )
    .await;
    assert_eq!(e.unwrap_err(), "ResourceInUseException");
}

#[tokio::test]
async fn cross_account_copy_without_policy_is_denied() {
    let sb = start().await;
    let staging = rek_as_role(&sb, STAGING_ACCOUNT).await;
    let src = seeded_version_arn(&sb, ML_ACCOUNT, seed::DEFECT_DETECTOR, seed::DEFECT_V2);
    let e = copy(
        &staging,
        ML_ACCOUNT,
        seed::DEFECT_DETECTOR,
        &src,
        STAGING_ACCOUNT,
        "v2",
    )
    .await;
    assert_eq!(e.unwrap_err(), "AccessDeniedException");
    // Prod is not named by label-reader's policy either.
    let prod = rek_as_role(&sb, seed::PROD_ACCOUNT).await;
    let src = seeded_version_arn(&sb, ML_ACCOUNT, seed::LABEL_READER, seed::LABEL_V1);
    let e = copy(
        &prod,
        ML_ACCOUNT,
        seed::LABEL_READER,
        &src,
        seed::PROD_ACCOUNT,
        "v1",
    )
    .await;
    assert_eq!(e.unwrap_err(), "AccessDeniedException");
}

#[tokio::test]
async fn wildcard_resource_allows_and_explicit_deny_wins() {
    let sb = start().await;
    let staging = rek_as_role(&sb, STAGING_ACCOUNT).await;
    let v1 = seeded_version_arn(&sb, ML_ACCOUNT, seed::DEFECT_DETECTOR, seed::DEFECT_V1);
    let v2 = seeded_version_arn(&sb, ML_ACCOUNT, seed::DEFECT_DETECTOR, seed::DEFECT_V2);
    put_policy(
        &sb,
        seed::DEFECT_DETECTOR,
        "allow-all-versions",
        serde_json::json!({"Version": "2012-10-17", "Statement": [statement(
            "Allow",
            STAGING_ACCOUNT,
            "arn:aws:rekognition:eu-west-1:111111111111:project/defect-detector/version/*",
        )]}),
    )
    .await;
    put_policy(
        &sb,
        seed::DEFECT_DETECTOR,
        "deny-v1",
        serde_json::json!({"Version": "2012-10-17", "Statement": statement(
            "Deny",
            &seed::role_arn(STAGING_ACCOUNT),
            "arn:aws:rekognition:eu-west-1:111111111111:project/defect-detector/version/defect-detector.2026-11-01T10.00.00/*",
        )}),
    )
    .await;
    assert!(
        copy(
            &staging,
            ML_ACCOUNT,
            seed::DEFECT_DETECTOR,
            &v2,
            STAGING_ACCOUNT,
            "v2"
        )
        .await
        .is_ok()
    );
    let e = copy(
        &staging,
        ML_ACCOUNT,
        seed::DEFECT_DETECTOR,
        &v1,
        STAGING_ACCOUNT,
        "v1",
    )
    .await;
    assert_eq!(e.unwrap_err(), "AccessDeniedException");
}

#[tokio::test]
async fn same_account_copy_needs_no_policy_and_failed_sources_are_refused() {
    let sb = start().await;
    let ml = rek(&sb, "ml").await;
    let v2 = seeded_version_arn(&sb, ML_ACCOUNT, seed::DEFECT_DETECTOR, seed::DEFECT_V2);
    assert!(
        copy(
            &ml,
            ML_ACCOUNT,
            seed::DEFECT_DETECTOR,
            &v2,
            ML_ACCOUNT,
            "defect-detector.copy"
        )
        .await
        .is_ok()
    );
    let failed = seeded_version_arn(
        &sb,
        ML_ACCOUNT,
        seed::DEFECT_DETECTOR,
        seed::DEFECT_V3_FAILED,
    );
    let e = copy(
        &ml,
        ML_ACCOUNT,
        seed::DEFECT_DETECTOR,
        &failed,
        ML_ACCOUNT,
        "from-failed",
    )
    .await;
    assert_eq!(e.unwrap_err(), "InvalidParameterException");
    // A KMS key of another region.
    let e = ml
        .copy_project_version()
        .source_project_arn(seed::default_project_arn(ML_ACCOUNT, seed::DEFECT_DETECTOR))
        .source_project_version_arn(&v2)
        .destination_project_arn(seed::default_project_arn(ML_ACCOUNT, seed::DEFECT_DETECTOR))
        .version_name("kms-elsewhere")
        .output_config(output())
        .kms_key_id("arn:aws:kms:us-east-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "InvalidParameterException");
    let missing = v2.replace(seed::DEFECT_V2, "no-such-version");
    let e = copy(
        &ml,
        ML_ACCOUNT,
        seed::DEFECT_DETECTOR,
        &missing,
        ML_ACCOUNT,
        "from-missing",
    )
    .await;
    assert_eq!(e.unwrap_err(), "ResourceNotFoundException");
}

#[tokio::test]
async fn cross_region_copy_fails() {
    let sb = start().await;
    let ml = rek(&sb, "ml").await;
    let v2 = seeded_version_arn(&sb, ML_ACCOUNT, seed::DEFECT_DETECTOR, seed::DEFECT_V2);
    let e = ml
        .copy_project_version()
        .source_project_arn(
            seed::default_project_arn(ML_ACCOUNT, seed::DEFECT_DETECTOR)
                .replace("eu-west-1", "us-east-1"),
        )
        .source_project_version_arn(v2.replace("eu-west-1", "us-east-1"))
        .destination_project_arn(seed::default_project_arn(ML_ACCOUNT, seed::DEFECT_DETECTOR))
        .version_name("x")
        .output_config(output())
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "InvalidParameterException");
    // A client in another region cannot name eu-west-1 projects as destination either.
    let (k, s) = sb.credentials("ml").unwrap();
    let us = Client::new(&sdk_config(&sb, &k, &s, None, "us-east-1", 1).await);
    let e = us
        .copy_project_version()
        .source_project_arn(seed::default_project_arn(ML_ACCOUNT, seed::DEFECT_DETECTOR))
        .source_project_version_arn(&v2)
        .destination_project_arn(seed::default_project_arn(ML_ACCOUNT, seed::DEFECT_DETECTOR))
        .version_name("x")
        .output_config(output())
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "InvalidParameterException");
}

#[tokio::test]
async fn copy_fails_by_fault_with_a_status_message() {
    let mut faults = fast_faults();
    faults.copy_fail_versions = vec!["doomed-.*".into()];
    let sb = start_with(SandboxConfig {
        faults: Some(faults),
        ..SandboxConfig::default()
    })
    .await;
    let ml = rek(&sb, "ml").await;
    let v2 = seeded_version_arn(&sb, ML_ACCOUNT, seed::DEFECT_DETECTOR, seed::DEFECT_V2);
    copy(
        &ml,
        ML_ACCOUNT,
        seed::DEFECT_DETECTOR,
        &v2,
        ML_ACCOUNT,
        "doomed-1",
    )
    .await
    .unwrap();
    assert!(
        eventually(Duration::from_secs(5), || async {
            describe_version(&ml, ML_ACCOUNT, seed::DEFECT_DETECTOR, "doomed-1")
                .await
                .status()
                == Some(&ProjectVersionStatus::CopyingFailed)
        })
        .await
    );
    let v = describe_version(&ml, ML_ACCOUNT, seed::DEFECT_DETECTOR, "doomed-1").await;
    assert!(v.status_message().unwrap().contains("copy failed"));
    // A copy of a copy works once it completed; a failed copy cannot be copied.
    let e = copy(
        &ml,
        ML_ACCOUNT,
        seed::DEFECT_DETECTOR,
        v.project_version_arn().unwrap(),
        ML_ACCOUNT,
        "again",
    )
    .await;
    assert_eq!(e.unwrap_err(), "InvalidParameterException");
}

#[tokio::test]
async fn concurrent_copies_to_one_name_admit_exactly_one() {
    let sb = start().await;
    let ml = rek(&sb, "ml").await;
    let v2 = seeded_version_arn(&sb, ML_ACCOUNT, seed::DEFECT_DETECTOR, seed::DEFECT_V2);
    let mut tasks = Vec::new();
    for _ in 0..12 {
        let ml = ml.clone();
        let v2 = v2.clone();
        tasks.push(tokio::spawn(async move {
            copy(
                &ml,
                ML_ACCOUNT,
                seed::DEFECT_DETECTOR,
                &v2,
                ML_ACCOUNT,
                "raced",
            )
            .await
        }));
    }
    let mut ok = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(_) => ok += 1,
            Err(code) => assert_eq!(code, "ResourceInUseException"),
        }
    }
    assert_eq!(ok, 1);
    assert_eq!(sb.calls_of("CopyProjectVersion"), 12);
}
