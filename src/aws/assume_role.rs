//! STS AssumeRole: temporary credentials for a role, and the identity AWS says they carry.
//!
//! Called directly (not through aws-config's provider) so that a failure keeps AWS's error code,
//! message and request id as data, and so that the assumed-role ARN AWS returns can be checked
//! against the account that was asked for (`session`'s job).

use std::time::SystemTime;

use aws_credential_types::Credentials;

use super::{AwsContext, AwsError, CallSite, Operation};

/// What AssumeRole returned.
#[derive(Debug, Clone)]
pub struct AssumedRole {
    pub credentials: Credentials,
    /// `arn:PARTITION:sts::ACCOUNT:assumed-role/ROLE/SESSION`, as AWS returned it.
    pub assumed_role_arn: String,
}

/// Assumes `role_arn` with the ambient credentials of `client`.
pub async fn assume_role(
    ctx: &AwsContext,
    client: &aws_sdk_sts::Client,
    site: CallSite<'_>,
    role_arn: &str,
    session_name: &str,
    external_id: Option<&str>,
) -> Result<AssumedRole, AwsError> {
    let _slot = ctx
        .limits
        .acquire(site.account_id, Operation::AssumeRole.name())
        .await;
    let output = client
        .assume_role()
        .role_arn(role_arn)
        .role_session_name(session_name)
        .set_external_id(external_id.map(str::to_string))
        .send()
        .await
        .map_err(|e| AwsError::from_sdk(Operation::AssumeRole, site, Some(role_arn), e))?;
    let incomplete = |what: &str| AwsError {
        operation: Operation::AssumeRole,
        account: site.account.to_string(),
        account_id: site.account_id.to_string(),
        arn: Some(role_arn.to_string()),
        code: None,
        message: format!("the answer holds no {what}"),
        request_id: None,
        kind: super::ErrorKind::Other,
    };
    let given = output
        .credentials()
        .ok_or_else(|| incomplete("credentials"))?;
    let expiry = SystemTime::try_from(*given.expiration()).ok();
    let assumed_role_arn = output
        .assumed_role_user()
        .map(|u| u.arn().to_string())
        .ok_or_else(|| incomplete("AssumedRoleUser"))?;
    Ok(AssumedRole {
        credentials: Credentials::new(
            given.access_key_id(),
            given.secret_access_key(),
            Some(given.session_token().to_string()),
            expiry,
            "reko-promote-assume-role",
        ),
        assumed_role_arn,
    })
}
