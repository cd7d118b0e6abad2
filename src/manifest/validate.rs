//! Checks of each loaded document: values against AWS's constraints, references, ARNs, regions.
//!
//! Everything here is offline and reports findings rather than failing, so one run shows every
//! problem. Checks that need the placements themselves (merged settings, collisions between
//! promotions) are `resolve`'s; the AWS rules themselves live in `crate::constraints`.

use std::collections::{BTreeMap, BTreeSet};

use crate::constraints::{self, ConstraintViolation};
use crate::desired::PolicyScope;

use super::findings::{Code, Finding};
use super::load::{DocRef, Documents, closest};
use super::model::{AccountManifest, CopySettings, PromotionManifest};
use super::yaml::FieldPath;

/// Names of accounts, promotions and destinations: readable identifiers.
pub fn check_local_name(value: &str) -> Result<(), ConstraintViolation> {
    let ok = (1..=64).contains(&value.len())
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
        && value
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric());
    if ok {
        Ok(())
    } else {
        Err(ConstraintViolation {
            allowed: "1 to 64 characters of letters, digits, `_`, `.` and `-`, starting with a \
                      letter or digit"
                .into(),
        })
    }
}

/// Collects findings for one document under its label.
pub struct Checker<'a> {
    pub docs: &'a Documents,
    pub findings: &'a mut Vec<Finding>,
}

impl Checker<'_> {
    pub fn error(
        &mut self,
        code: Code,
        at: DocRef,
        label: &str,
        path: &FieldPath,
        message: impl Into<String>,
    ) -> &mut Finding {
        let finding = self.docs.finding(code, at, label, path, message);
        self.findings.push(finding);
        self.findings.last_mut().expect("just pushed")
    }

    /// Reports `check(value)` failing as an invalid value at `path`.
    pub fn value(
        &mut self,
        at: DocRef,
        label: &str,
        path: &FieldPath,
        value: &str,
        check: impl Fn(&str) -> Result<(), ConstraintViolation>,
    ) -> bool {
        match check(value) {
            Ok(()) => true,
            Err(violation) => {
                let shown = if value.chars().count() > 80 {
                    format!("a value of {} characters", value.chars().count())
                } else {
                    format!("`{value}`")
                };
                let field = path.last_key().unwrap_or("value");
                let finding = self.error(
                    Code::InvalidValue,
                    at,
                    label,
                    path,
                    format!("invalid {field} {shown}"),
                );
                finding.allowed = Some(violation.allowed);
                false
            }
        }
    }

    /// Checks the values of one settings level. `region` is the promotion's region, when the
    /// level belongs to one (account defaults serve every region).
    pub fn settings(
        &mut self,
        at: DocRef,
        label: &str,
        path: &FieldPath,
        settings: &CopySettings,
        region: Option<&str>,
    ) {
        if let Some(output) = &settings.output_config {
            let out = path.key("outputConfig");
            if let Some(bucket) = &output.s3_bucket {
                self.value(
                    at,
                    label,
                    &out.key("s3Bucket"),
                    bucket,
                    constraints::check_s3_bucket,
                );
            }
            if let Some(prefix) = &output.s3_key_prefix {
                self.value(
                    at,
                    label,
                    &out.key("s3KeyPrefix"),
                    prefix,
                    constraints::check_s3_key_prefix,
                );
            }
        }
        if let Some(kms) = settings.kms_key_id.as_deref() {
            let kms_path = path.key("kmsKeyId");
            if self.value(at, label, &kms_path, kms, constraints::check_kms_key_id)
                && let (Some(region), Some((key_region, _))) =
                    (region, constraints::kms_arn_region_account(kms))
                && key_region != region
            {
                self.error(
                    Code::CrossRegion,
                    at,
                    label,
                    &kms_path,
                    format!("the KMS key is in {key_region}, but the copies are made in {region}"),
                )
                .allowed = Some(format!("a KMS key in {region} (KMS keys are regional)"));
            }
        }
        if let Some(tags) = &settings.tags {
            self.tags(at, label, &path.key("tags"), tags);
        }
    }

    /// An `undeclared-destination` error for `name`, with a did-you-mean among `declared`.
    pub fn undeclared_destination(
        &mut self,
        at: DocRef,
        label: &str,
        path: &FieldPath,
        name: &str,
        declared: &[&str],
        message: String,
    ) -> &mut Finding {
        let hint = closest(name, declared.iter().copied()).map(|b| format!("did you mean `{b}`?"));
        let finding = self.error(Code::UndeclaredDestination, at, label, path, message);
        finding.hint = hint;
        finding
    }

    pub fn tags(
        &mut self,
        at: DocRef,
        label: &str,
        path: &FieldPath,
        tags: &BTreeMap<String, String>,
    ) {
        if tags.len() > constraints::MAX_TAGS {
            self.error(
                Code::TooManyTags,
                at,
                label,
                path,
                format!("{} tags", tags.len()),
            )
            .allowed = Some(format!(
                "at most {} tags per version",
                constraints::MAX_TAGS
            ));
        }
        for (key, value) in tags {
            let key_path = path.key(key);
            if key.starts_with(super::model::RESERVED_TAG_PREFIX) {
                self.error(
                    Code::InvalidValue,
                    at,
                    label,
                    &key_path,
                    format!("tag key `{key}` is reserved for reko-promote's own tags"),
                )
                .allowed = Some(format!(
                    "a tag key not starting with `{}` (apply tags every copy it makes with `{}`)",
                    super::model::RESERVED_TAG_PREFIX,
                    super::model::OWNERSHIP_TAG
                ));
                continue;
            }
            match constraints::check_tag_key(key) {
                Ok(()) => {
                    if let Err(violation) = constraints::check_tag_value(value) {
                        let shown = if value.chars().count() > 80 {
                            format!("a value of {} characters", value.chars().count())
                        } else {
                            format!("`{value}`")
                        };
                        self.error(
                            Code::InvalidValue,
                            at,
                            label,
                            &key_path,
                            format!("invalid value of tag `{key}`: {shown}"),
                        )
                        .allowed = Some(violation.allowed);
                    }
                }
                Err(violation) => {
                    let shown: String = key.chars().take(80).collect();
                    self.error(
                        Code::InvalidValue,
                        at,
                        label,
                        &key_path,
                        format!("invalid tag key `{shown}`"),
                    )
                    .allowed = Some(violation.allowed);
                }
            }
        }
    }
}

