//! AWS value constraints and ARN formats, as the Rekognition and STS service models state them.
//!
//! Both sides of the product check values against the same rules: the manifest validator (so a bad
//! value is caught in review, before any AWS call) and the sandbox (so it rejects what AWS rejects).
//! Each check returns `Err(ConstraintViolation)` saying what is allowed; callers add where the value
//! came from. The patterns are copied from `shared/aws-models/rekognition-2016-06-27.service-2.json`
//! (shapes `ProjectName`, `VersionName`, `ProjectArn`, `ProjectVersionArn`, `KmsKeyId`, `TagKey`,
//! `TagValue`, `S3KeyPrefix`, `ProjectPolicyName`) and the IAM/STS documentation; nothing here talks
//! to the network.
//!
//! Every command pays for these checks at start-up, so they are plain character checks rather
//! than regexes: the patterns are ASCII (AWS's `\d` and `\w` are ASCII digits and word characters,
//! as the STS documentation spells out), and compiling Unicode-aware regexes cost tens of
//! milliseconds per process. The one Unicode pattern, tags' `[\p{L}\p{Z}\p{N}...]`, checks ASCII
//! by hand and compiles its regex only the first time a value holds a non-ASCII character. The
//! test `tests/integration/constraints_oracle.rs` compares each check with the model's regex.

use std::fmt;
use std::sync::LazyLock;

use regex::Regex;

/// Why a value breaks an AWS constraint: a sentence naming what is allowed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConstraintViolation {
    /// What is allowed, e.g. "1 to 255 characters of a-z, A-Z, 0-9, `_`, `.`, `-`".
    pub allowed: String,
}

impl fmt::Display for ConstraintViolation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "allowed: {}", self.allowed)
    }
}

impl std::error::Error for ConstraintViolation {}

type Check = Result<(), ConstraintViolation>;

fn violation(allowed: impl Into<String>) -> Check {
    Err(ConstraintViolation {
        allowed: allowed.into(),
    })
}

/// The tag pattern of the service model (`TagKey`, `TagValue`), for values holding a non-ASCII
/// character: letters, separators and numbers of any script. Compiled on first use only.
pub const TAG_PATTERN: &str = r"^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$";

static UNICODE_TAG_CHARS: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(TAG_PATTERN).expect("the tag pattern is valid"));

/// `[a-zA-Z0-9_.\-]`: project, version and project policy names.
fn is_name_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-')
}

/// `[a-z\d-]`: the partition and region fields of an ARN.
fn is_arn_field_char(b: u8) -> bool {
    b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'
}

/// `[\w+=,.@-]`: IAM role names and path segments, STS role session names.
fn is_iam_name_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'+' | b'=' | b',' | b'.' | b'@' | b'-')
}

/// `[A-Za-z0-9:_/+=,@.-]`: KMS key ids, aliases and ARN resources.
fn is_kms_char(b: u8) -> bool {
    b.is_ascii_alphanumeric()
        || matches!(
            b,
            b':' | b'_' | b'/' | b'+' | b'=' | b',' | b'@' | b'.' | b'-'
        )
}

/// `[\p{L}\p{Z}\p{N}_.:/=+\-@]` restricted to ASCII: the tag characters below 128.
fn is_ascii_tag_char(b: u8) -> bool {
    b.is_ascii_alphanumeric()
        || matches!(
            b,
            b' ' | b'_' | b'.' | b':' | b'/' | b'=' | b'+' | b'-' | b'@'
        )
}

/// Every byte of `value` passes `allowed` (each predicate admits ASCII only, so a non-ASCII
/// character always fails).
fn all(value: &str, allowed: fn(u8) -> bool) -> bool {
    value.bytes().all(allowed)
}

fn digits(value: &str) -> bool {
    !value.is_empty() && all(value, |b| b.is_ascii_digit())
}

fn is_account_id(value: &str) -> bool {
    value.len() == 12 && digits(value)
}

/// `[a-z\d-]+`.
fn is_arn_field(value: &str) -> bool {
    !value.is_empty() && all(value, is_arn_field_char)
}

