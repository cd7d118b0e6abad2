//! Content-moderation adapters through the real SDK: CreateProject with `Feature` and
//! `AutoUpdate`, DescribeProjects' `Features` filter (CUSTOM_LABELS by default), versions
//! reporting their project's feature, and CopyProjectVersion / PutProjectPolicy refusing adapter
//! projects, StartProjectVersion / StopProjectVersion refusing adapters; plus seeds declaring an
//! adapter.

use aws_sdk_rekognition::Client;
use aws_sdk_rekognition::types::{CustomizationFeature, OutputConfig, ProjectAutoUpdate};
use reko_promote::sandbox::SandboxConfig;
use reko_promote::sandbox::seed::{self, ML_ACCOUNT, STAGING_ACCOUNT, Seed};
use reko_promote::sandbox::state::{AutoUpdate, Feature};

use super::helpers::*;

const ADAPTER: &str = "moderation";
const ADAPTER_V1: &str = "moderation.v1";

/// The default organisation plus an adapter project `moderation` in ml (one trained version)
/// and an empty one in staging.
async fn start_with_adapters() -> TestSandbox {
    let mut config = SandboxConfig {
        faults: Some(fast_faults()),
        ..SandboxConfig::default()
    };
    add_bulk_project(&mut config, ML_ACCOUNT, ADAPTER, 1, |_| ADAPTER_V1.into());
    add_bulk_project(&mut config, STAGING_ACCOUNT, ADAPTER, 0, |_| String::new());
    for project in config
        .seed
        .projects
        .iter_mut()
        .filter(|p| p.name == ADAPTER)
    {
        project.feature = Feature::ContentModeration;
        project.auto_update = Some(AutoUpdate::Enabled);
    }
    start_with(config).await
}

fn project_arn(sb: &TestSandbox, account: &str, name: &str) -> String {
    sb.state().rekognition[account][seed::DEFAULT_REGION].projects[name]
        .arn
        .clone()
}

async fn copy(
    client: &Client,
    source_project: &str,
    source_version: &str,
    destination_project: &str,
) -> Result<String, String> {
    client
        .copy_project_version()
        .source_project_arn(source_project)
        .source_project_version_arn(source_version)
        .destination_project_arn(destination_project)
        .version_name("copied")
        .output_config(OutputConfig::builder().s3_bucket("models").build())
        .send()
        .await
        .map(|o| o.project_version_arn().unwrap_or_default().to_string())
        .map_err(|e| code(&e))
}

/// How many projects DescribeProjects lists when asked for both features.
async fn count_with_both_features(client: &Client) -> usize {
    client
        .describe_projects()
        .features(CustomizationFeature::CustomLabels)
        .features(CustomizationFeature::ContentModeration)
        .send()
        .await
        .unwrap()
        .project_descriptions()
        .len()
}

#[tokio::test]
async fn adapters_are_created_with_auto_update_and_listed_only_when_asked_for() {
    let sb = start().await;
    let staging = rek(&sb, "staging").await;
    let arn = staging
        .create_project()
        .project_name(ADAPTER)
        .feature(CustomizationFeature::ContentModeration)
        .auto_update(ProjectAutoUpdate::Enabled)
        .send()
        .await
        .unwrap()
        .project_arn()
        .unwrap()
        .to_string();

    // Without `Features`, DescribeProjects lists Custom Labels projects only.
    let default = staging.describe_projects().send().await.unwrap();
    let listed: Vec<&str> = default
        .project_descriptions()
        .iter()
        .filter_map(|p| p.project_arn())
        .collect();
    assert_eq!(listed.len(), 2, "{listed:?}");
    assert!(!listed.contains(&arn.as_str()));
    assert!(
        default
            .project_descriptions()
            .iter()
            .all(|p| p.feature() == Some(&CustomizationFeature::CustomLabels)
                && p.auto_update().is_none())
    );

    let adapters = staging
        .describe_projects()
        .features(CustomizationFeature::ContentModeration)
        .send()
        .await
        .unwrap();
    let [adapter] = adapters.project_descriptions() else {
        panic!("one adapter expected: {adapters:?}");
    };
    assert_eq!(adapter.project_arn(), Some(arn.as_str()));
    assert_eq!(
        adapter.feature(),
        Some(&CustomizationFeature::ContentModeration)
    );
    assert_eq!(adapter.auto_update(), Some(&ProjectAutoUpdate::Enabled));

    assert_eq!(count_with_both_features(&staging).await, 3);

    // AutoUpdate is required for adapters and refused for Custom Labels projects.
    for (feature, auto_update) in [
        (CustomizationFeature::ContentModeration, None),
        (
            CustomizationFeature::CustomLabels,
            Some(ProjectAutoUpdate::Disabled),
        ),
    ] {
        let e = staging
            .create_project()
            .project_name("refused")
            .feature(feature.clone())
            .set_auto_update(auto_update)
            .send()
            .await
            .unwrap_err();
        assert_eq!(code(&e), "InvalidParameterException", "{feature:?}");
    }
    assert_eq!(
        count_with_both_features(&staging).await,
        3,
        "nothing was created"
    );
}

