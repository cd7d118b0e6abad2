//! AWS value constraints and ARN formats, as the Rekognition and STS service models state them.
//!
//! Both sides of the product check values against the same rules: the manifest validator (so a bad
//! value is caught in review, before any AWS call) and the sandbox (so it rejects what AWS rejects).
//! Each check returns `Err(ConstraintViolation)` saying what is allowed; callers add where the value
//! came from. The patterns are copied from `shared/aws-models/rekognition-2016-06-27.service-2.json`
//! (shapes `ProjectName`, `VersionName`, `ProjectArn`, `ProjectVersionArn`, `KmsKeyId`, `TagKey`,
//! `TagValue`, `S3KeyPrefix`, `ProjectPolicyName`) and the IAM/STS documentation; nothing here talks
//! to the network.

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

fn regex(pattern: &str) -> Regex {
    Regex::new(pattern).expect("constraint patterns are valid")
}

static NAME: LazyLock<Regex> = LazyLock::new(|| regex(r"^[a-zA-Z0-9_.\-]+$"));
static POLICY_NAME: LazyLock<Regex> = LazyLock::new(|| regex(r"^[a-zA-Z0-9_.\-]+$"));
static ACCOUNT_ID: LazyLock<Regex> = LazyLock::new(|| regex(r"^\d{12}$"));
static REGION: LazyLock<Regex> =
    LazyLock::new(|| regex(r"^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d{1,2}$"));
static PROJECT_ARN: LazyLock<Regex> = LazyLock::new(|| {
    regex(
        r"^arn:([a-z\d-]+):rekognition:([a-z\d-]+):(\d{12}):project/([a-zA-Z0-9_.\-]{1,255})/([0-9]+)$",
    )
});
static PROJECT_VERSION_ARN: LazyLock<Regex> = LazyLock::new(|| {
    regex(
        r"^arn:([a-z\d-]+):rekognition:([a-z\d-]+):(\d{12}):project/([a-zA-Z0-9_.\-]{1,255})/version/([a-zA-Z0-9_.\-]{1,255})/([0-9]+)$",
    )
});
static ROLE_ARN: LazyLock<Regex> = LazyLock::new(|| {
    regex(
        r"^arn:(aws|aws-cn|aws-us-gov|aws-iso|aws-iso-[a-z]):iam::(\d{12}):role/((?:[\w+=,.@-]+/)*)([\w+=,.@-]{1,64})$",
    )
});
// Lengths are checked apart from these patterns: a counted repetition of Unicode `\w`
// (`{2,1224}`) compiles past the regex crate's size limit.
static EXTERNAL_ID: LazyLock<Regex> = LazyLock::new(|| regex(r"^[\w+=,.@:/-]+$"));
static ROLE_SESSION_NAME: LazyLock<Regex> = LazyLock::new(|| regex(r"^[\w+=,.@-]+$"));
static KMS_KEY_ID: LazyLock<Regex> = LazyLock::new(|| regex(r"^[A-Za-z0-9][A-Za-z0-9:_/+=,@.-]*$"));
static KMS_ARN: LazyLock<Regex> = LazyLock::new(|| {
    regex(r"^arn:([a-z\d-]+):kms:([a-z\d-]+):(\d{12}):(key|alias)/([A-Za-z0-9:_/+=,@.-]+)$")
});
static TAG_CHARS: LazyLock<Regex> = LazyLock::new(|| regex(r"^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$"));
static BUCKET: LazyLock<Regex> = LazyLock::new(|| regex(r"^[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9]$"));

const NAME_ALLOWED: &str = "1 to 255 characters of a-z, A-Z, 0-9, `_`, `.` and `-`";

/// A project name (`ProjectName`) or version name (`VersionName`).
pub fn check_name(value: &str) -> Check {
    if (1..=255).contains(&value.len()) && NAME.is_match(value) {
        Ok(())
    } else {
        violation(NAME_ALLOWED)
    }
}

/// A project policy name (`ProjectPolicyName`).
pub fn check_policy_name(value: &str) -> Check {
    if (1..=128).contains(&value.len()) && POLICY_NAME.is_match(value) {
        Ok(())
    } else {
        violation("1 to 128 characters of a-z, A-Z, 0-9, `_`, `.` and `-`")
    }
}

