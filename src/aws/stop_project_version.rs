//! Rekognition StopProjectVersion: stops hosting one running (or starting) model version. The
//! version goes STOPPING, then STOPPED.
//!
//! Only the call: the blue/green order (the replacement RUNNING first) and the wait for
//! STOPPED are `apply::serving`'s job.

use super::{AwsContext, AwsError, CallSite, Operation};

/// Stops `version_arn`; returns the status AWS answered (STOPPING).
pub async fn stop_project_version(
    ctx: &AwsContext,
    client: &aws_sdk_rekognition::Client,
    site: CallSite<'_>,
    version_arn: &str,
) -> Result<String, AwsError> {
    let _slot = ctx
        .limits
        .acquire(site.account_id, Operation::StopProjectVersion.name())
        .await;
    let output = client
        .stop_project_version()
        .project_version_arn(version_arn)
        .send()
        .await
        .map_err(|e| {
            AwsError::from_sdk(Operation::StopProjectVersion, site, Some(version_arn), e)
        })?;
    Ok(output
        .status()
        .map(|s| s.as_str().to_string())
        .unwrap_or_default())
}
