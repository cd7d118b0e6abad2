//! Rekognition ListProjectPolicies: every policy of one project (pages of 5, the API's maximum),
//! as the SDK returns them, sorted by name.

use aws_sdk_rekognition::types::ProjectPolicy;

use super::{AwsContext, AwsError, CallSite, Operation};

pub const PAGE_SIZE: i32 = 5;

pub async fn list_project_policies(
    ctx: &AwsContext,
    client: &aws_sdk_rekognition::Client,
    site: CallSite<'_>,
    project_arn: &str,
) -> Result<Vec<ProjectPolicy>, AwsError> {
    let mut policies = Vec::new();
    let mut next_token: Option<String> = None;
    loop {
        let output = {
            let _slot = ctx
                .limits
                .acquire(site.account_id, Operation::ListProjectPolicies.name())
                .await;
            client
                .list_project_policies()
                .project_arn(project_arn)
                .max_results(PAGE_SIZE)
                .set_next_token(next_token.clone())
                .send()
                .await
                .map_err(|e| {
                    AwsError::from_sdk(Operation::ListProjectPolicies, site, Some(project_arn), e)
                })?
        };
        policies.extend(output.project_policies().iter().cloned());
        next_token = output.next_token().map(str::to_string);
        if next_token.is_none() {
            break;
        }
    }
    policies.sort_by(|a, b| a.policy_name().cmp(&b.policy_name()));
    Ok(policies)
}
