//! Least-privilege IAM for a set of manifests: the permission and trust policies of the CI
//! principals and of every account role the manifests declare, as `reko-promote iam` prints them
//! (JSON documents, Terraform or CloudFormation).
//!
//! Two sides, so that a job which only plans (a pull request's) never holds write credentials:
//! the **apply** side (the CI principal and each account's `roleArn`: everything apply calls)
//! and the read-only **plan** side (the CI plan principal and each account's `planRoleArn`:
//! only the Describe and List calls `plan` makes).
//!
//! Pure: it reads only the desired state (no AWS call), so it can run in review before any role
//! exists. It derives exactly what `plan` and `apply` call in each account — DescribeProjects,
//! DescribeProjectVersions, ListProjectPolicies and PutProjectPolicy on source projects,
//! ListTagsForResource on source versions (only where `requireTags` gates ask), CopyProjectVersion
//! (with its KMS key, S3 output, and TagResource: every copy carries reko-promote's ownership
//! tag) on destinations, and for destinations declaring `running` or `prune`
//! StartProjectVersion/StopProjectVersion, DeleteProjectVersion and ListTagsForResource on their
//! versions (only those that use them) — and scopes each action
//! to the narrowest resource IAM supports for it. Creating the roles is left to the user's IaC.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use serde_json::{Value, json};

use crate::constraints::partition_of_region;
use crate::desired::{DesiredState, Placement, ProjectRef};
use crate::policy::POLICY_VERSION;

/// What `--ci-principal` defaults to: obviously not an ARN to deploy, so a review catches it.
pub const CI_PRINCIPAL_PLACEHOLDER: &str = "arn:aws:iam::CI_ACCOUNT_ID:role/CI_ROLE_NAME";

/// What `--ci-plan-principal` defaults to.
pub const CI_PLAN_PRINCIPAL_PLACEHOLDER: &str = "arn:aws:iam::CI_ACCOUNT_ID:role/CI_PLAN_ROLE_NAME";

/// Which principal a role serves: `apply` (writes) or the read-only `plan`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Side {
    Apply,
    Plan,
}

/// Why a statement grants `*`: DescribeProjects supports no resource-level permissions.
pub const DESCRIBE_PROJECTS_NOTE: &str = "rekognition:DescribeProjects supports no resource-level permissions (AWS service authorization reference), so it needs Resource \"*\"; it only lists project names and ARNs";

/// Why copies need CreateProjectVersion too.
pub const COPY_NOTE: &str = "the CopyProjectVersion operation also authorizes rekognition:CreateProjectVersion (the version it creates) and, with tags, rekognition:TagResource";

/// The IAM of a whole organisation of manifests.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct IamReport {
    /// The principal CI applies as (`--ci-principal`), trusted by every apply role.
    pub ci_principal: String,
    /// The principal CI plans as (`--ci-plan-principal`), trusted by every plan role.
    pub ci_plan_principal: String,
    /// The CI principals first (apply, plan), then per account the placements involve its apply
    /// role and its plan role.
    pub roles: Vec<RoleIam>,
}

impl IamReport {
    /// The CI principal of `side`.
    pub fn principal(&self, side: Side) -> &str {
        match side {
            Side::Apply => &self.ci_principal,
            Side::Plan => &self.ci_plan_principal,
        }
    }
}

/// One principal's permissions (and, for account roles, its trust policy).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RoleIam {
    /// `ci`, `ci-plan`, or the account's name in the manifests.
    pub name: String,
    /// Which principal the role serves; plan roles only read.
    pub side: Side,
    pub account_id: Option<String>,
    /// The role ARN the manifests declare (for a plan role without `planRoleArn`, the one to
    /// declare); `None` for the CI principals, and for accounts used with ambient credentials
    /// (then attach `policy` to the CI principal of that side itself).
    pub role_arn: Option<String>,
    /// What the principal does: `ci`, `source`, `destination` (an account may be both).
    pub uses: Vec<String>,
    /// Who may assume the role: the CI principal of its side (with the declared external id).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trust_policy: Option<Value>,
    /// The identity policy to attach.
    pub policy: Value,
    /// Why some statements are as wide as they are.
    pub notes: Vec<String>,
}

/// Statements under construction, keyed by Sid so that an account which is both a source and a
/// destination (or serves several promotions) gets one merged statement per purpose.
#[derive(Default)]
struct Statements(BTreeMap<String, Pending>);