/// The accounts that validated, by name, with the document each came from.
pub type AccountTable<'a> = BTreeMap<String, (DocRef, &'a AccountManifest)>;

/// Checks every account document and returns the usable ones by name.
pub fn check_accounts<'a>(docs: &'a Documents, findings: &mut Vec<Finding>) -> AccountTable<'a> {
    let mut table: AccountTable<'a> = BTreeMap::new();
    let mut by_id: BTreeMap<&str, (DocRef, &str)> = BTreeMap::new();
    let mut c = Checker { docs, findings };
    for (at, account) in &docs.accounts {
        let at = *at;
        let label = format!("accounts[{}]", account.name);
        let root = FieldPath::root();
        c.value(
            at,
            &label,
            &root.key("name"),
            &account.name,
            check_local_name,
        );
        let id_ok = c.value(
            at,
            &label,
            &root.key("accountId"),
            &account.account_id,
            constraints::check_account_id,
        );
        // Both roles act in this account: each must belong to it.
        let roles = [
            ("roleArn", &account.role_arn),
            ("planRoleArn", &account.plan_role_arn),
        ];
        for (field, role) in roles {
            let Some(role) = role else { continue };
            match constraints::RoleArn::parse(role) {
                Ok(arn) if id_ok && arn.account_id != account.account_id => {
                    c.error(
                        Code::ArnMismatch,
                        at,
                        &label,
                        &root.key(field),
                        format!(
                            "the role is in account {}, but this account is {}",
                            arn.account_id, account.account_id
                        ),
                    )
                    .allowed = Some(format!(
                        "a role in account {} (reko-promote acts in an account through a role of \
                         that account)",
                        account.account_id
                    ));
                }
                Ok(_) => {}
                Err(violation) => {
                    c.value(at, &label, &root.key(field), role, |_| {
                        Err(violation.clone())
                    });
                }
            }
        }
        if let Some(external_id) = &account.external_id {
            c.value(
                at,
                &label,
                &root.key("externalId"),
                external_id,
                constraints::check_external_id,
            );
            if account.role_arn.is_none() {
                c.error(
                    Code::InvalidValue,
                    at,
                    &label,
                    &root.key("externalId"),
                    "externalId is set but roleArn is not: an external id is only used when \
                     assuming a role",
                )
                .hint = Some("add roleArn, or remove externalId".into());
            }
        }
        if let Some(defaults) = &account.defaults {
            c.settings(at, &label, &root.key("defaults"), defaults, None);
        }
        if let Some((first, _)) = table.get(&account.name) {
            let first = docs.describe_location(*first, &root.key("name"));
            c.error(
                Code::DuplicateName,
                at,
                &label,
                &root.key("name"),
                format!("account `{}` is declared twice", account.name),
            )
            .hint = Some(format!(
                "it is first declared in {first}; names must be unique"
            ));
            continue;
        }
        if id_ok {
            if let Some((_, other)) = by_id.get(account.account_id.as_str()) {
                c.error(
                    Code::DuplicateAccountId,
                    at,
                    &label,
                    &root.key("accountId"),
                    format!(
                        "account ID {} is already declared as account `{other}`",
                        account.account_id
                    ),
                )
                .hint = Some("declare each AWS account once and refer to it by that name".into());
            } else {
                by_id.insert(&account.account_id, (at, &account.name));
            }
        }
        table.insert(account.name.clone(), (at, account));
    }
    table
}

