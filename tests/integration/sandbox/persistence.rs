//! `--state` persistence: a restarted sandbox keeps projects, versions, policies, pending copies
//! and sessions.

use std::time::Duration;

use aws_sdk_rekognition::types::{OutputConfig, ProjectVersionStatus};
use reko_promote::sandbox::seed::{self, ML_ACCOUNT, STAGING_ACCOUNT};
use reko_promote::sandbox::{Sandbox, SandboxConfig};

use super::helpers::*;

#[tokio::test]
async fn restart_with_state_file_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.json");
    let config = || SandboxConfig {
        state_file: Some(path.clone()),
        faults: Some(fast_faults()),
        ..SandboxConfig::default()
    };
    let sb = Sandbox::start(config()).await.unwrap();
    let staging_cfg = assume(&sb, STAGING_ACCOUNT).await;
    let staging = aws_sdk_rekognition::Client::new(&staging_cfg);
    let arn = staging
        .create_project()
        .project_name("persisted")
        .send()
        .await
        .unwrap();
    let src = seeded_version_arn(&sb, ML_ACCOUNT, seed::LABEL_READER, seed::LABEL_V1);
    staging
        .copy_project_version()
        .source_project_arn(seed::default_project_arn(ML_ACCOUNT, seed::LABEL_READER))
        .source_project_version_arn(&src)
        .destination_project_arn(seed::default_project_arn(
            STAGING_ACCOUNT,
            seed::LABEL_READER,
        ))
        .version_name("copied")
        .output_config(OutputConfig::builder().s3_bucket("b-b-b").build())
        .send()
        .await
        .unwrap();
    let before = sb.state();
    sb.shutdown().await;

    let sb = Sandbox::start(config()).await.unwrap();
    let after = sb.state();
    assert_eq!(
        serde_json::to_value(&before.rekognition[STAGING_ACCOUNT]).unwrap()["eu-west-1"]["projects"]
            ["persisted"],
        serde_json::to_value(&after.rekognition[STAGING_ACCOUNT]).unwrap()["eu-west-1"]["projects"]
            ["persisted"],
    );
    assert_eq!(before.sessions.len(), after.sessions.len());
    // The old session still works against the new process, and the copy still completes.
    let staging = aws_sdk_rekognition::Client::new(&sdk_config_from(&sb, &staging_cfg).await);
    let out = staging
        .describe_projects()
        .project_names("persisted")
        .send()
        .await
        .unwrap();
    assert_eq!(
        out.project_descriptions()[0].project_arn(),
        arn.project_arn()
    );
    assert!(
        eventually(Duration::from_secs(5), || async {
            staging
                .describe_project_versions()
                .project_arn(seed::default_project_arn(
                    STAGING_ACCOUNT,
                    seed::LABEL_READER,
                ))
                .send()
                .await
                .unwrap()
                .project_version_descriptions()[0]
                .status()
                == Some(&ProjectVersionStatus::CopyingCompleted)
        })
        .await
    );
    sb.shutdown().await;
}

/// The same credentials pointed at a new sandbox's endpoint.
async fn sdk_config_from(
    sb: &reko_promote::sandbox::SandboxHandle,
    old: &aws_config::SdkConfig,
) -> aws_config::SdkConfig {
    use aws_credential_types::provider::ProvideCredentials;
    let c = old
        .credentials_provider()
        .unwrap()
        .provide_credentials()
        .await
        .unwrap();
    sdk_config(
        sb,
        c.access_key_id(),
        c.secret_access_key(),
        c.session_token().map(String::from),
        seed::DEFAULT_REGION,
        1,
    )
    .await
}

#[tokio::test]
async fn a_corrupt_state_file_is_refused_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.json");
    std::fs::write(&path, b"{ not json").unwrap();
    let err = Sandbox::start(SandboxConfig {
        state_file: Some(path.clone()),
        ..SandboxConfig::default()
    })
    .await
    .err()
    .expect("start fails");
    assert!(err.to_string().contains("is not a sandbox state"), "{err}");
}
