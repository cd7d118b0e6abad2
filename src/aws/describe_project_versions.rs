//! Rekognition DescribeProjectVersions: by version name (batches of at most 10 names, the API's
//! limit) or every version of a project, pages of 100, every page followed.
//!
//! Returns the SDK's descriptions by version name; turning them into live state is `state`'s job.

use std::collections::BTreeMap;

use aws_sdk_rekognition::types::ProjectVersionDescription;

use super::{AwsContext, AwsError, CallSite, Operation};

/// The most version names one call may filter on.
pub const MAX_NAMES: usize = 10;
/// The largest page the API returns.
pub const PAGE_SIZE: i32 = 100;

/// Which versions to describe.
#[derive(Debug, Clone, Copy)]
pub enum Versions<'a> {
    /// These names (absent from the result when they do not exist).
    Named(&'a [String]),
    /// Every version of the project.
    All,
}

/// Describes versions of the project `project_arn`, by version name.
pub async fn describe_project_versions(
    ctx: &AwsContext,
    client: &aws_sdk_rekognition::Client,
    site: CallSite<'_>,
    project_arn: &str,
    versions: Versions<'_>,
) -> Result<BTreeMap<String, ProjectVersionDescription>, AwsError> {
    let batches: Vec<Option<Vec<String>>> = match versions {
        Versions::Named(names) => names.chunks(MAX_NAMES).map(|b| Some(b.to_vec())).collect(),
        Versions::All => vec![None],
    };
    let mut found = BTreeMap::new();
    for batch in batches {
        let mut next_token: Option<String> = None;
        loop {
            let output = {
                let _slot = ctx
                    .limits
                    .acquire(site.account_id, Operation::DescribeProjectVersions.name())
                    .await;
                client
                    .describe_project_versions()
                    .project_arn(project_arn)
                    .set_version_names(batch.clone())
                    .max_results(PAGE_SIZE)
                    .set_next_token(next_token.clone())
                    .send()
                    .await
                    .map_err(|e| {
                        AwsError::from_sdk(
                            Operation::DescribeProjectVersions,
                            site,
                            Some(project_arn),
                            e,
                        )
                    })?
            };
            for description in output.project_version_descriptions() {
                let Some(arn) = description.project_version_arn() else {
                    continue;
                };
                let Ok(parsed) = crate::constraints::ProjectVersionArn::parse(arn) else {
                    continue;
                };
                found.insert(parsed.version, description.clone());
            }
            next_token = output.next_token().map(str::to_string);
            if next_token.is_none() {
                break;
            }
        }
    }
    Ok(found)
}
