//! The naive baseline: a plan as a straightforward port of the AWS documentation examples would
//! compute it with the AWS SDK for Rust, one call at a time and nothing batched or cached.
//!
//! Once: AssumeRole into the source account and DescribeProjects for the source projects' ARNs.
//! Then per placement, in order: AssumeRole into the destination, DescribeProjects for its project,
//! DescribeProjectVersions with that ONE version name, and ListProjectPolicies on the source
//! project. Retries are the SDK's standard mode with 10 attempts, so throttling at the quota
//! slows it down instead of failing it. It runs in the benchmark process (no separate peak RSS).

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use aws_config::retry::RetryConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::Credentials;
use reko_promote::sandbox::SandboxHandle;

use super::org::{self, Shape};

/// What the naive plan found.
pub struct NaiveRun {
    pub wall: Duration,
    pub to_copy: usize,
    pub unchanged: usize,
}

async fn config(endpoint: &str, creds: Credentials) -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(Region::new(org::REGION))
        .credentials_provider(creds)
        .retry_config(RetryConfig::standard().with_max_attempts(10))
        .load()
        .await
}

async fn assume(sts: &aws_sdk_sts::Client, account: &str, endpoint: &str) -> SdkConfig {
    let out = sts
        .assume_role()
        .role_arn(org::role_arn(account))
        .role_session_name("naive-plan")
        .send()
        .await
        .expect("AssumeRole");
    let c = out.credentials().expect("credentials");
    config(
        endpoint,
        Credentials::new(
            c.access_key_id(),
            c.secret_access_key(),
            Some(c.session_token().to_string()),
            None,
            "naive",
        ),
    )
    .await
}

async fn project_arn(client: &aws_sdk_rekognition::Client, name: &str) -> String {
    let out = client
        .describe_projects()
        .project_names(name)
        .send()
        .await
        .expect("DescribeProjects");
    out.project_descriptions()[0]
        .project_arn()
        .expect("arn")
        .to_string()
}

/// Plans `shape` against `sb`, one call at a time.
pub async fn plan(sb: &SandboxHandle, shape: Shape) -> NaiveRun {
    let endpoint = sb.endpoint();
    let started = Instant::now();
    let ci = config(
        &endpoint,
        Credentials::new(org::CI_KEY, org::CI_SECRET, None, None, "ci"),
    )
    .await;
    let sts = aws_sdk_sts::Client::new(&ci);
    let source =
        aws_sdk_rekognition::Client::new(&assume(&sts, org::SOURCE_ACCOUNT, &endpoint).await);
    let mut source_arns = BTreeMap::new();
    for p in 0..shape.source_projects {
        source_arns.insert(p, project_arn(&source, &org::project_name(p)).await);
    }
    let (mut to_copy, mut unchanged) = (0, 0);
    for i in 0..shape.destinations {
        let account = org::destination_account(i);
        for p in 0..shape.source_projects {
            for v in 0..shape.versions_per_project {
                let dest =
                    aws_sdk_rekognition::Client::new(&assume(&sts, &account, &endpoint).await);
                let arn = project_arn(&dest, &org::project_name(p)).await;
                let versions = dest
                    .describe_project_versions()
                    .project_arn(&arn)
                    .version_names(org::version_name(p, v))
                    .send()
                    .await
                    .expect("DescribeProjectVersions");
                source
                    .list_project_policies()
                    .project_arn(&source_arns[&p])
                    .send()
                    .await
                    .expect("ListProjectPolicies");
                if versions.project_version_descriptions().is_empty() {
                    to_copy += 1;
                } else {
                    unchanged += 1;
                }
            }
        }
    }
    NaiveRun {
        wall: started.elapsed(),
        to_copy,
        unchanged,
    }
}
