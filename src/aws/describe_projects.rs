//! Rekognition DescribeProjects, by name: batches of at most 10 names (the API's limit), every
//! page followed.

use std::collections::BTreeMap;

use super::{AwsContext, AwsError};
use crate::state::LiveProject;

/// The most names one DescribeProjects call may filter on.
pub const MAX_NAMES: usize = 10;

/// Describes the projects named `names` (all in one account and region): each name maps to its
/// project, or is absent from the result when the project does not exist.
pub async fn describe_projects(
    ctx: &AwsContext,
    client: &aws_sdk_rekognition::Client,
    account_id: &str,
    names: &[String],
) -> Result<BTreeMap<String, LiveProject>, AwsError> {
    let mut found = BTreeMap::new();
    for batch in names.chunks(MAX_NAMES) {
        let mut next_token: Option<String> = None;
        loop {
            let output = {
                let _slot = ctx.limits.acquire(account_id, "DescribeProjects").await;
                client
                    .describe_projects()
                    .set_project_names(Some(batch.to_vec()))
                    .set_next_token(next_token.clone())
                    .send()
                    .await
                    .map_err(|e| AwsError::from_sdk("DescribeProjects", account_id, e))?
            };
            for project in output.project_descriptions() {
                let Some(arn) = project.project_arn() else {
                    continue;
                };
                let Ok(parsed) = crate::constraints::ProjectArn::parse(arn) else {
                    continue;
                };
                found.insert(
                    parsed.project,
                    LiveProject {
                        arn: arn.to_string(),
                        status: project
                            .status()
                            .map(|s| s.as_str().to_string())
                            .unwrap_or_default(),
                    },
                );
            }
            next_token = output.next_token().map(str::to_string);
            if next_token.is_none() {
                break;
            }
        }
    }
    Ok(found)
}
