//! Generated organisations for the benchmarks: a sandbox seed (accounts, roles, projects, trained
//! versions) and the manifests that promote them, of any size.
//!
//! One source account (`src`) trains `source_projects` projects of `versions_per_project`
//! versions; every version goes to every destination account (`dest-NNN`), into a project of the
//! same name. A `copied` fraction of the placements is already present in the destinations
//! (copied through the sandbox before the run), so plans can be measured with everything
//! unchanged, 10% or 100% to copy. The suite's standard sizes are [`S`], [`M`], [`L`] and
//! [`APPLY`]; [`precopy`] puts a share of the placements in place through the sandbox.

use std::fmt::Write;
use std::path::Path;

use reko_promote::sandbox::seed::{Seed, SeedAccount, SeedProject, SeedRole, SeedVersion};
use reko_promote::sandbox::state::VersionStatus;

pub const CI_ACCOUNT: &str = "444444444444";
pub const CI_KEY: &str = "AKIABENCHCI000000001";
pub const CI_SECRET: &str = "benchCiSecretKey000000000000000000000001";
pub const SOURCE_ACCOUNT: &str = "100000000000";
pub const REGION: &str = "eu-west-1";

/// The shape of an organisation.
#[derive(Debug, Clone, Copy)]
pub struct Shape {
    pub destinations: usize,
    pub source_projects: usize,
    pub versions_per_project: usize,
}

impl Shape {
    pub fn placements(&self) -> usize {
        self.destinations * self.source_projects * self.versions_per_project
    }

    /// Accounts a plan reads: the destinations and the source.
    pub fn accounts(&self) -> usize {
        self.destinations + 1
    }
}

/// S: 20 placements, 3 accounts (the source and 2 destinations).
pub const S: Shape = Shape {
    destinations: 2,
    source_projects: 1,
    versions_per_project: 10,
};

/// M: 1,000 placements, 50 destination accounts (51 with the source).
pub const M: Shape = Shape {
    destinations: 50,
    source_projects: 2,
    versions_per_project: 10,
};

/// L: 10,000 placements, 200 destination accounts (201 with the source).
pub const L: Shape = Shape {
    destinations: 200,
    source_projects: 5,
    versions_per_project: 10,
};

/// The apply workload: 200 copies across 20 destination accounts.
pub const APPLY: Shape = Shape {
    destinations: 20,
    source_projects: 1,
    versions_per_project: 10,
};

/// The managed-policy apply workload: 2,000 copies from one source project to 200 destination
/// accounts, its policies written by apply (`managePolicy: true`, `policyScope: project`).
pub const MANAGED_APPLY: Shape = Shape {
    destinations: 200,
    source_projects: 1,
    versions_per_project: 10,
};

/// The `source` settings of [`MANAGED_APPLY`]'s promotions.
pub const MANAGED_SOURCE: &str = ", managePolicy: true, policyScope: project";

/// The role every generated account trusts the CI account to assume.
pub fn role_arn(account: &str) -> String {
    format!("arn:aws:iam::{account}:role/reko-promote")
}

/// How many versions of each project are already copied when `copied` (0..=1) of the
/// placements are.
pub fn copied_per_project(shape: Shape, copied: f64) -> usize {
    (shape.versions_per_project as f64 * copied).round() as usize
}

/// Copies the first `copied` share of every project's versions into every destination, through
/// the sandbox as each destination's own identity (the route a real apply takes, so the copies
/// carry their SourceProjectVersionArn), 64 at a time. Run it with a copy duration of 0 and no
/// quota.
pub async fn precopy(sb: &reko_promote::sandbox::SandboxHandle, shape: Shape, copied: f64) {
    use futures::StreamExt;
    let take = copied_per_project(shape, copied);
    if take == 0 {
        return;
    }
    let state = sb.state();
    let mut copies = Vec::new();
    for i in 0..shape.destinations {
        let dest = destination_account(i);
        let config = sb
            .sdk_config(&format!("dest-{i:03}"))
            .await
            .expect("seeded destination");
        let client = aws_sdk_rekognition::Client::new(&config);
        for p in 0..shape.source_projects {
            let source = &state.rekognition[SOURCE_ACCOUNT][REGION].projects[&project_name(p)];
            let dest_arn = state.rekognition[&dest][REGION].projects[&project_name(p)]
                .arn
                .clone();
            for v in 0..take {
                let name = version_name(p, v);
                copies.push(
                    client
                        .copy_project_version()
                        .source_project_arn(&source.arn)
                        .source_project_version_arn(&source.versions[&name].arn)
                        .destination_project_arn(&dest_arn)
                        .version_name(name)
                        .output_config(
                            aws_sdk_rekognition::types::OutputConfig::builder()
                                .s3_bucket(format!("dest-{i:03}-models"))
                                .build(),
                        ),
                );
            }
        }
    }
    let mut sends =
        futures::stream::iter(copies.into_iter().map(|c| c.send())).buffer_unordered(64);
    while let Some(result) = sends.next().await {
        result.expect("setup copy");
    }
}

