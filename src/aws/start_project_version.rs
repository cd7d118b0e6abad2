//! Rekognition StartProjectVersion: starts hosting one model version with inference units, in
//! the destination account. Asynchronous: the version goes STARTING, then RUNNING or FAILED.
//!
//! Only the call: deciding what to start, waiting for RUNNING and reporting a FAILED start with
//! AWS's StatusMessage are `apply::serving`'s job.

use super::{AwsContext, AwsError, CallSite, Operation};
use crate::desired::InferenceUnits;

/// Starts `version_arn` with `units`; returns the status AWS answered (STARTING).
pub async fn start_project_version(
    ctx: &AwsContext,
    client: &aws_sdk_rekognition::Client,
    site: CallSite<'_>,
    version_arn: &str,
    units: InferenceUnits,
) -> Result<String, AwsError> {
    let _slot = ctx
        .limits
        .acquire(site.account_id, Operation::StartProjectVersion.name())
        .await;
    let output = client
        .start_project_version()
        .project_version_arn(version_arn)
        .min_inference_units(units.min as i32)
        .set_max_inference_units(units.max.map(|m| m as i32))
        .send()
        .await
        .map_err(|e| {
            AwsError::from_sdk(Operation::StartProjectVersion, site, Some(version_arn), e)
        })?;
    Ok(output
        .status()
        .map(|s| s.as_str().to_string())
        .unwrap_or_default())
}