/// `[a-zA-Z0-9_.\-]{1,255}`.
fn is_name(value: &str) -> bool {
    (1..=255).contains(&value.len()) && all(value, is_name_char)
}

/// `[a-z]+`.
fn is_lowercase_word(value: &str) -> bool {
    !value.is_empty() && all(value, |b| b.is_ascii_lowercase())
}

/// The six `:`-separated fields of an ARN: `arn`, partition, service, region, account, resource.
/// The resource is the rest of the value (it may hold `:`).
struct ArnFields<'a> {
    partition: &'a str,
    service: &'a str,
    region: &'a str,
    account: &'a str,
    resource: &'a str,
}

impl<'a> ArnFields<'a> {
    fn split(value: &'a str) -> Option<Self> {
        let mut fields = value.splitn(6, ':');
        if fields.next()? != "arn" {
            return None;
        }
        Some(ArnFields {
            partition: fields.next()?,
            service: fields.next()?,
            region: fields.next()?,
            account: fields.next()?,
            resource: fields.next()?,
        })
    }

    /// `arn:[a-z\d-]+:SERVICE:[a-z\d-]+:\d{12}:`, the head of Rekognition and KMS ARNs.
    fn regional(value: &'a str, service: &str) -> Option<Self> {
        let fields = Self::split(value)?;
        (fields.service == service
            && is_arn_field(fields.partition)
            && is_arn_field(fields.region)
            && is_account_id(fields.account))
        .then_some(fields)
    }
}

const NAME_ALLOWED: &str = "1 to 255 characters of a-z, A-Z, 0-9, `_`, `.` and `-`";

/// A project name (`ProjectName`) or version name (`VersionName`).
pub fn check_name(value: &str) -> Check {
    if is_name(value) {
        Ok(())
    } else {
        violation(NAME_ALLOWED)
    }
}

/// A project policy name (`ProjectPolicyName`).
pub fn check_policy_name(value: &str) -> Check {
    if (1..=128).contains(&value.len()) && all(value, is_name_char) {
        Ok(())
    } else {
        violation("1 to 128 characters of a-z, A-Z, 0-9, `_`, `.` and `-`")
    }
}

/// A 12-digit AWS account ID.
pub fn check_account_id(value: &str) -> Check {
    if is_account_id(value) {
        Ok(())
    } else {
        violation("exactly 12 digits, quoted so YAML keeps leading zeros (e.g. \"012345678901\")")
    }
}

/// An AWS region code such as `eu-west-1` or `us-gov-west-1`.
pub fn check_region(value: &str) -> Check {
    if is_region(value) {
        Ok(())
    } else {
        violation("an AWS region code such as `eu-west-1`, `us-east-1` or `us-gov-west-1`")
    }
}

/// `[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d{1,2}`: two letters, an optional `gov` or `iso`
/// qualifier, a word, a one- or two-digit number.
fn is_region(value: &str) -> bool {
    let Some((country, rest)) = value.split_at_checked(2) else {
        return false;
    };
    let Some(rest) = rest.strip_prefix('-') else {
        return false;
    };
    if !all(country, |b| b.is_ascii_lowercase()) {
        return false;
    }
    let parts: Vec<&str> = rest.split('-').collect();
    let (qualifier, word, number) = match parts[..] {
        [word, number] => (None, word, number),
        [qualifier, word, number] => (Some(qualifier), word, number),
        _ => return false,
    };
    let qualifier_ok = qualifier.is_none_or(|q| {
        q == "gov"
            || q.strip_prefix("iso").is_some_and(|letter| {
                letter.is_empty() || (letter.len() == 1 && is_lowercase_word(letter))
            })
    });
    qualifier_ok && is_lowercase_word(word) && (1..=2).contains(&number.len()) && digits(number)
}

/// The partition a region belongs to (`aws`, `aws-cn`, `aws-us-gov`, ...).
pub fn partition_of_region(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "aws-cn"
    } else if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else if region.starts_with("us-isob-") {
        "aws-iso-b"
    } else if region.starts_with("us-iso-") {
        "aws-iso"
    } else {
        "aws"
    }
}