#[derive(Default)]
struct Pending {
    actions: BTreeSet<String>,
    resources: BTreeSet<String>,
    condition: Option<Value>,
    /// True for the Describe and List statements `plan` needs; plan roles get only these.
    read_only: bool,
}

impl Statements {
    /// Adds a statement that writes (or may write): apply roles only.
    fn add(&mut self, sid: &str, actions: &[&str], resources: impl IntoIterator<Item = String>) {
        let entry = self.0.entry(sid.to_string()).or_default();
        entry.actions.extend(actions.iter().map(|a| a.to_string()));
        entry.resources.extend(resources);
    }

    /// Adds a statement that only reads: apply and plan roles.
    fn read(&mut self, sid: &str, actions: &[&str], resources: impl IntoIterator<Item = String>) {
        self.add(sid, actions, resources);
        self.0.get_mut(sid).expect("just added").read_only = true;
    }

    fn add_with_condition(
        &mut self,
        sid: &str,
        actions: &[&str],
        resources: impl IntoIterator<Item = String>,
        condition: Value,
    ) {
        self.add(sid, actions, resources);
        self.0.get_mut(sid).expect("just added").condition = Some(condition);
    }

    /// The policy document of `side`: every statement for apply, the read-only ones for plan.
    fn document(&self, side: Side) -> Value {
        let statements: Vec<Value> = self
            .0
            .iter()
            .filter(|(_, p)| side == Side::Apply || p.read_only)
            .map(|(sid, p)| {
                let mut s = json!({
                    "Sid": sid,
                    "Effect": "Allow",
                    "Action": p.actions.iter().collect::<Vec<_>>(),
                    "Resource": p.resources.iter().collect::<Vec<_>>(),
                });
                if let Some(condition) = &p.condition {
                    s["Condition"] = condition.clone();
                }
                s
            })
            .collect();
        json!({ "Version": POLICY_VERSION, "Statement": statements })
    }
}

/// The ARN (or pattern) of a project: exact when the manifest pinned it, else any creation
/// timestamp of that name (project ARNs end in `/<timestamp>`).
fn project_resource(partition: &str, project: &ProjectRef) -> String {
    project.arn.clone().unwrap_or_else(|| {
        format!(
            "arn:{partition}:rekognition:{}:{}:project/{}/*",
            project.region, project.account_id, project.name
        )
    })
}

/// The ARN pattern of one named version of a project (version ARNs are
/// `project/<project>/version/<version>/<timestamp>`).
fn version_resource(partition: &str, project: &ProjectRef, version: &str) -> String {
    format!(
        "arn:{partition}:rekognition:{}:{}:project/{}/version/{version}/*",
        project.region, project.account_id, project.name
    )
}

/// The KMS grants of an encrypted copy, as Rekognition's CopyProjectVersion documents them
/// (kms:CreateGrant, kms:DescribeKey, kms:GenerateDataKey, kms:Decrypt), scoped to the key:
/// a key ID or key ARN names the key; an alias cannot be a Resource for these actions, so the
/// statement allows keys of that account carrying that alias (`kms:ResourceAliases`).
fn add_kms(statements: &mut Statements, partition: &str, p: &Placement, key: &str, index: usize) {
    const ACTIONS: &[&str] = &[
        "kms:CreateGrant",
        "kms:Decrypt",
        "kms:DescribeKey",
        "kms:GenerateDataKey",
    ];
    let account = &p.destination_project.account_id;
    let sid = format!("KmsKeyOfEncryptedCopies{index}");
    if let Some(rest) = key.strip_prefix("arn:") {
        // arn:PARTITION:kms:REGION:ACCOUNT:key/ID or ...:alias/NAME
        let parts: Vec<&str> = rest.splitn(5, ':').collect();
        if let [part, _, region, acct, resource] = parts.as_slice() {
            if let Some(alias) = resource.strip_prefix("alias/") {
                statements.add_with_condition(
                    &sid,
                    ACTIONS,
                    [format!("arn:{part}:kms:{region}:{acct}:key/*")],
                    json!({ "ForAnyValue:StringEquals": { "kms:ResourceAliases": format!("alias/{alias}") } }),
                );
                return;
            }
        }
        statements.add(&sid, ACTIONS, [key.to_string()]);
    } else if let Some(alias) = key.strip_prefix("alias/") {
        statements.add_with_condition(
            &sid,
            ACTIONS,
            [format!("arn:{partition}:kms:{}:{account}:key/*", p.region)],
            json!({ "ForAnyValue:StringEquals": { "kms:ResourceAliases": format!("alias/{alias}") } }),
        );
    } else {
        statements.add(
            &sid,
            ACTIONS,
            [format!(
                "arn:{partition}:kms:{}:{account}:key/{key}",
                p.region
            )],
        );
    }
}

