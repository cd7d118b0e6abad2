//! Rekognition DescribeProjects: by name (batches of at most 10 names, the API's limit) or every
//! project of the account and region, every page followed. By name, both project features are
//! asked for (without `Features` the API lists only Custom Labels projects, and an adapter of the
//! same name would look absent); every project is listed for the copies it may receive, which
//! only Custom Labels projects can.
//!
//! Returns the SDK's descriptions; turning them into live state is `state`'s job.

use std::collections::BTreeMap;

use aws_sdk_rekognition::types::{CustomizationFeature, ProjectDescription};

use super::{AwsContext, AwsError, CallSite, Operation};

/// The most names one DescribeProjects call may filter on.
pub const MAX_NAMES: usize = 10;
/// The largest page the API returns.
pub const PAGE_SIZE: i32 = 100;

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
        let features = [
            CustomizationFeature::CustomLabels,
            CustomizationFeature::ContentModeration,
        ];
        found.extend(pages(ctx, client, site, Some(batch), &features).await?);
    }
    Ok(found)
}

/// Describes every Custom Labels project of the account and region of `client`, by name.
pub async fn describe_every_project(
    ctx: &AwsContext,
    client: &aws_sdk_rekognition::Client,
    site: CallSite<'_>,
) -> Result<BTreeMap<String, ProjectDescription>, AwsError> {
    pages(
        ctx,
        client,
        site,
        None,
        &[CustomizationFeature::CustomLabels],
    )
    .await
}

/// Every page of one DescribeProjects query (`names`: at most [`MAX_NAMES`], or none for all).
async fn pages(
    ctx: &AwsContext,
    client: &aws_sdk_rekognition::Client,
    site: CallSite<'_>,
    names: Option<&[String]>,
    features: &[CustomizationFeature],
) -> Result<BTreeMap<String, ProjectDescription>, AwsError> {
    let mut found = BTreeMap::new();
    let mut next_token: Option<String> = None;
    loop {
        let output = {
            let _slot = ctx
                .limits
                .acquire(site.account_id, Operation::DescribeProjects.name())
                .await;
            client
                .describe_projects()
                .set_project_names(names.map(<[String]>::to_vec))
                .set_features(Some(features.to_vec()))
                .max_results(PAGE_SIZE)
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
    Ok(found)
}