/// A 12-digit AWS account ID.
pub fn check_account_id(value: &str) -> Check {
    if ACCOUNT_ID.is_match(value) {
        Ok(())
    } else {
        violation("exactly 12 digits, quoted so YAML keeps leading zeros (e.g. \"012345678901\")")
    }
}

/// An AWS region code such as `eu-west-1` or `us-gov-west-1`.
pub fn check_region(value: &str) -> Check {
    if REGION.is_match(value) {
        Ok(())
    } else {
        violation("an AWS region code such as `eu-west-1`, `us-east-1` or `us-gov-west-1`")
    }
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
    if (2..=1224).contains(&value.chars().count()) && EXTERNAL_ID.is_match(value) {
        Ok(())
    } else {
        violation("2 to 1224 characters of letters, digits and `+=,.@:/-_`")
    }
}

/// An STS `RoleSessionName`.
pub fn check_role_session_name(value: &str) -> Check {
    if (2..=64).contains(&value.chars().count()) && ROLE_SESSION_NAME.is_match(value) {
        Ok(())
    } else {
        violation("2 to 64 characters of letters, digits and `+=,.@-_`")
    }
}

/// An S3 bucket name, by S3's naming rules for buckets (stricter than the model's `S3Bucket`
/// pattern, which also admits legacy names no new bucket can have).
pub fn check_s3_bucket(value: &str) -> Check {
    let ok = BUCKET.is_match(value)
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
    if value.len() > 2048 || !KMS_KEY_ID.is_match(value) {
        return violation(
            "a KMS key id, key ARN, alias name (`alias/NAME`) or alias ARN: 1 to 2048 characters \
             of letters, digits and `:_/+=,@.-`, starting with a letter or digit",
        );
    }
    if value.starts_with("arn:") && !KMS_ARN.is_match(value) {
        return violation(
            "a KMS ARN of the form `arn:aws:kms:REGION:ACCOUNT:key/ID` or `...:alias/NAME`",
        );
    }
    Ok(())
}

/// The region and account of a KMS key ARN, when the value is an ARN.
pub fn kms_arn_region_account(value: &str) -> Option<(String, String)> {
    KMS_ARN
        .captures(value)
        .map(|c| (c[2].to_string(), c[3].to_string()))
}

/// A resource tag key (`TagKey`).
pub fn check_tag_key(key: &str) -> Check {
    let len = key.chars().count();
    if (1..=128).contains(&len)
        && TAG_CHARS.is_match(key)
        && !key.to_ascii_lowercase().starts_with("aws:")
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
    if value.chars().count() <= 256 && TAG_CHARS.is_match(value) {
        Ok(())
    } else {
        violation("0 to 256 characters of letters, digits, spaces and `_.:/=+-@`")
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
        let c = PROJECT_ARN
            .captures(value)
            .ok_or_else(|| ConstraintViolation {
                allowed: "a project ARN `arn:aws:rekognition:REGION:ACCOUNT:project/NAME/CREATED` \
                      (ProjectArn pattern)"
                    .into(),
            })?;
        Ok(Self {
            partition: c[1].into(),
            region: c[2].into(),
            account_id: c[3].into(),
            project: c[4].into(),
            created_millis: c[5].into(),
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
        let c = PROJECT_VERSION_ARN
            .captures(value)
            .ok_or_else(|| ConstraintViolation {
                allowed: "a project version ARN \
                          `arn:aws:rekognition:REGION:ACCOUNT:project/NAME/version/VERSION/CREATED` \
                          (ProjectVersionArn pattern)"
                    .into(),
            })?;
        Ok(Self {
            partition: c[1].into(),
            region: c[2].into(),
            account_id: c[3].into(),
            project: c[4].into(),
            version: c[5].into(),
            created_millis: c[6].into(),
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
        let c = ROLE_ARN
            .captures(value)
            .ok_or_else(|| ConstraintViolation {
                allowed: "an IAM role ARN `arn:aws:iam::ACCOUNT:role/[PATH/]NAME` (name: 1 to 64 \
                      characters of letters, digits and `+=,.@-_`)"
                    .into(),
            })?;
        Ok(Self {
            partition: c[1].into(),
            account_id: c[2].into(),
            path: format!("/{}", &c[3]),
            name: c[4].into(),
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