#[tokio::test]
async fn copies_from_or_into_an_adapter_are_invalid_parameters() {
    let sb = start_with_adapters().await;
    let ml = rek(&sb, "ml").await;
    let adapter = project_arn(&sb, ML_ACCOUNT, ADAPTER);
    let adapter_v1 = seeded_version_arn(&sb, ML_ACCOUNT, ADAPTER, ADAPTER_V1);
    let custom = seed::default_project_arn(ML_ACCOUNT, seed::DEFECT_DETECTOR);
    let custom_v1 = seeded_version_arn(&sb, ML_ACCOUNT, seed::DEFECT_DETECTOR, seed::DEFECT_V1);

    // Versions of an adapter report its feature.
    let versions = ml
        .describe_project_versions()
        .project_arn(&adapter)
        .send()
        .await
        .unwrap();
    assert_eq!(
        versions.project_version_descriptions()[0].feature(),
        Some(&CustomizationFeature::ContentModeration)
    );

    assert_eq!(
        copy(&ml, &adapter, &adapter_v1, &custom).await.unwrap_err(),
        "InvalidParameterException",
        "from an adapter"
    );
    assert_eq!(
        copy(&ml, &custom, &custom_v1, &adapter).await.unwrap_err(),
        "InvalidParameterException",
        "into an adapter"
    );
    // Across accounts: an adapter cannot carry a project policy, so nothing lets staging copy
    // from it and AWS reveals nothing more than AccessDenied.
    let e = ml
        .put_project_policy()
        .project_arn(&adapter)
        .policy_name("share")
        .policy_document(
            serde_json::json!({
                "Version": "2012-10-17",
                "Statement": [{
                    "Effect": "Allow",
                    "Principal": {"AWS": STAGING_ACCOUNT},
                    "Action": "rekognition:CopyProjectVersion",
                    "Resource": "*",
                }]
            })
            .to_string(),
        )
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "InvalidParameterException");
    let staging = rek_as_role(&sb, STAGING_ACCOUNT).await;
    let staging_adapter = project_arn(&sb, STAGING_ACCOUNT, ADAPTER);
    let staging_custom = seed::default_project_arn(STAGING_ACCOUNT, seed::LABEL_READER);
    assert_eq!(
        copy(&staging, &adapter, &adapter_v1, &staging_custom)
            .await
            .unwrap_err(),
        "AccessDeniedException"
    );
    // The seeded policy on ml/label-reader lets staging copy label-reader.v1, but not into an
    // adapter.
    let label_v1 = seeded_version_arn(&sb, ML_ACCOUNT, seed::LABEL_READER, seed::LABEL_V1);
    let label_reader = seed::default_project_arn(ML_ACCOUNT, seed::LABEL_READER);
    assert_eq!(
        copy(&staging, &label_reader, &label_v1, &staging_adapter)
            .await
            .unwrap_err(),
        "InvalidParameterException"
    );
    copy(&staging, &label_reader, &label_v1, &staging_custom)
        .await
        .expect("the same copy into a Custom Labels project is allowed");
}

#[test]
fn seeds_declare_adapters_and_refuse_what_does_not_apply_to_them() {
    let seed = |project: &str| -> Result<reko_promote::sandbox::state::World, String> {
        let yaml = format!(
            "accounts:\n- {{id: '111111111111', name: ml, access_key_id: AKIASANDBOXTEST00001, secret_access_key: secret}}\nprojects:\n- {{account: '111111111111', name: p, {project}}}\n"
        );
        let seed: Seed = serde_yaml::from_str(&yaml).map_err(|e| e.to_string())?;
        seed.to_world().map_err(|e| e.to_string())
    };
    let world = seed("feature: CONTENT_MODERATION").unwrap();
    let project = &world.rekognition[ML_ACCOUNT][seed::DEFAULT_REGION].projects["p"];
    assert_eq!(project.feature, Feature::ContentModeration);
    assert_eq!(project.auto_update, Some(AutoUpdate::Disabled));
    let world = seed("feature: CONTENT_MODERATION, auto_update: ENABLED").unwrap();
    assert_eq!(
        world.rekognition[ML_ACCOUNT][seed::DEFAULT_REGION].projects["p"].auto_update,
        Some(AutoUpdate::Enabled)
    );
    let world = seed("tags: {}").unwrap();
    assert_eq!(
        world.rekognition[ML_ACCOUNT][seed::DEFAULT_REGION].projects["p"].feature,
        Feature::CustomLabels
    );
    let refused = seed("auto_update: ENABLED").unwrap_err();
    assert!(refused.contains("auto_update"), "{refused}");
    let refused = seed(
        r#"feature: CONTENT_MODERATION, policies: [{name: x, document: '{"Statement":{"Effect":"Allow","Principal":"*","Action":"rekognition:CopyProjectVersion","Resource":"*"}}'}]"#,
    )
    .unwrap_err();
    assert!(refused.contains("policies"), "{refused}");
    let refused = seed("feature: ADAPTER").unwrap_err();
    assert!(refused.contains("CONTENT_MODERATION"), "{refused}");
}

#[tokio::test]
async fn starting_or_stopping_an_adapter_is_an_invalid_parameter() {
    let sb = start_with_adapters().await;
    let ml = rek(&sb, "ml").await;
    let adapter_v1 = seeded_version_arn(&sb, ML_ACCOUNT, ADAPTER, ADAPTER_V1);
    let start = ml
        .start_project_version()
        .project_version_arn(&adapter_v1)
        .min_inference_units(1)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&start), "InvalidParameterException");
    let stop = ml
        .stop_project_version()
        .project_version_arn(&adapter_v1)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&stop), "InvalidParameterException");
    assert!(
        sb.history().is_empty(),
        "nothing changed: {:?}",
        sb.history()
    );
}
