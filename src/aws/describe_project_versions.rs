//! Rekognition DescribeProjectVersions, by version name: batches of at most 10 names (the API's
//! limit), pages of 100, every page followed.

use std::collections::BTreeMap;

use aws_sdk_rekognition::types::ProjectVersionDescription;

use super::{AwsContext, AwsError};
use crate::desired::OutputConfig;
use crate::state::LiveVersion;

/// The most version names one call may filter on.
pub const MAX_NAMES: usize = 10;
/// The largest page the API returns.
pub const PAGE_SIZE: i32 = 100;

/// Describes the versions named `names` of the project `project_arn`: each name maps to its
/// version, or is absent when the version does not exist.
pub async fn describe_project_versions(
    ctx: &AwsContext,
    client: &aws_sdk_rekognition::Client,
    account_id: &str,
    project_arn: &str,
    names: &[String],
) -> Result<BTreeMap<String, LiveVersion>, AwsError> {
    let mut found = BTreeMap::new();
    for batch in names.chunks(MAX_NAMES) {
        let mut next_token: Option<String> = None;
        loop {
            let output = {
                let _slot = ctx
                    .limits
                    .acquire(account_id, "DescribeProjectVersions")
                    .await;
                client
                    .describe_project_versions()
                    .project_arn(project_arn)
                    .set_version_names(Some(batch.to_vec()))
                    .max_results(PAGE_SIZE)
                    .set_next_token(next_token.clone())
                    .send()
                    .await
                    .map_err(|e| AwsError::from_sdk("DescribeProjectVersions", account_id, e))?
            };
            for description in output.project_version_descriptions() {
                if let Some((name, version)) = live_version(description) {
                    found.insert(name, version);
                }
            }
            next_token = output.next_token().map(str::to_string);
            if next_token.is_none() {
                break;
            }
        }
    }
    Ok(found)
}

/// The version's name and what reko-promote needs of its description.
pub fn live_version(description: &ProjectVersionDescription) -> Option<(String, LiveVersion)> {
    let arn = description.project_version_arn()?;
    let name = crate::constraints::ProjectVersionArn::parse(arn)
        .ok()?
        .version;
    Some((
        name,
        LiveVersion {
            arn: arn.to_string(),
            status: description
                .status()
                .map(|s| s.as_str().to_string())
                .unwrap_or_default(),
            status_message: description.status_message().map(str::to_string),
            source_project_version_arn: description
                .source_project_version_arn()
                .map(str::to_string),
            kms_key_id: description.kms_key_id().map(str::to_string),
            output_config: description.output_config().and_then(|o| {
                o.s3_bucket().map(|bucket| OutputConfig {
                    s3_bucket: bucket.to_string(),
                    s3_key_prefix: o.s3_key_prefix().map(str::to_string),
                })
            }),
            f1_score: description.evaluation_result().and_then(|e| e.f1_score()),
        },
    ))
}