/// An STS `ExternalId`.
pub fn check_external_id(value: &str) -> Check {
    if (2..=1224).contains(&value.len())
        && all(value, |b| is_iam_name_char(b) || b == b':' || b == b'/')
    {
        Ok(())
    } else {
        violation("2 to 1224 characters of letters, digits and `+=,.@:/-_`")
    }
}

/// An STS `RoleSessionName`.
pub fn check_role_session_name(value: &str) -> Check {
    if (2..=64).contains(&value.len()) && all(value, is_iam_name_char) {
        Ok(())
    } else {
        violation("2 to 64 characters of letters, digits and `+=,.@-_`")
    }
}

/// An S3 bucket name, by S3's naming rules for buckets (stricter than the model's `S3Bucket`
/// pattern, which also admits legacy names no new bucket can have).
pub fn check_s3_bucket(value: &str) -> Check {
    let ok = (3..=63).contains(&value.len())
        && all(value, |b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-'
        })
        && value.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
        && value.ends_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
        && !value.contains("..")
        && !value.starts_with("xn--")
        && !value.ends_with("-s3alias")
        && value.parse::<std::net::Ipv4Addr>().is_err();
    if ok {
        Ok(())
    } else {
        violation(
            "an S3 bucket name: 3 to 63 characters of lowercase letters, digits, `.` and `-`, \
             starting and ending with a letter or digit, no `..`, not an IP address",
        )
    }
}

/// An S3 key prefix (`S3KeyPrefix`: at most 1024 characters).
pub fn check_s3_key_prefix(value: &str) -> Check {
    if value.chars().count() <= 1024 {
        Ok(())
    } else {
        violation("at most 1024 characters")
    }
}

/// A KMS key reference (`KmsKeyId`): key id, key ARN, alias name or alias ARN.
pub fn check_kms_key_id(value: &str) -> Check {
    if value.len() > 2048
        || !value.starts_with(|c: char| c.is_ascii_alphanumeric())
        || !all(value, is_kms_char)
    {
        return violation(
            "a KMS key id, key ARN, alias name (`alias/NAME`) or alias ARN: 1 to 2048 characters \
             of letters, digits and `:_/+=,@.-`, starting with a letter or digit",
        );
    }
    if value.starts_with("arn:") && kms_arn_region_account(value).is_none() {
        return violation(
            "a KMS ARN of the form `arn:aws:kms:REGION:ACCOUNT:key/ID` or `...:alias/NAME`",
        );
    }
    Ok(())
}

/// The region and account of a KMS key ARN, when the value is an ARN.
pub fn kms_arn_region_account(value: &str) -> Option<(String, String)> {
    let arn = ArnFields::regional(value, "kms")?;
    let id = arn
        .resource
        .strip_prefix("key/")
        .or_else(|| arn.resource.strip_prefix("alias/"))?;
    (!id.is_empty() && all(id, is_kms_char))
        .then(|| (arn.region.to_string(), arn.account.to_string()))
}

/// A resource tag key (`TagKey`).
pub fn check_tag_key(key: &str) -> Check {
    let len = key.chars().count();
    if (1..=128).contains(&len)
        && is_tag_text(key)
        && !key
            .get(..4)
            .is_some_and(|head| head.eq_ignore_ascii_case("aws:"))
    {
        Ok(())
    } else {
        violation(
            "1 to 128 characters of letters, digits, spaces and `_.:/=+-@`, not starting with `aws:`",
        )
    }
}

/// A resource tag value (`TagValue`).
pub fn check_tag_value(value: &str) -> Check {
    if value.chars().count() <= 256 && is_tag_text(value) {
        Ok(())
    } else {
        violation("0 to 256 characters of letters, digits, spaces and `_.:/=+-@`")
    }
}