/// Checks one promotion document on its own (values, references, ARNs); returns whether it can
/// be resolved into placements.
pub fn check_promotion(
    docs: &Documents,
    at: DocRef,
    promotion: &PromotionManifest,
    accounts: &AccountTable<'_>,
    findings: &mut Vec<Finding>,
) -> bool {
    let before = findings.len();
    let mut c = Checker { docs, findings };
    let label = format!("promotions[{}]", promotion.name);
    let root = FieldPath::root();
    c.value(
        at,
        &label,
        &root.key("name"),
        &promotion.name,
        check_local_name,
    );
    let region_ok = c.value(
        at,
        &label,
        &root.key("region"),
        &promotion.region,
        constraints::check_region,
    );
    let region = region_ok.then_some(promotion.region.as_str());

    // The source.
    let source_path = root.key("source");
    let source_account = account_ref(
        &mut c,
        at,
        &label,
        &source_path.key("account"),
        &promotion.source.account,
        accounts,
    );
    // An account missing without a finding (its document failed to load) leaves the promotion
    // unresolvable all the same.
    let mut accounts_found = source_account.is_some();
    let source_project = project_ref(
        &mut c,
        at,
        &label,
        &source_path.key("project"),
        &promotion.source.project,
        source_account,
        region,
        false,
    );
    if let Some(scope) = &promotion.source.policy_scope {
        policy_scope(&mut c, at, &label, &source_path.key("policyScope"), scope);
    }
    if let Some(defaults) = &promotion.defaults {
        c.settings(at, &label, &root.key("defaults"), defaults, region);
    }

    // The destinations.
    let dest_path = root.key("destinations");
    if promotion.destinations.is_empty() {
        c.error(
            Code::Empty,
            at,
            &label,
            &dest_path,
            "the promotion has no destination",
        )
        .allowed = Some("at least one destination: `NAME: { account: ..., project: ... }`".into());
    }
    for (name, destination) in &promotion.destinations {
        let path = dest_path.key(name);
        c.value(at, &label, &path, name, check_local_name);
        let account = account_ref(
            &mut c,
            at,
            &label,
            &path.key("account"),
            &destination.account,
            accounts,
        );
        accounts_found &= account.is_some();
        project_ref(
            &mut c,
            at,
            &label,
            &path.key("project"),
            &destination.project,
            account,
            region,
            true,
        );
        c.settings(at, &label, &path, &destination.settings(), region);
    }

    // The versions.
    let versions_path = root.key("versions");
    if promotion.versions.is_empty() {
        c.error(
            Code::Empty,
            at,
            &label,
            &versions_path,
            "the promotion has no version to promote",
        )
        .allowed = Some("at least one entry `- version: NAME`".into());
    }
    let mut used: BTreeSet<&str> = BTreeSet::new();
    for (i, entry) in promotion.versions.iter().enumerate() {
        let path = versions_path.index(i);
        version_ref(
            &mut c,
            at,
            &label,
            &path.key("version"),
            &entry.version,
            source_project.as_ref(),
            region,
        );
        if let Some(name) = &entry.version_name {
            c.value(
                at,
                &label,
                &path.key("versionName"),
                name,
                constraints::check_name,
            );
        }
        match &entry.to {
            None => used.extend(promotion.destinations.keys().map(String::as_str)),
            Some(to) => {
                if to.is_empty() {
                    c.error(Code::Empty, at, &label, &path.key("to"), "`to` is empty")
                        .allowed = Some(
                        "one or more destination names; leave `to` out to send the version to \
                         every destination"
                            .into(),
                    );
                }
                let mut seen = BTreeSet::new();
                for (j, target) in to.iter().enumerate() {
                    let target_path = path.key("to").index(j);
                    if !seen.insert(target.as_str()) {
                        c.error(
                            Code::DuplicateVersion,
                            at,
                            &label,
                            &target_path,
                            format!("destination `{target}` is listed twice"),
                        );
                    } else if promotion.destinations.contains_key(target) {
                        used.insert(target);
                    } else {
                        let declared: Vec<&str> =
                            promotion.destinations.keys().map(String::as_str).collect();
                        c.undeclared_destination(
                            at,
                            &label,
                            &target_path,
                            target,
                            &declared,
                            format!("destination `{target}` is not declared in this promotion"),
                        )
                        .allowed = Some(format!(
                            "one of this promotion's destinations: {}",
                            declared.join(", ")
                        ));
                    }
                }
            }
        }
        c.settings(at, &label, &path, &entry.settings(), region);
    }
    for name in promotion.destinations.keys() {
        if !used.contains(name.as_str()) {
            let mut finding = docs.finding(
                Code::UnusedDestination,
                at,
                &label,
                &dest_path.key(name),
                format!("no version is sent to destination `{name}`"),
            );
            finding.severity = super::findings::Severity::Warning;
            finding.hint = Some("add it to a version's `to`, or remove it".into());
            c.findings.push(finding);
        }
    }
    super::chains::check(&mut c, at, &label, promotion);
    super::serving::check(&mut c, at, &label, promotion);
    accounts_found
        && !c.findings[before..]
            .iter()
            .any(|f| f.severity == super::findings::Severity::Error)
}

