//! STS GetCallerIdentity: which account (and role) a set of credentials acts as.

use super::{AwsContext, AwsError};

/// The identity behind some credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallerIdentity {
    pub account_id: String,
    pub arn: String,
}

pub async fn get_caller_identity(
    ctx: &AwsContext,
    client: &aws_sdk_sts::Client,
    expected_account: &str,
) -> Result<CallerIdentity, AwsError> {
    let _slot = ctx
        .limits
        .acquire(expected_account, "GetCallerIdentity")
        .await;
    let output = client
        .get_caller_identity()
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("GetCallerIdentity", expected_account, e))?;
    Ok(CallerIdentity {
        account_id: output.account().unwrap_or_default().to_string(),
        arn: output.arn().unwrap_or_default().to_string(),
    })
}