/// Only tag characters ([`TAG_PATTERN`]): by hand for ASCII, by the Unicode regex otherwise.
fn is_tag_text(value: &str) -> bool {
    if value.is_ascii() {
        all(value, is_ascii_tag_char)
    } else {
        UNICODE_TAG_CHARS.is_match(value)
    }
}

/// The most tags one resource may carry (`TagMap` max).
pub const MAX_TAGS: usize = 200;

/// A parsed Rekognition project ARN.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ProjectArn {
    pub partition: String,
    pub region: String,
    pub account_id: String,
    pub project: String,
    pub created_millis: String,
}

impl ProjectArn {
    pub fn parse(value: &str) -> Result<Self, ConstraintViolation> {
        let parse = || {
            let arn = ArnFields::regional(value, "rekognition")?;
            let (project, created) = arn.resource.strip_prefix("project/")?.split_once('/')?;
            (is_name(project) && digits(created)).then(|| Self {
                partition: arn.partition.into(),
                region: arn.region.into(),
                account_id: arn.account.into(),
                project: project.into(),
                created_millis: created.into(),
            })
        };
        parse().ok_or_else(|| ConstraintViolation {
            allowed: "a project ARN `arn:aws:rekognition:REGION:ACCOUNT:project/NAME/CREATED` \
                      (ProjectArn pattern)"
                .into(),
        })
    }
}

impl fmt::Display for ProjectArn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "arn:{}:rekognition:{}:{}:project/{}/{}",
            self.partition, self.region, self.account_id, self.project, self.created_millis
        )
    }
}

/// A parsed Rekognition project version ARN.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ProjectVersionArn {
    pub partition: String,
    pub region: String,
    pub account_id: String,
    pub project: String,
    pub version: String,
    pub created_millis: String,
}

impl ProjectVersionArn {
    pub fn parse(value: &str) -> Result<Self, ConstraintViolation> {
        let parse = || {
            let arn = ArnFields::regional(value, "rekognition")?;
            let parts: Vec<&str> = arn.resource.split('/').collect();
            let ["project", project, "version", version, created] = parts[..] else {
                return None;
            };
            (is_name(project) && is_name(version) && digits(created)).then(|| Self {
                partition: arn.partition.into(),
                region: arn.region.into(),
                account_id: arn.account.into(),
                project: project.into(),
                version: version.into(),
                created_millis: created.into(),
            })
        };
        parse().ok_or_else(|| ConstraintViolation {
            allowed: "a project version ARN \
                      `arn:aws:rekognition:REGION:ACCOUNT:project/NAME/version/VERSION/CREATED` \
                      (ProjectVersionArn pattern)"
                .into(),
        })
    }
}

impl fmt::Display for ProjectVersionArn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "arn:{}:rekognition:{}:{}:project/{}/version/{}/{}",
            self.partition,
            self.region,
            self.account_id,
            self.project,
            self.version,
            self.created_millis
        )
    }
}

/// A parsed IAM role ARN.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleArn {
    pub partition: String,
    pub account_id: String,
    pub path: String,
    pub name: String,
}