pub fn destination_account(i: usize) -> String {
    format!("2{i:011}")
}

pub fn project_name(p: usize) -> String {
    format!("model-{p:02}")
}

pub fn version_name(p: usize, v: usize) -> String {
    format!("model-{p:02}.v{v:03}")
}

fn role(account: &str) -> SeedRole {
    SeedRole {
        arn: role_arn(account),
        trusted: vec![CI_ACCOUNT.to_string()],
        external_id: None,
        max_session_duration: None,
    }
}

fn account(id: &str, name: &str, n: usize) -> SeedAccount {
    SeedAccount {
        id: id.into(),
        name: name.into(),
        user_name: None,
        access_key_id: format!("AKIABENCH{n:011}"),
        secret_access_key: format!("benchSecret{n:029}"),
    }
}

/// The sandbox seed of the organisation.
pub fn seed(shape: Shape) -> Seed {
    let mut seed = Seed {
        region: REGION.into(),
        ..Seed::default()
    };
    seed.accounts.push(SeedAccount {
        id: CI_ACCOUNT.into(),
        name: "ci".into(),
        user_name: None,
        access_key_id: CI_KEY.into(),
        secret_access_key: CI_SECRET.into(),
    });
    seed.accounts.push(account(SOURCE_ACCOUNT, "src", 0));
    seed.roles.push(role(SOURCE_ACCOUNT));
    let mut source_policy = String::from(
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"rekognition:CopyProjectVersion","Resource":"*"}]}"#,
    );
    source_policy.shrink_to_fit();
    for p in 0..shape.source_projects {
        seed.projects.push(SeedProject {
            account: SOURCE_ACCOUNT.into(),
            region: None,
            name: project_name(p),
            created: None,
            feature: Default::default(),
            auto_update: None,
            tags: Default::default(),
            versions: (0..shape.versions_per_project)
                .map(|v| SeedVersion {
                    name: version_name(p, v),
                    status: VersionStatus::TrainingCompleted,
                    f1_score: Some(0.9),
                    created: None,
                    status_message: None,
                    tags: Default::default(),
                })
                .collect(),
            policies: vec![reko_promote::sandbox::seed::SeedPolicy {
                name: "allow-copies".into(),
                document: serde_yaml::Value::String(source_policy.clone()),
            }],
        });
    }
    for i in 0..shape.destinations {
        let id = destination_account(i);
        seed.accounts
            .push(account(&id, &format!("dest-{i:03}"), i + 1));
        seed.roles.push(role(&id));
        for p in 0..shape.source_projects {
            seed.projects.push(SeedProject {
                account: id.clone(),
                region: None,
                name: project_name(p),
                created: None,
                feature: Default::default(),
                auto_update: None,
                tags: Default::default(),
                versions: Vec::new(),
                policies: Vec::new(),
            });
        }
    }
    seed
}

/// Writes the manifests of the organisation into `dir` (accounts file + one promotion per
/// source project).
pub fn write_manifests(shape: Shape, dir: &Path) {
    write_manifests_with(shape, dir, "");
}

/// [`write_manifests`] with `source_settings` added to each promotion's `source` mapping (e.g.
/// `, managePolicy: true`).
pub fn write_manifests_with(shape: Shape, dir: &Path, source_settings: &str) {
    let mut accounts = String::new();
    let mut doc = |name: &str, id: &str, bucket: bool| {
        let _ = write!(
            accounts,
            "---\napiVersion: reko-promote/v1\nkind: Account\nname: {name}\naccountId: \"{id}\"\n\
             roleArn: arn:aws:iam::{id}:role/reko-promote\n"
        );
        if bucket {
            let _ = writeln!(
                accounts,
                "defaults: {{ outputConfig: {{ s3Bucket: {name}-models }} }}"
            );
        }
    };
    doc("src", SOURCE_ACCOUNT, false);
    for i in 0..shape.destinations {
        doc(&format!("dest-{i:03}"), &destination_account(i), true);
    }
    std::fs::write(dir.join("accounts.yaml"), accounts).expect("write accounts");
    for p in 0..shape.source_projects {
        let mut text = format!(
            "apiVersion: reko-promote/v1\nkind: Promotion\nname: {name}\nregion: {REGION}\n\
             source: {{ account: src, project: {name}{source_settings} }}\nversions:\n",
            name = project_name(p)
        );
        for v in 0..shape.versions_per_project {
            let _ = writeln!(text, "  - version: {}", version_name(p, v));
        }
        text.push_str("destinations:\n");
        for i in 0..shape.destinations {
            let _ = writeln!(
                text,
                "  d{i:03}: {{ account: dest-{i:03}, project: {} }}",
                project_name(p)
            );
        }
        std::fs::write(dir.join(format!("{}.yaml", project_name(p))), text)
            .expect("write promotion");
    }
}
