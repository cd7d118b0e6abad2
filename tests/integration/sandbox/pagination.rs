//! Pagination across 250+ versions: manual NextToken pages and the SDK paginator.

use reko_promote::sandbox::seed::{self, ML_ACCOUNT, SeedVersion};
use reko_promote::sandbox::state::VersionStatus;
use reko_promote::sandbox::{SandboxConfig, default_organisation};

use super::helpers::*;

const EXTRA: usize = 257;

async fn big() -> TestSandbox {
    let mut s = default_organisation();
    let p = s
        .projects
        .iter_mut()
        .find(|p| p.account == ML_ACCOUNT && p.name == seed::LABEL_READER)
        .unwrap();
    for i in 0..EXTRA {
        p.versions.push(SeedVersion {
            name: format!("label-reader.bulk-{i:03}"),
            status: VersionStatus::TrainingCompleted,
            f1_score: Some(0.5),
            created: None,
            status_message: None,
            tags: Default::default(),
        });
    }
    start_with(SandboxConfig {
        seed: s,
        faults: Some(fast_faults()),
        ..SandboxConfig::default()
    })
    .await
}

#[tokio::test]
async fn describe_project_versions_pages_of_100() {
    let sb = big().await;
    let ml = rek(&sb, "ml").await;
    let project = seed::default_project_arn(ML_ACCOUNT, seed::LABEL_READER);
    let total = EXTRA + 1;
    let mut token: Option<String> = None;
    let mut sizes = vec![];
    let mut seen = std::collections::BTreeSet::new();
    loop {
        let out = ml
            .describe_project_versions()
            .project_arn(&project)
            .max_results(100)
            .set_next_token(token.clone())
            .send()
            .await
            .unwrap();
        sizes.push(out.project_version_descriptions().len());
        for v in out.project_version_descriptions() {
            assert!(
                seen.insert(v.project_version_arn().unwrap().to_string()),
                "duplicate"
            );
        }
        token = out.next_token().map(String::from);
        if token.is_none() {
            break;
        }
    }
    assert_eq!(sizes, vec![100, 100, total - 200]);
    assert_eq!(seen.len(), total);
    assert_eq!(sb.calls_of("DescribeProjectVersions"), 3);
}

#[tokio::test]
async fn sdk_paginator_walks_every_version() {
    let sb = big().await;
    let ml = rek(&sb, "ml").await;
    let project = seed::default_project_arn(ML_ACCOUNT, seed::LABEL_READER);
    let items: Vec<_> = ml
        .describe_project_versions()
        .project_arn(&project)
        .max_results(100)
        .into_paginator()
        .items()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .unwrap();
    assert_eq!(items.len(), EXTRA + 1);
    assert_eq!(sb.calls_of("DescribeProjectVersions"), 3);
    // Default page size is 100 too; DescribeProjects pages the same way.
    let pages: Vec<_> = ml
        .describe_projects()
        .max_results(1)
        .into_paginator()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .unwrap();
    assert_eq!(
        pages
            .iter()
            .filter(|p| !p.project_descriptions().is_empty())
            .count(),
        2
    );
}
