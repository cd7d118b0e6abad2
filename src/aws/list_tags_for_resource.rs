//! Rekognition ListTagsForResource: the tags of one project version (or project), as AWS
//! returns them. Read only for source versions whose placements have `requireTags` gates.

use std::collections::BTreeMap;

use super::{AwsContext, AwsError, CallSite, Operation};

/// The tags on `resource_arn` (a project or project version ARN).
pub async fn list_tags_for_resource(
    ctx: &AwsContext,
    client: &aws_sdk_rekognition::Client,
    site: CallSite<'_>,
    resource_arn: &str,
) -> Result<BTreeMap<String, String>, AwsError> {
    let output = {
        let _slot = ctx
            .limits
            .acquire(site.account_id, Operation::ListTagsForResource.name())
            .await;
        client
            .list_tags_for_resource()
            .resource_arn(resource_arn)
            .send()
            .await
            .map_err(|e| {
                AwsError::from_sdk(Operation::ListTagsForResource, site, Some(resource_arn), e)
            })?
    };
    Ok(output
        .tags()
        .map(|tags| tags.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default())
}