/// The IAM every principal needs for `desired`: apply roles trusting `ci_principal`, plan roles
/// trusting `ci_plan_principal`.
pub fn compute(desired: &DesiredState, ci_principal: &str, ci_plan_principal: &str) -> IamReport {
    let mut per_account: BTreeMap<String, (Statements, BTreeSet<String>, BTreeSet<String>)> =
        BTreeMap::new();
    let mut kms_keys: BTreeMap<(String, String), usize> = BTreeMap::new();
    for p in &desired.placements {
        let partition = partition_of_region(&p.region);
        // Source side: plan reads the source version and, for cross-account copies, the
        // project's policies; apply writes the managed ones.
        {
            let (st, uses, notes) = per_account.entry(p.source_account.clone()).or_default();
            uses.insert("source".into());
            notes.insert(DESCRIBE_PROJECTS_NOTE.into());
            let project = project_resource(partition, &p.source_project);
            st.read(
                "DescribeProjects",
                &["rekognition:DescribeProjects"],
                ["*".into()],
            );
            st.read(
                "ReadProjectVersions",
                &["rekognition:DescribeProjectVersions"],
                [project.clone()],
            );
            if !p.lifecycle.gates.require_tags.is_empty() {
                // `requireTags` gates read the source version's tags; nothing else needs them.
                let version = p.source_version_arn.clone().unwrap_or_else(|| {
                    version_resource(partition, &p.source_project, &p.source_version)
                });
                st.read(
                    "ReadSourceVersionTags",
                    &["rekognition:ListTagsForResource"],
                    [version],
                );
            }
            if p.is_cross_account() {
                st.read(
                    "ReadProjectPolicies",
                    &["rekognition:ListProjectPolicies"],
                    [project.clone()],
                );
                if p.manage_policy {
                    st.add(
                        "WriteManagedProjectPolicies",
                        &[
                            "rekognition:PutProjectPolicy",
                            "rekognition:DeleteProjectPolicy",
                        ],
                        [project],
                    );
                }
            }
        }
        // Destination side: plan reads the destination's versions; apply copies into it.
        let (st, uses, notes) = per_account
            .entry(p.destination_account.clone())
            .or_default();
        uses.insert("destination".into());
        notes.insert(DESCRIBE_PROJECTS_NOTE.into());
        let destination = project_resource(partition, &p.destination_project);
        st.read(
            "DescribeProjects",
            &["rekognition:DescribeProjects"],
            ["*".into()],
        );
        st.read(
            "ReadProjectVersions",
            &["rekognition:DescribeProjectVersions"],
            [destination.clone()],
        );
        // The CopyProjectVersion operation authorizes rekognition:CopyProjectVersion and
        // rekognition:CreateProjectVersion (the new version in the destination project), per
        // the service authorization reference's operation table; the source version and the
        // destination project are the resources involved.
        let source_version = p
            .source_version_arn
            .clone()
            .unwrap_or_else(|| version_resource(partition, &p.source_project, &p.source_version));
        st.add(
            "CopyProjectVersions",
            &[
                "rekognition:CopyProjectVersion",
                "rekognition:CreateProjectVersion",
            ],
            [destination, source_version],
        );
        notes.insert(COPY_NOTE.into());
        {
            // Every copy carries tags (reko-promote's ownership tag at least): tags passed to
            // CopyProjectVersion are authorized as TagResource on the new version (the service
            // authorization reference lists rekognition:TagResource for CopyProjectVersion).
            st.add(
                "TagCopiedVersions",
                &["rekognition:TagResource"],
                [version_resource(
                    partition,
                    &p.destination_project,
                    &p.version_name,
                )],
            );
        }
        let bucket = &p.output_config.s3_bucket;
        let prefix = p.output_config.s3_key_prefix.as_deref().unwrap_or("");
        st.add(
            "WriteCopyOutput",
            &["s3:PutObject"],
            [format!("arn:{partition}:s3:::{bucket}/{prefix}*")],
        );
        st.add(
            "CheckCopyOutputBucket",
            &["s3:GetBucketAcl", "s3:GetBucketLocation"],
            [format!("arn:{partition}:s3:::{bucket}")],
        );
        if let Some(key) = &p.kms_key_id {
            let next = kms_keys.len() + 1;
            let index = *kms_keys
                .entry((p.destination_account.clone(), key.clone()))
                .or_insert(next);
            add_kms(st, partition, p, key, index);
            notes.insert("KMS permissions are those CopyProjectVersion documents for a customer managed key; the key policy must allow them as well".into());
        }
    }

    // Serving and prune: every version of such a project may be started, stopped (blue/green
    // stops whichever version served before) or deleted, and its tags are read (ownership).
    for s in &desired.serving {
        let partition = partition_of_region(&s.project.region);
        let (st, uses, _) = per_account.entry(s.account.clone()).or_default();
        uses.insert("destination".into());
        let versions = format!(
            "arn:{partition}:rekognition:{}:{}:project/{}/version/*",
            s.project.region, s.project.account_id, s.project.name
        );
        st.read(
            "ReadProjectVersions",
            &["rekognition:DescribeProjectVersions"],
            [project_resource(partition, &s.project)],
        );
        st.read(
            "ReadVersionOwnership",
            &["rekognition:ListTagsForResource"],
            [versions.clone()],
        );
        if s.running.is_some() {
            st.add(
                "ServeVersions",
                &[
                    "rekognition:StartProjectVersion",
                    "rekognition:StopProjectVersion",
                ],
                [versions.clone()],
            );
        }
        if s.prune {
            st.add(
                "PruneVersions",
                &["rekognition:DeleteProjectVersion"],
                [versions],
            );
        }
    }

    let mut roles = Vec::new();
    let mut assumable = BTreeSet::new();
    let mut plan_assumable = BTreeSet::new();
    let mut ambient_notes = Vec::new();
    let mut plan_notes = Vec::new();
    for account in &desired.accounts {
        let Some((statements, uses, notes)) = per_account.remove(&account.name) else {
            continue;
        };
        if let Some(arn) = &account.role_arn {
            assumable.insert(arn.clone());
        } else {
            ambient_notes.push(format!(
                "account {} has no roleArn: its policy applies to the CI principal itself, which must belong to account {}",
                account.name, account.account_id
            ));
        }
        // The plan role: the declared one, else the one to declare (beside the apply role).
        let plan_role = match (&account.plan_role_arn, &account.role_arn) {
            (Some(declared), _) => Some(declared.clone()),
            (None, Some(apply_role)) => {
                let suggested = format!("{apply_role}-plan");
                plan_notes.push(format!(
                    "account {} declares no planRoleArn, so plan enters it through its apply role, which the plan principal may not assume: create the read-only role printed for it and declare `planRoleArn: {suggested}`",
                    account.name
                ));
                Some(suggested)
            }
            (None, None) => {
                plan_notes.push(format!(
                    "account {} has no roleArn nor planRoleArn: its read-only policy applies to the CI plan principal itself, which must belong to account {}",
                    account.name, account.account_id
                ));
                None
            }
        };
        if let Some(arn) = &plan_role {
            plan_assumable.insert(arn.clone());
        }
        let uses: Vec<String> = uses.into_iter().collect();
        let notes: Vec<String> = notes.into_iter().collect();
        roles.push(RoleIam {
            name: account.name.clone(),
            side: Side::Apply,
            account_id: Some(account.account_id.clone()),
            role_arn: account.role_arn.clone(),
            uses: uses.clone(),
            trust_policy: account
                .role_arn
                .as_ref()
                .map(|_| trust_policy(ci_principal, account.external_id.as_deref())),
            policy: statements.document(Side::Apply),
            notes: notes.clone(),
        });
        roles.push(RoleIam {
            name: account.name.clone(),
            side: Side::Plan,
            account_id: Some(account.account_id.clone()),
            trust_policy: plan_role
                .as_ref()
                .map(|_| trust_policy(ci_plan_principal, account.external_id.as_deref())),
            role_arn: plan_role,
            uses,
            policy: statements.document(Side::Plan),
            notes: notes
                .into_iter()
                .filter(|n| n == DESCRIBE_PROJECTS_NOTE)
                .collect(),
        });
    }
    let ci = ci_entry(
        "ci",
        Side::Apply,
        ci_principal,
        CI_PRINCIPAL_PLACEHOLDER,
        assumable,
        ambient_notes,
    );
    let ci_plan = ci_entry(
        "ci-plan",
        Side::Plan,
        ci_plan_principal,
        CI_PLAN_PRINCIPAL_PLACEHOLDER,
        plan_assumable,
        plan_notes,
    );
    roles.splice(0..0, [ci, ci_plan]);
    IamReport {
        ci_principal: ci_principal.to_string(),
        ci_plan_principal: ci_plan_principal.to_string(),
        roles,
    }
}

