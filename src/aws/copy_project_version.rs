//! Rekognition CopyProjectVersion: starts one asynchronous copy, in the destination account.
//!
//! Only the call itself: deciding whether to copy, checking the source policy, and telling a
//! name taken by the same copy (ResourceInUseException, kind [`ErrorKind::InUse`]) from a real
//! conflict are `apply::copy`'s job. The SDK's retry config retries throttling and transient
//! errors; a retried call that had in fact succeeded comes back as ResourceInUseException, which
//! is why `apply` re-reads the version then rather than failing.
//!
//! [`ErrorKind::InUse`]: super::ErrorKind::InUse

use std::collections::BTreeMap;

use aws_sdk_rekognition::types::OutputConfig;

use super::{AwsContext, AwsError, CallSite, Operation};

/// The parameters of one copy, as the plan entry states them.
#[derive(Debug, Clone)]
pub struct CopyRequest {
    pub source_project_arn: String,
    pub source_project_version_arn: String,
    pub destination_project_arn: String,
    pub version_name: String,
    pub s3_bucket: String,
    pub s3_key_prefix: Option<String>,
    pub kms_key_id: Option<String>,
    pub tags: BTreeMap<String, String>,
}

/// Starts the copy; returns the new version's ARN.
pub async fn copy_project_version(
    ctx: &AwsContext,
    client: &aws_sdk_rekognition::Client,
    site: CallSite<'_>,
    request: &CopyRequest,
) -> Result<String, AwsError> {
    let _slot = ctx
        .limits
        .acquire(site.account_id, Operation::CopyProjectVersion.name())
        .await;
    let output = client
        .copy_project_version()
        .source_project_arn(&request.source_project_arn)
        .source_project_version_arn(&request.source_project_version_arn)
        .destination_project_arn(&request.destination_project_arn)
        .version_name(&request.version_name)
        .output_config(
            OutputConfig::builder()
                .s3_bucket(&request.s3_bucket)
                .set_s3_key_prefix(request.s3_key_prefix.clone())
                .build(),
        )
        .set_kms_key_id(request.kms_key_id.clone())
        .set_tags((!request.tags.is_empty()).then(|| request.tags.clone().into_iter().collect()))
        .send()
        .await
        .map_err(|e| {
            AwsError::from_sdk(
                Operation::CopyProjectVersion,
                site,
                Some(&request.source_project_version_arn),
                e,
            )
        })?;
    Ok(output.project_version_arn().unwrap_or_default().to_string())
}
