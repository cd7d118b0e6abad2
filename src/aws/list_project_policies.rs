//! Rekognition ListProjectPolicies: every policy of one project (pages of 5, the API's maximum).

use super::{AwsContext, AwsError};
use crate::state::LivePolicy;

pub const PAGE_SIZE: i32 = 5;

pub async fn list_project_policies(
    ctx: &AwsContext,
    client: &aws_sdk_rekognition::Client,
    account_id: &str,
    project_arn: &str,
) -> Result<Vec<LivePolicy>, AwsError> {
    let mut policies = Vec::new();
    let mut next_token: Option<String> = None;
    loop {
        let output = {
            let _slot = ctx.limits.acquire(account_id, "ListProjectPolicies").await;
            client
                .list_project_policies()
                .project_arn(project_arn)
                .max_results(PAGE_SIZE)
                .set_next_token(next_token.clone())
                .send()
                .await
                .map_err(|e| AwsError::from_sdk("ListProjectPolicies", account_id, e))?
        };
        for policy in output.project_policies() {
            policies.push(LivePolicy {
                name: policy.policy_name().unwrap_or_default().to_string(),
                revision_id: policy.policy_revision_id().unwrap_or_default().to_string(),
                document: policy.policy_document().unwrap_or_default().to_string(),
            });
        }
        next_token = output.next_token().map(str::to_string);
        if next_token.is_none() {
            break;
        }
    }
    policies.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(policies)
}