/// The trust policy of an account role: only `principal` may assume it, with `external_id`
/// when the account declares one.
fn trust_policy(principal: &str, external_id: Option<&str>) -> Value {
    let mut statement = json!({
        "Sid": "TrustRekoPromoteCi",
        "Effect": "Allow",
        "Principal": { "AWS": principal },
        "Action": "sts:AssumeRole",
    });
    if let Some(external_id) = external_id {
        statement["Condition"] = json!({ "StringEquals": { "sts:ExternalId": external_id } });
    }
    json!({ "Version": POLICY_VERSION, "Statement": [statement] })
}

/// The entry of a CI principal: it may assume exactly `assumable`.
fn ci_entry(
    name: &str,
    side: Side,
    principal: &str,
    placeholder: &str,
    assumable: BTreeSet<String>,
    extra_notes: Vec<String>,
) -> RoleIam {
    let mut statements = Statements::default();
    if !assumable.is_empty() {
        statements.add("AssumeRekoPromoteRoles", &["sts:AssumeRole"], assumable);
    }
    let mut notes = vec!["sts:GetCallerIdentity needs no permission; it is how reko-promote checks which account ambient credentials belong to".to_string()];
    if principal == placeholder {
        let flag = match side {
            Side::Apply => "--ci-principal",
            Side::Plan => "--ci-plan-principal",
        };
        notes.push(format!(
            "the CI principal is a placeholder: pass {flag} with the ARN of the role CI runs as"
        ));
    }
    notes.extend(extra_notes);
    RoleIam {
        name: name.into(),
        side,
        account_id: None,
        role_arn: (principal != placeholder).then(|| principal.to_string()),
        uses: vec!["ci".into()],
        trust_policy: None,
        policy: statements.document(Side::Apply),
        notes,
    }
}

