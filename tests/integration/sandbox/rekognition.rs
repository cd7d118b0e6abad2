//! Happy paths of every Rekognition operation through the real SDK, and the default organisation.

use std::time::Duration;

use aws_sdk_rekognition::types::{OutputConfig, ProjectVersionStatus};
use reko_promote::sandbox::seed::{self, DEFAULT_REGION, ML_ACCOUNT, STAGING_ACCOUNT};

use super::helpers::*;

#[tokio::test]
async fn default_organisation_is_visible_through_the_sdk() {
    let sb = start().await;
    let ml = rek(&sb, "ml").await;
    let projects = ml.describe_projects().send().await.unwrap();
    let names: Vec<_> = projects
        .project_descriptions()
        .iter()
        .map(|p| p.project_arn().unwrap().to_string())
        .collect();
    assert_eq!(names.len(), 2, "{names:?}");
    assert!(names.contains(&seed::default_project_arn(
        ML_ACCOUNT,
        seed::DEFECT_DETECTOR
    )));
    let p = &projects.project_descriptions()[0];
    assert!(p.creation_timestamp().is_some());
    assert_eq!(p.status().unwrap().as_str(), "CREATED");

    let versions = ml
        .describe_project_versions()
        .project_arn(seed::default_project_arn(ML_ACCOUNT, seed::DEFECT_DETECTOR))
        .send()
        .await
        .unwrap();
    let v = versions.project_version_descriptions();
    assert_eq!(v.len(), 3);
    // Newest first.
    assert_eq!(v[0].status(), Some(&ProjectVersionStatus::TrainingFailed));
    assert!(v[0].status_message().is_some());
    assert!(v[0].evaluation_result().is_none());
    assert_eq!(v[1].evaluation_result().unwrap().f1_score(), Some(0.947));
    assert_eq!(v[2].evaluation_result().unwrap().f1_score(), Some(0.912));
    assert!(
        v[1].project_version_arn()
            .unwrap()
            .starts_with("arn:aws:rekognition:eu-west-1:111111111111:project/defect-detector/version/defect-detector.2026-11-15T09.30.00/")
    );

    // Staging's projects exist and are empty.
    let st = rek(&sb, "staging").await;
    let out = st
        .describe_projects()
        .project_names(seed::LABEL_READER)
        .send()
        .await
        .unwrap();
    assert_eq!(out.project_descriptions().len(), 1);
    let arn = seed::default_project_arn(STAGING_ACCOUNT, seed::LABEL_READER);
    let out = st
        .describe_project_versions()
        .project_arn(&arn)
        .send()
        .await
        .unwrap();
    assert!(out.project_version_descriptions().is_empty());
}