impl RoleArn {
    pub fn parse(value: &str) -> Result<Self, ConstraintViolation> {
        let parse = || {
            let arn = ArnFields::split(value)?;
            let partition_ok = matches!(arn.partition, "aws" | "aws-cn" | "aws-us-gov" | "aws-iso")
                || arn
                    .partition
                    .strip_prefix("aws-iso-")
                    .is_some_and(|letter| letter.len() == 1 && is_lowercase_word(letter));
            if !(partition_ok
                && arn.service == "iam"
                && arn.region.is_empty()
                && is_account_id(arn.account))
            {
                return None;
            }
            // `role/` then `(?:SEGMENT/)*` then the name, which holds no `/`.
            let resource = arn.resource.strip_prefix("role/")?;
            let (path, name) = match resource.rfind('/') {
                Some(slash) => resource.split_at(slash + 1),
                None => ("", resource),
            };
            let path_ok = path.is_empty()
                || path[..path.len() - 1]
                    .split('/')
                    .all(|segment| !segment.is_empty() && all(segment, is_iam_name_char));
            (path_ok && (1..=64).contains(&name.len()) && all(name, is_iam_name_char)).then(|| {
                Self {
                    partition: arn.partition.into(),
                    account_id: arn.account.into(),
                    path: format!("/{path}"),
                    name: name.into(),
                }
            })
        };
        parse().ok_or_else(|| ConstraintViolation {
            allowed: "an IAM role ARN `arn:aws:iam::ACCOUNT:role/[PATH/]NAME` (name: 1 to 64 \
                      characters of letters, digits and `+=,.@-_`)"
                .into(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_model_pattern() {
        assert!(check_name("defect-detector.2026-11-01T10.00.00").is_ok());
        assert!(check_name("").is_err());
        assert!(check_name("has space").is_err());
        assert!(check_name(&"a".repeat(255)).is_ok());
        assert!(check_name(&"a".repeat(256)).is_err());
    }

    #[test]
    fn project_version_arn_round_trips() {
        let s = "arn:aws:rekognition:eu-west-1:111111111111:project/p/version/v.1/1700000000000";
        let arn = ProjectVersionArn::parse(s).unwrap();
        assert_eq!(arn.region, "eu-west-1");
        assert_eq!(arn.account_id, "111111111111");
        assert_eq!(arn.project, "p");
        assert_eq!(arn.version, "v.1");
        assert_eq!(arn.to_string(), s);
        assert!(ProjectArn::parse(s).is_err());
    }

    #[test]
    fn tag_keys_refuse_the_aws_prefix_and_odd_characters() {
        assert!(check_tag_key("env").is_ok());
        assert!(check_tag_key("team name:ml/α").is_ok());
        assert!(check_tag_key("aws:cost").is_err());
        assert!(check_tag_key("AWS:cost").is_err());
        assert!(check_tag_key("a*b").is_err());
        assert!(check_tag_key(&"k".repeat(129)).is_err());
        assert!(check_tag_value("").is_ok());
        assert!(check_tag_value(&"v".repeat(257)).is_err());
    }

    #[test]
    fn role_arns_carry_account_and_path() {
        let r = RoleArn::parse("arn:aws:iam::333333333333:role/ci/reko-promote").unwrap();
        assert_eq!(r.account_id, "333333333333");
        assert_eq!(r.path, "/ci/");
        assert_eq!(r.name, "reko-promote");
        assert!(RoleArn::parse("arn:aws:iam::33333333333:role/x").is_err());
        assert!(RoleArn::parse("arn:aws:iam::333333333333:user/x").is_err());
    }

    #[test]
    fn buckets_kms_and_regions() {
        assert!(check_s3_bucket("acme-prod-models").is_ok());
        assert!(check_s3_bucket("Acme").is_err());
        assert!(check_s3_bucket("a..b").is_err());
        assert!(check_s3_bucket("192.168.1.1").is_err());
        assert!(check_kms_key_id("alias/models").is_ok());
        assert!(check_kms_key_id("1234abcd-12ab-34cd-56ef-1234567890ab").is_ok());
        assert!(check_kms_key_id("arn:aws:kms:eu-west-1:333333333333:key/1234").is_ok());
        assert!(check_kms_key_id("arn:aws:s3:::bucket").is_err());
        assert_eq!(
            kms_arn_region_account("arn:aws:kms:eu-west-1:333333333333:alias/m"),
            Some(("eu-west-1".into(), "333333333333".into()))
        );
        assert!(check_region("eu-west-1").is_ok());
        assert!(check_external_id("reko-promote-prod").is_ok());
        assert!(check_external_id("x").is_err());
        assert!(check_external_id(&"x".repeat(1225)).is_err());
        assert!(check_role_session_name("reko-promote").is_ok());
        assert!(check_role_session_name("has space").is_err());
        assert!(check_role_session_name(&"s".repeat(65)).is_err());
        assert!(check_region("us-gov-west-1").is_ok());
        assert!(check_region("Europe").is_err());
        assert_eq!(partition_of_region("cn-north-1"), "aws-cn");
    }
}