/// The role name (and path) of a role ARN: `arn:aws:iam::1:role/path/name` → (`/path/`, `name`).
fn role_name(arn: &str) -> Option<(String, String)> {
    let resource = arn.split_once(":role/")?.1;
    match resource.rsplit_once('/') {
        Some((path, name)) => Some((format!("/{path}/"), name.to_string())),
        None => Some(("/".to_string(), resource.to_string())),
    }
}

/// The name that tells a role's policies apart: an account role's name gets `-plan` appended
/// on the plan side (the CI principals' names already differ).
fn policy_suffix(role: &RoleIam) -> String {
    match (role.side, &role.account_id) {
        (Side::Plan, Some(_)) => format!("{}-plan", role.name),
        _ => role.name.clone(),
    }
}

/// A Terraform identifier for a role.
fn tf_ident(role: &RoleIam) -> String {
    let mut id: String = policy_suffix(role)
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    if id.starts_with(|c: char| c.is_ascii_digit()) {
        id.insert(0, '_');
    }
    format!("reko_promote_{id}")
}

/// A JSON value as an HCL expression: JSON objects and arrays are valid HCL, except that `${`
/// would start an interpolation.
fn hcl(value: &Value) -> String {
    serde_json::to_string_pretty(value)
        .expect("JSON values serialize")
        .replace("${", "$${")
        .replace('\n', "\n  ")
}