#[tokio::test]
async fn project_and_version_lifecycle() {
    let sb = start().await;
    let c = rek(&sb, "staging").await;
    let arn = c
        .create_project()
        .project_name("lifecycle")
        .tags("team", "ml")
        .send()
        .await
        .unwrap()
        .project_arn()
        .unwrap()
        .to_string();
    assert!(arn.starts_with("arn:aws:rekognition:eu-west-1:222222222222:project/lifecycle/"));
    let dup = c
        .create_project()
        .project_name("lifecycle")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&dup), "ResourceInUseException");

    let filtered = c
        .describe_projects()
        .project_names("lifecycle")
        .send()
        .await
        .unwrap();
    assert_eq!(filtered.project_descriptions().len(), 1);

    let varn = c
        .create_project_version()
        .project_arn(&arn)
        .version_name("lifecycle.v1")
        .output_config(
            OutputConfig::builder()
                .s3_bucket("out-bucket")
                .s3_key_prefix("p/")
                .build(),
        )
        .send()
        .await
        .unwrap()
        .project_version_arn()
        .unwrap()
        .to_string();
    assert!(varn.starts_with(&format!(
        "{}/version/lifecycle.v1/",
        arn.rsplit_once('/').unwrap().0
    )));
    let describe = |names: &'static str| {
        let c = c.clone();
        let arn = arn.clone();
        async move {
            c.describe_project_versions()
                .project_arn(arn)
                .version_names(names)
                .send()
                .await
                .unwrap()
                .project_version_descriptions()[0]
                .clone()
        }
    };
    assert_eq!(
        describe("lifecycle.v1").await.status(),
        Some(&ProjectVersionStatus::TrainingInProgress)
    );
    assert!(
        eventually(Duration::from_secs(5), || async {
            describe("lifecycle.v1").await.status()
                == Some(&ProjectVersionStatus::TrainingCompleted)
        })
        .await
    );
    let v = describe("lifecycle.v1").await;
    let eval = v.evaluation_result().unwrap();
    assert!(eval.f1_score().unwrap() > 0.5);
    assert_eq!(
        eval.summary().unwrap().s3_object().unwrap().bucket(),
        Some("out-bucket")
    );
    assert!(v.training_end_timestamp().is_some());

    // Hosting.
    let st = c
        .start_project_version()
        .project_version_arn(&varn)
        .min_inference_units(1)
        .send()
        .await
        .unwrap();
    assert_eq!(st.status(), Some(&ProjectVersionStatus::Starting));
    let busy = c
        .delete_project_version()
        .project_version_arn(&varn)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&busy), "ResourceInUseException");
    assert!(
        eventually(Duration::from_secs(5), || async {
            describe("lifecycle.v1").await.status() == Some(&ProjectVersionStatus::Running)
        })
        .await
    );
    let sp = c
        .stop_project_version()
        .project_version_arn(&varn)
        .send()
        .await
        .unwrap();
    assert_eq!(sp.status(), Some(&ProjectVersionStatus::Stopping));
    assert!(
        eventually(Duration::from_secs(5), || async {
            describe("lifecycle.v1").await.status() == Some(&ProjectVersionStatus::Stopped)
        })
        .await
    );

    // Tags on project and version.
    c.tag_resource()
        .resource_arn(&varn)
        .tags("stage", "staging")
        .tags("k", "v")
        .send()
        .await
        .unwrap();
    let tags = c
        .list_tags_for_resource()
        .resource_arn(&varn)
        .send()
        .await
        .unwrap();
    assert_eq!(
        tags.tags().unwrap().get("stage").map(String::as_str),
        Some("staging")
    );
    c.untag_resource()
        .resource_arn(&varn)
        .tag_keys("k")
        .send()
        .await
        .unwrap();
    let tags = c
        .list_tags_for_resource()
        .resource_arn(&varn)
        .send()
        .await
        .unwrap();
    assert_eq!(tags.tags().unwrap().len(), 1);
    let ptags = c
        .list_tags_for_resource()
        .resource_arn(&arn)
        .send()
        .await
        .unwrap();
    assert_eq!(
        ptags.tags().unwrap().get("team").map(String::as_str),
        Some("ml")
    );

    // Deleting: the project refuses while it has versions.
    let e = c
        .delete_project()
        .project_arn(&arn)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "ResourceInUseException");
    let d = c
        .delete_project_version()
        .project_version_arn(&varn)
        .send()
        .await
        .unwrap();
    assert_eq!(d.status().unwrap().as_str(), "DELETING");
    let gone = c
        .delete_project_version()
        .project_version_arn(&varn)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&gone), "ResourceNotFoundException");
    let d = c.delete_project().project_arn(&arn).send().await.unwrap();
    assert_eq!(d.status().unwrap().as_str(), "DELETING");
    let e = c
        .describe_project_versions()
        .project_arn(&arn)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "ResourceNotFoundException");
}

#[tokio::test]
async fn project_policies_put_list_delete() {
    let sb = start().await;
    let ml = rek(&sb, "ml").await;
    let project = seed::default_project_arn(ML_ACCOUNT, seed::LABEL_READER);
    let listed = ml
        .list_project_policies()
        .project_arn(&project)
        .send()
        .await
        .unwrap();
    assert_eq!(listed.project_policies().len(), 1);
    let p = &listed.project_policies()[0];
    assert_eq!(p.policy_name(), Some(seed::LABEL_READER_POLICY));
    assert!(p.creation_timestamp().is_some() && p.last_updated_timestamp().is_some());
    let rev = p.policy_revision_id().unwrap().to_string();
    let doc = p.policy_document().unwrap().to_string();

    let new_rev = ml
        .put_project_policy()
        .project_arn(&project)
        .policy_name(seed::LABEL_READER_POLICY)
        .policy_revision_id(&rev)
        .policy_document(&doc)
        .send()
        .await
        .unwrap()
        .policy_revision_id()
        .unwrap()
        .to_string();
    assert_ne!(new_rev, rev);
    ml.delete_project_policy()
        .project_arn(&project)
        .policy_name(seed::LABEL_READER_POLICY)
        .policy_revision_id(&new_rev)
        .send()
        .await
        .unwrap();
    let listed = ml
        .list_project_policies()
        .project_arn(&project)
        .send()
        .await
        .unwrap();
    assert!(listed.project_policies().is_empty());
    let e = ml
        .delete_project_policy()
        .project_arn(&project)
        .policy_name(seed::LABEL_READER_POLICY)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "ResourceNotFoundException");
    let _ = DEFAULT_REGION;
}

#[tokio::test]
async fn other_accounts_resources_are_access_denied() {
    let sb = start().await;
    let st = rek(&sb, "staging").await;
    let ml_project = seed::default_project_arn(ML_ACCOUNT, seed::DEFECT_DETECTOR);
    let e = st
        .describe_project_versions()
        .project_arn(&ml_project)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "AccessDeniedException");
    assert!(
        e.into_service_error()
            .to_string()
            .contains("not authorized")
    );
    let e = st
        .list_project_policies()
        .project_arn(&ml_project)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "AccessDeniedException");
    let e = st
        .list_tags_for_resource()
        .resource_arn(&ml_project)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "AccessDeniedException");
}
