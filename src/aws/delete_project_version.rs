//! Rekognition DeleteProjectVersion: deletes one model version (prune). AWS refuses a version
//! that is running, starting, stopping, being trained or copied (ResourceInUseException).
//!
//! Only the call: which versions may be deleted (made by reko-promote, declared by no manifest,
//! at rest) is the plan's decision, checked again by `apply::serving` just before the call.

use super::{AwsContext, AwsError, CallSite, Operation};

/// Deletes `version_arn`; returns the status AWS answered (DELETING).
pub async fn delete_project_version(
    ctx: &AwsContext,
    client: &aws_sdk_rekognition::Client,
    site: CallSite<'_>,
    version_arn: &str,
) -> Result<String, AwsError> {
    let _slot = ctx
        .limits
        .acquire(site.account_id, Operation::DeleteProjectVersion.name())
        .await;
    let output = client
        .delete_project_version()
        .project_version_arn(version_arn)
        .send()
        .await
        .map_err(|e| {
            AwsError::from_sdk(Operation::DeleteProjectVersion, site, Some(version_arn), e)
        })?;
    Ok(output
        .status()
        .map(|s| s.as_str().to_string())
        .unwrap_or_default())
}