/// `source.policyScope`: one of the scopes' manifest names.
fn policy_scope(c: &mut Checker<'_>, at: DocRef, label: &str, path: &FieldPath, value: &str) {
    if PolicyScope::from_manifest_name(value).is_some() {
        return;
    }
    let finding = c.error(
        Code::InvalidValue,
        at,
        label,
        path,
        format!("unknown policyScope `{value}`"),
    );
    let allowed: Vec<String> = PolicyScope::ALL
        .into_iter()
        .map(|scope| {
            let grants = match scope {
                PolicyScope::Versions => "the exact version ARNs, the default",
                PolicyScope::VersionNames => "`.../version/NAME/*`",
                PolicyScope::Project => "`.../version/*`",
            };
            format!("`{}` ({grants})", scope.manifest_name())
        })
        .collect();
    finding.allowed = Some(allowed.join(", "));
    if let Some(best) = closest(
        value,
        PolicyScope::ALL.into_iter().map(PolicyScope::manifest_name),
    ) {
        finding.hint = Some(format!("did you mean `{best}`?"));
    }
}

fn account_ref<'a>(
    c: &mut Checker<'_>,
    at: DocRef,
    label: &str,
    path: &FieldPath,
    name: &str,
    accounts: &AccountTable<'a>,
) -> Option<&'a AccountManifest> {
    if let Some((_, account)) = accounts.get(name) {
        return Some(account);
    }
    if c.docs.incomplete {
        // The declaration may be in a document that failed to load; its error is reported.
        return None;
    }
    let declared: Vec<&str> = accounts.keys().map(String::as_str).collect();
    let finding = c.error(
        Code::UndeclaredAccount,
        at,
        label,
        path,
        format!("account `{name}` is not declared"),
    );
    finding.allowed = Some(if declared.is_empty() {
        "the name of a `kind: Account` document (none is declared)".into()
    } else {
        format!("a declared account: {}", declared.join(", "))
    });
    if let Some(best) = closest(name, declared.iter().copied()) {
        finding.hint = Some(format!("did you mean `{best}`?"));
    }
    None
}