/// Terraform: one `aws_iam_role` + `aws_iam_role_policy` per account role (each applied with a
/// provider for that account), and the CI principal's inline policy.
pub fn terraform(report: &IamReport) -> String {
    let mut out = String::from(
        "# Generated by `reko-promote iam --format terraform`.\n# Each role lives in its own account: give every resource the `provider` of that account.\n",
    );
    for role in &report.roles {
        out.push('\n');
        for note in &role.notes {
            out.push_str(&format!("# Note: {note}\n"));
        }
        let id = tf_ident(role);
        let principal = report.principal(role.side);
        match (
            &role.trust_policy,
            role.role_arn.as_deref().and_then(role_name),
        ) {
            (Some(trust), Some((path, name))) => {
                out.push_str(&format!(
                    "# Account {} ({})\nresource \"aws_iam_role\" \"{id}\" {{\n  name = \"{name}\"\n  path = \"{path}\"\n  assume_role_policy = jsonencode({})\n}}\n\n",
                    role.name,
                    role.account_id.as_deref().unwrap_or(""),
                    hcl(trust)
                ));
                out.push_str(&format!(
                    "resource \"aws_iam_role_policy\" \"{id}\" {{\n  name = \"reko-promote\"\n  role = aws_iam_role.{id}.id\n  policy = jsonencode({})\n}}\n",
                    hcl(&role.policy)
                ));
            }
            _ => {
                // The CI principal (or an account used with ambient credentials): attach the
                // policy to the role CI runs as, which this configuration does not create.
                let target = role_name(principal)
                    .map(|(_, name)| format!("\"{name}\""))
                    .unwrap_or_else(|| "\"CI_ROLE_NAME\"".into());
                out.push_str(&format!(
                    "# Attach to the role CI runs as ({principal}).\nresource \"aws_iam_role_policy\" \"{id}\" {{\n  name = \"reko-promote-{}\"\n  role = {target}\n  policy = jsonencode({})\n}}\n",
                    policy_suffix(role),
                    hcl(&role.policy)
                ));
            }
        }
    }
    out
}

/// CloudFormation: one YAML template per account (deploy each in its account, or as a StackSet),
/// separated by `---`.
pub fn cloudformation(report: &IamReport) -> String {
    let mut out = String::new();
    for role in &report.roles {
        let id: String = format!("RekoPromote{}", pascal(&policy_suffix(role)));
        let principal = report.principal(role.side);
        let resource = match (
            &role.trust_policy,
            role.role_arn.as_deref().and_then(role_name),
        ) {
            (Some(trust), Some((path, name))) => json!({
                "Type": "AWS::IAM::Role",
                "Properties": {
                    "RoleName": name,
                    "Path": path,
                    "AssumeRolePolicyDocument": trust,
                    "Policies": [{ "PolicyName": "reko-promote", "PolicyDocument": role.policy }],
                }
            }),
            _ => json!({
                "Type": "AWS::IAM::RolePolicy",
                "Properties": {
                    "RoleName": role_name(principal).map(|(_, n)| n).unwrap_or_else(|| "CI_ROLE_NAME".into()),
                    "PolicyName": format!("reko-promote-{}", policy_suffix(role)),
                    "PolicyDocument": role.policy,
                }
            }),
        };
        let template = json!({
            "AWSTemplateFormatVersion": "2010-09-09",
            "Description": format!("reko-promote IAM for {} ({})", policy_suffix(role), role.account_id.as_deref().unwrap_or("the CI account")),
            "Resources": { id: resource },
        });
        out.push_str("---\n");
        out.push_str(&format!(
            "# Deploy in account {}.\n",
            role.account_id.as_deref().unwrap_or("of the CI principal")
        ));
        for note in &role.notes {
            out.push_str(&format!("# Note: {note}\n"));
        }
        out.push_str(&serde_yaml::to_string(&template).expect("JSON values serialize as YAML"));
    }
    out
}

