//! STS GetCallerIdentity: which account (and principal) a set of credentials acts as.

use super::{AwsContext, AwsError, CallSite, Operation};

/// The identity behind some credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallerIdentity {
    pub account_id: String,
    pub arn: String,
}

/// Asks STS who the client's credentials are; `site` is the account they are expected to be.
pub async fn get_caller_identity(
    ctx: &AwsContext,
    client: &aws_sdk_sts::Client,
    site: CallSite<'_>,
) -> Result<CallerIdentity, AwsError> {
    let _slot = ctx
        .limits
        .acquire(site.account_id, Operation::GetCallerIdentity.name())
        .await;
    let output = client
        .get_caller_identity()
        .send()
        .await
        .map_err(|e| AwsError::from_sdk(Operation::GetCallerIdentity, site, None, e))?;
    Ok(CallerIdentity {
        account_id: output.account().unwrap_or_default().to_string(),
        arn: output.arn().unwrap_or_default().to_string(),
    })
}