/// A project given by name or ARN, checked against the account and region it is declared under.
/// Returns (account id, project name) when usable.
#[allow(clippy::too_many_arguments)]
fn project_ref(
    c: &mut Checker<'_>,
    at: DocRef,
    label: &str,
    path: &FieldPath,
    value: &str,
    account: Option<&AccountManifest>,
    region: Option<&str>,
    is_destination: bool,
) -> Option<(String, String)> {
    if !value.starts_with("arn:") {
        return c
            .value(at, label, path, value, constraints::check_name)
            .then(|| account.map(|a| (a.account_id.clone(), value.to_string())))
            .flatten();
    }
    let arn = match constraints::ProjectArn::parse(value) {
        Ok(arn) => arn,
        Err(violation) => {
            c.value(at, label, path, value, |_| Err(violation.clone()));
            return None;
        }
    };
    let mut ok = true;
    if let Some(region) = region
        && arn.region != region
    {
        ok = false;
        let (code, message, allowed) = if is_destination {
            (
                Code::CrossRegion,
                format!(
                    "the destination project is in {}, but the source is in {region}: \
                     CopyProjectVersion copies only within one region",
                    arn.region
                ),
                format!(
                    "a project in {region}, or a separate promotion for {}",
                    arn.region
                ),
            )
        } else {
            (
                Code::ArnMismatch,
                format!(
                    "the project ARN is in region {}, but the promotion's region is {region}",
                    arn.region
                ),
                format!("an ARN in {region}, or `region: {}`", arn.region),
            )
        };
        c.error(code, at, label, path, message).allowed = Some(allowed);
    }
    if let Some(account) = account
        && arn.account_id != account.account_id
    {
        ok = false;
        c.error(
            Code::ArnMismatch,
            at,
            label,
            path,
            format!(
                "the project ARN is in account {}, but it is declared under account `{}` ({})",
                arn.account_id, account.name, account.account_id
            ),
        )
        .allowed = Some(format!(
            "a project of account {} (or the account that owns {})",
            account.account_id, arn.account_id
        ));
    }
    if ok {
        account.map(|a| (a.account_id.clone(), arn.project))
    } else {
        None
    }
}

/// A source version given by name or ARN; an ARN must belong to the source project.
fn version_ref(
    c: &mut Checker<'_>,
    at: DocRef,
    label: &str,
    path: &FieldPath,
    value: &str,
    source: Option<&(String, String)>,
    region: Option<&str>,
) {
    if !value.starts_with("arn:") {
        c.value(at, label, path, value, constraints::check_name);
        return;
    }
    match constraints::ProjectVersionArn::parse(value) {
        Err(violation) => {
            c.value(at, label, path, value, |_| Err(violation.clone()));
        }
        Ok(arn) => {
            if let Some(region) = region
                && arn.region != region
            {
                c.error(
                    Code::ArnMismatch,
                    at,
                    label,
                    path,
                    format!(
                        "the version ARN is in region {}, but the promotion's region is {region}",
                        arn.region
                    ),
                )
                .allowed = Some(format!("a version ARN in {region}"));
            }
            if let Some((account_id, project)) = source
                && (arn.account_id != *account_id || arn.project != *project)
            {
                c.error(
                    Code::ArnMismatch,
                    at,
                    label,
                    path,
                    format!(
                        "the version ARN belongs to project `{}` of account {}, not to the \
                         source project `{project}` of account {account_id}",
                        arn.project, arn.account_id
                    ),
                )
                .allowed = Some("a version of the source project, by name or ARN".into());
            }
        }
    }
}