fn pascal(name: &str) -> String {
    name.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|s| !s.is_empty())
        .map(|s| {
            let mut c = s.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::desired::{Account, OutputConfig, Placement};

    fn project(account_id: &str, name: &str) -> ProjectRef {
        ProjectRef {
            account_id: account_id.into(),
            region: "eu-west-1".into(),
            name: name.into(),
            arn: None,
        }
    }

    fn placement(source: &str, destination: &str, kms: Option<&str>) -> Placement {
        let id = |name: &str| {
            if name == "ml" {
                "111111111111"
            } else {
                "222222222222"
            }
        };
        Placement {
            promotion: "p".into(),
            destination: destination.into(),
            region: "eu-west-1".into(),
            source_account: source.into(),
            source_project: project(id(source), "src"),
            source_version: "v1".into(),
            source_version_arn: None,
            manage_policy: false,
            policy_scope: Default::default(),
            destination_account: destination.into(),
            destination_project: project(id(destination), "dst"),
            version_name: "v1".into(),
            output_config: OutputConfig {
                s3_bucket: "bucket".into(),
                s3_key_prefix: None,
            },
            kms_key_id: kms.map(str::to_string),
            tags: Default::default(),
            origin: Default::default(),
            lifecycle: Default::default(),
        }
    }

    fn statement<'a>(role: &'a RoleIam, sid: &str) -> Option<&'a Value> {
        role.policy["Statement"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["Sid"].as_str().is_some_and(|s| s.starts_with(sid)))
    }

    /// An ambient `ml` account and a `prod` account with a role.
    fn accounts() -> Vec<Account> {
        vec![
            Account {
                name: "ml".into(),
                account_id: "111111111111".into(),
                role_arn: None,
                plan_role_arn: None,
                external_id: None,
            },
            Account {
                name: "prod".into(),
                account_id: "222222222222".into(),
                role_arn: Some("arn:aws:iam::222222222222:role/x/reko".into()),
                plan_role_arn: None,
                external_id: None,
            },
        ]
    }

    #[test]
    fn ambient_accounts_same_account_copies_and_key_forms() {
        let desired = DesiredState {
            accounts: accounts(),
            placements: vec![
                // Same account: no project policy is read or written.
                placement(
                    "ml",
                    "ml",
                    Some("arn:aws:kms:eu-west-1:111111111111:alias/k"),
                ),
                placement("ml", "prod", Some("1234abcd-12ab-34cd-56ef-1234567890ab")),
            ],
            serving: Vec::new(),
            partial: false,
        };
        let report = compute(
            &desired,
            CI_PRINCIPAL_PLACEHOLDER,
            CI_PLAN_PRINCIPAL_PLACEHOLDER,
        );
        let [ci, ci_plan, ml, ml_plan, prod, prod_plan] = report.roles.as_slice() else {
            panic!("{report:?}")
        };
        // The plan side: the plan principal assumes only the plan roles (prod's is suggested,
        // beside its apply role); ml is ambient on both sides; plan roles only read.
        assert_eq!(
            statement(ci_plan, "AssumeRekoPromoteRoles").unwrap()["Resource"],
            json!(["arn:aws:iam::222222222222:role/x/reko-plan"])
        );
        assert!(
            ci_plan
                .notes
                .iter()
                .any(|n| n.contains("account prod declares no planRoleArn"))
        );
        assert!(ml_plan.trust_policy.is_none());
        assert_eq!(
            prod_plan.trust_policy.as_ref().unwrap()["Statement"][0]["Principal"]["AWS"],
            CI_PLAN_PRINCIPAL_PLACEHOLDER
        );
        for plan_role in [ml_plan, prod_plan] {
            assert_eq!(plan_role.side, Side::Plan);
            let actions: Vec<&str> = plan_role.policy["Statement"]
                .as_array()
                .unwrap()
                .iter()
                .flat_map(|s| s["Action"].as_array().unwrap())
                .map(|a| a.as_str().unwrap())
                .collect();
            assert!(!actions.is_empty());
            assert!(
                actions
                    .iter()
                    .all(|a| a.starts_with("rekognition:Describe")
                        || a.starts_with("rekognition:List")),
                "{actions:?}"
            );
        }
        // CI assumes only the declared role; the ambient account is noted, and the placeholder.
        assert_eq!(
            statement(ci, "AssumeRekoPromoteRoles").unwrap()["Resource"],
            json!(["arn:aws:iam::222222222222:role/x/reko"])
        );
        assert!(
            ci.notes
                .iter()
                .any(|n| n.contains("account ml has no roleArn"))
        );
        assert!(ci.notes.iter().any(|n| n.contains("placeholder")));
        assert!(ml.trust_policy.is_none());
        // ml copies into itself and is the source of a cross-account copy without managePolicy.
        assert!(statement(ml, "CopyProjectVersions").is_some());
        assert!(statement(ml, "ReadProjectPolicies").is_some());
        assert!(statement(ml, "WriteManagedProjectPolicies").is_none());
        let kms = statement(ml, "Kms").unwrap();
        assert_eq!(
            kms["Resource"],
            json!(["arn:aws:kms:eu-west-1:111111111111:key/*"])
        );
        assert_eq!(
            kms["Condition"]["ForAnyValue:StringEquals"]["kms:ResourceAliases"],
            "alias/k"
        );
        let kms = statement(prod, "Kms").unwrap();
        assert_eq!(
            kms["Resource"],
            json!(["arn:aws:kms:eu-west-1:222222222222:key/1234abcd-12ab-34cd-56ef-1234567890ab"])
        );
        assert!(kms.get("Condition").is_none());
        assert_eq!(
            statement(prod, "WriteCopyOutput").unwrap()["Resource"],
            json!(["arn:aws:s3:::bucket/*"])
        );
        // Even without manifest tags, the copy carries reko-promote's ownership tag: tag-on-create
        // needs TagResource on the new version.
        assert_eq!(
            statement(prod, "TagCopiedVersions").unwrap()["Action"],
            json!(["rekognition:TagResource"])
        );
        let terraform = terraform(&report);
        assert!(terraform.contains("path = \"/x/\""));
    }

    #[test]
    fn tags_are_read_only_where_require_tags_gates_ask() {
        let mut gated = placement("ml", "prod", None);
        let plain = compute(
            &DesiredState {
                accounts: accounts(),
                placements: vec![gated.clone()],
                serving: Vec::new(),
                partial: false,
            },
            "arn:aws:iam::444444444444:role/ci",
            "arn:aws:iam::444444444444:role/ci-plan",
        );
        assert!(
            !serde_json::to_string(&plain.roles)
                .unwrap()
                .contains("ListTagsForResource")
        );
        gated
            .lifecycle
            .gates
            .require_tags
            .insert("approved".into(), "true".into());
        let with_tags = compute(
            &DesiredState {
                accounts: accounts(),
                placements: vec![gated],
                serving: Vec::new(),
                partial: false,
            },
            "arn:aws:iam::444444444444:role/ci",
            "arn:aws:iam::444444444444:role/ci-plan",
        );
        let json = serde_json::to_string(&with_tags.roles).unwrap();
        assert!(json.contains("rekognition:ListTagsForResource"));
        assert!(json.contains("project/src/version/v1/"), "{json}");
    }

    #[test]
    fn serving_and_prune_permissions_only_for_destinations_that_use_them() {
        let base = DesiredState {
            accounts: accounts(),
            placements: vec![placement("ml", "prod", None)],
            serving: Vec::new(),
            partial: false,
        };
        let apply_role = |desired: &DesiredState| -> String {
            let report = compute(desired, "arn:aws:iam::1:role/ci", "arn:aws:iam::1:role/p");
            let role = report
                .roles
                .iter()
                .find(|r| r.name == "prod" && r.side == Side::Apply)
                .unwrap();
            serde_json::to_string(&role.policy).unwrap()
        };
        let plain = apply_role(&base);
        for action in [
            "StartProjectVersion",
            "StopProjectVersion",
            "DeleteProjectVersion",
            "ListTagsForResource",
        ] {
            assert!(!plain.contains(action), "{action} in {plain}");
        }
        // Every copy carries the ownership tag: tag-on-create needs TagResource.
        assert!(plain.contains("rekognition:TagResource"), "{plain}");

        let serving = |running: bool, prune: bool| crate::desired::Serving {
            promotion: "p".into(),
            destination: "prod".into(),
            source_account: "ml".into(),
            account: "prod".into(),
            project: project("222222222222", "dst"),
            running: running.then(|| crate::desired::Running {
                version_name: "v1".into(),
                units: crate::desired::InferenceUnits { min: 1, max: None },
            }),
            prune,
            origin: Default::default(),
        };
        let with = |running, prune| {
            apply_role(&DesiredState {
                serving: vec![serving(running, prune)],
                ..base.clone()
            })
        };
        let running = with(true, false);
        assert!(
            running.contains("rekognition:StartProjectVersion"),
            "{running}"
        );
        assert!(running.contains("rekognition:StopProjectVersion"));
        assert!(running.contains("rekognition:ListTagsForResource"));
        assert!(running.contains("project/dst/version/*"), "{running}");
        assert!(!running.contains("DeleteProjectVersion"));
        let prune = with(false, true);
        assert!(
            prune.contains("rekognition:DeleteProjectVersion"),
            "{prune}"
        );
        assert!(!prune.contains("StartProjectVersion"));
    }

    #[test]
    fn role_names_and_identifiers() {
        assert_eq!(
            role_name("arn:aws:iam::1:role/a/b/name"),
            Some(("/a/b/".into(), "name".into()))
        );
        assert_eq!(
            role_name("arn:aws:iam::1:role/name"),
            Some(("/".into(), "name".into()))
        );
        let role = |side| RoleIam {
            name: "prod-eu".into(),
            side,
            account_id: Some("222222222222".into()),
            role_arn: None,
            uses: vec![],
            trust_policy: None,
            policy: json!({}),
            notes: vec![],
        };
        assert_eq!(tf_ident(&role(Side::Apply)), "reko_promote_prod_eu");
        assert_eq!(tf_ident(&role(Side::Plan)), "reko_promote_prod_eu_plan");
        assert_eq!(pascal("prod-eu"), "ProdEu");
        assert_eq!(hcl(&json!("${x}")), "\"$${x}\"");
    }
}
