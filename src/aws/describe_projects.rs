//! Rekognition DescribeProjects, by name: batches of at most 10 names (the API's limit), every
//! page followed, both project features asked for (without `Features` the API lists only
//! Custom Labels projects, and an adapter of the same name would look absent).
//!
//! Returns the SDK's descriptions; turning them into live state is `state`'s job.

use std::collections::BTreeMap;

use aws_sdk_rekognition::types::{CustomizationFeature, ProjectDescription};

use super::{AwsContext, AwsError, CallSite, Operation};

/// The most names one DescribeProjects call may filter on.
pub const MAX_NAMES: usize = 10;

/// Describes the projects named `names` (all in one account and region): each name maps to its
/// description, or is absent from the result when the project does not exist.
pub async fn describe_projects(
    ctx: &AwsContext,
    client: &aws_sdk_rekognition::Client,
    site: CallSite<'_>,
    names: &[String],
) -> Result<BTreeMap<String, ProjectDescription>, AwsError> {
    let mut found = BTreeMap::new();
    for batch in names.chunks(MAX_NAMES) {
        let mut next_token: Option<String> = None;
        loop {
            let output = {
                let _slot = ctx
                    .limits
                    .acquire(site.account_id, Operation::DescribeProjects.name())
                    .await;
                client
                    .describe_projects()
                    .set_project_names(Some(batch.to_vec()))
                    .features(CustomizationFeature::CustomLabels)
                    .features(CustomizationFeature::ContentModeration)
                    .set_next_token(next_token.clone())
                    .send()
                    .await
                    .map_err(|e| AwsError::from_sdk(Operation::DescribeProjects, site, None, e))?
            };
            for project in output.project_descriptions() {
                let Some(arn) = project.project_arn() else {
                    continue;
                };
                let Ok(parsed) = crate::constraints::ProjectArn::parse(arn) else {
                    continue;
                };
                found.insert(parsed.project, project.clone());
            }
            next_token = output.next_token().map(str::to_string);
            if next_token.is_none() {
                break;
            }
        }
    }
    Ok(found)
}
