//! `reko_promote::constraints` against the regexes it replaced: every check and ARN parser is
//! compared, on random strings, with the service model's pattern compiled by the `regex` crate.
//!
//! The checks are hand-written character checks (regexes cost tens of milliseconds at start-up);
//! the patterns here are the oracle. Inputs mix strings generated from each pattern (so most
//! match), the same strings with a few characters inserted, deleted or replaced (near misses,
//! Unicode ones included) and arbitrary ASCII and Unicode strings. AWS's `\d` and `\w` are ASCII
//! (the STS documentation: "upper- and lower-case alphanumeric characters"), so those patterns'
//! oracle is the model's pattern in ASCII mode (`(?-u)`), and on ASCII strings the pattern as the
//! crate used to compile it (Unicode classes) must agree too; the tag pattern is Unicode and its
//! oracle is the pattern itself, on every string.

use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use regex::Regex;

use reko_promote::constraints::{self, ProjectArn, ProjectVersionArn, RoleArn};

// The patterns the checks replaced, verbatim.
const NAME: &str = r"^[a-zA-Z0-9_.\-]+$";
const ACCOUNT_ID: &str = r"^\d{12}$";
const REGION: &str = r"^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d{1,2}$";
const PROJECT_ARN: &str =
    r"^arn:([a-z\d-]+):rekognition:([a-z\d-]+):(\d{12}):project/([a-zA-Z0-9_.\-]{1,255})/([0-9]+)$";
const PROJECT_VERSION_ARN: &str = r"^arn:([a-z\d-]+):rekognition:([a-z\d-]+):(\d{12}):project/([a-zA-Z0-9_.\-]{1,255})/version/([a-zA-Z0-9_.\-]{1,255})/([0-9]+)$";
const ROLE_ARN: &str = r"^arn:(aws|aws-cn|aws-us-gov|aws-iso|aws-iso-[a-z]):iam::(\d{12}):role/((?:[\w+=,.@-]+/)*)([\w+=,.@-]{1,64})$";
const EXTERNAL_ID: &str = r"^[\w+=,.@:/-]+$";
const ROLE_SESSION_NAME: &str = r"^[\w+=,.@-]+$";
const KMS_KEY_ID: &str = r"^[A-Za-z0-9][A-Za-z0-9:_/+=,@.-]*$";
const KMS_ARN: &str =
    r"^arn:([a-z\d-]+):kms:([a-z\d-]+):(\d{12}):(key|alias)/([A-Za-z0-9:_/+=,@.-]+)$";
const TAG_CHARS: &str = r"^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$";
const BUCKET: &str = r"^[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9]$";

/// One model pattern: as the crate compiled it before (Unicode classes) and in ASCII mode.
struct Oracle {
    unicode: Regex,
    ascii: Regex,
}

impl Oracle {
    fn new(pattern: &str) -> Self {
        Oracle {
            unicode: Regex::new(pattern).expect("valid pattern"),
            ascii: Regex::new(&format!("(?-u){pattern}")).expect("valid ASCII pattern"),
        }
    }

    /// `old(regex, value)` for the ASCII oracle, checking on ASCII values that the Unicode one
    /// (the crate's former behaviour) gives the same answer.
    fn expect<T: PartialEq + std::fmt::Debug>(
        &self,
        value: &str,
        old: impl Fn(&Regex, &str) -> T,
    ) -> Result<T, TestCaseError> {
        let ascii = old(&self.ascii, value);
        if value.is_ascii() {
            prop_assert_eq!(&old(&self.unicode, value), &ascii, "value {:?}", value);
        }
        Ok(ascii)
    }
}

/// A character for edits: printable ASCII, the separators the patterns use, or any character
/// (letters, digits and spaces of other scripts included).
fn edit_char() -> impl Strategy<Value = char> {
    prop_oneof![
        proptest::char::range(' ', '~'),
        proptest::sample::select(vec![
            ':',
            '/',
            '-',
            '.',
            '_',
            '0',
            'a',
            'Z',
            ' ',
            '\u{0663}',
            'é',
            'ß',
            '\u{00a0}',
            '\u{2028}',
            '\u{1d7d8}',
            '\t',
        ]),
        any::<char>(),
    ]
}

/// One edit of a string: where, what, and the character inserted or written.
#[derive(Debug, Clone)]
enum Edit {
    Insert(Index, char),
    Delete(Index),
    Replace(Index, char),
    /// Repeats the character at `Index` (so the value keeps its alphabet but grows past a
    /// length limit or a fixed-length field).
    Repeat(Index, usize),
}

fn edit() -> impl Strategy<Value = Edit> {
    let index = any::<Index>;
    prop_oneof![
        (index(), edit_char()).prop_map(|(at, c)| Edit::Insert(at, c)),
        index().prop_map(Edit::Delete),
        (index(), edit_char()).prop_map(|(at, c)| Edit::Replace(at, c)),
        (index(), prop_oneof![1usize..3, 1usize..300]).prop_map(|(at, n)| Edit::Repeat(at, n)),
    ]
}

/// `value` with `edits` applied.
fn edited(value: String, edits: Vec<Edit>) -> String {
    let mut chars: Vec<char> = value.chars().collect();
    for edit in edits {
        let len = chars.len();
        match edit {
            Edit::Insert(at, c) => chars.insert(at.index(len + 1), c),
            Edit::Delete(at) if len > 0 => {
                chars.remove(at.index(len));
            }
            Edit::Replace(at, c) if len > 0 => chars[at.index(len)] = c,
            Edit::Repeat(at, n) if len > 0 => {
                let i = at.index(len);
                let copies = std::iter::repeat_n(chars[i], n);
                chars.splice(i..i, copies);
            }
            Edit::Delete(_) | Edit::Replace(..) | Edit::Repeat(..) => {}
        }
    }
    chars.into_iter().collect()
}

/// Values at the edges of every length limit and of the fixed parts of the patterns, for every
/// check: each property runs on all of them before its random values.
fn edge_cases() -> Vec<String> {
    let mut cases = Vec::new();
    let arn = "arn:aws:rekognition:eu-west-1:111111111111:project";
    for n in [
        0, 1, 2, 3, 11, 12, 13, 63, 64, 65, 127, 128, 129, 254, 255, 256, 257, 1023, 1024, 1025,
        1223, 1224, 1225, 2047, 2048, 2049,
    ] {
        let run = |c: &str| c.repeat(n);
        cases.extend([
            run("a"),
            run("1"),
            run("é"),
            run("\u{0661}"),
            format!("aws:{}", run("k")),
            format!("AWS:{}", run("k")),
            format!("alias/{}", run("k")),
            format!("arn:aws:iam::111111111111:role/{}", run("r")),
            format!("arn:aws:iam::111111111111:role/ci/team/{}", run("r")),
            format!("{arn}/{}/1700000000000", run("p")),
            format!("{arn}/p/version/{}/1700000000000", run("v")),
            format!("arn:aws:kms:eu-west-1:111111111111:key/{}", run("k")),
            format!("arn:aws:kms:eu-west-1:111111111111:alias/{}", run("k")),
        ]);
    }
    for region in [
        "eu-west-1",
        "eu-west-12",
        "eu-west-123",
        "us-gov-west-1",
        "us-gox-west-1",
        "us-iso-east-1",
        "us-isob-east-1",
        "us-isoab-east-1",
        "us-iso--east-1",
        "eu--1",
        "e-west-1",
        "eu-west-",
        "euw-west-1",
        "-eu-west-1",
        "eu-west-1-",
    ] {
        cases.push(region.into());
    }
    for partition in [
        "aws",
        "aws-cn",
        "aws-us-gov",
        "aws-iso",
        "aws-iso-b",
        "aws-iso-ab",
        "aws-iso-",
        "awsx",
    ] {
        cases.push(format!("arn:{partition}:iam::111111111111:role/r"));
        cases.push(format!(
            "arn:{partition}:rekognition:eu-west-1:111111111111:project/p/1"
        ));
    }
    for resource in [
        "role/",
        "role//r",
        "role/a//r",
        "role/a/",
        "role/a/r",
        "role/a:r",
        "role/r:",
    ] {
        cases.push(format!("arn:aws:iam::111111111111:{resource}"));
    }
    for resource in [
        "project/p/",
        "project//1",
        "project/p/1/",
        "project/p/version/v/1/2",
        "project/version/version/version/1",
    ] {
        cases.push(format!(
            "arn:aws:rekognition:eu-west-1:111111111111:{resource}"
        ));
    }
    for bucket in [
        "ab",
        "abc",
        "a..b",
        "-ab",
        "ab-",
        "xn--ab",
        "ab-s3alias",
        "192.168.1.1",
        "a.b.c",
    ] {
        cases.push(bucket.into());
    }
    cases
}

/// Strings around `pattern`: matching ones (Unicode and ASCII classes), near misses, and
/// arbitrary ASCII and Unicode strings.
fn inputs(pattern: &str) -> BoxedStrategy<String> {
    let body = pattern
        .strip_prefix('^')
        .and_then(|p| p.strip_suffix('$'))
        .expect("anchored pattern");
    let generate = |p: &str| {
        proptest::string::string_regex(p)
            .expect("pattern strategy")
            .boxed()
    };
    let unicode = generate(body);
    // The tag pattern's classes are Unicode by definition: its ASCII values are its class
    // intersected with ASCII (without them nearly every generated tag would be non-ASCII).
    let ascii = match body.strip_suffix("]*") {
        Some(class) if pattern.contains(r"\p") => generate(&format!(r"[{class}]&&[\x00-\x7F]]*")),
        _ => generate(&format!("(?-u){body}")),
    };
    let edits = proptest::collection::vec(edit(), 1..4);
    prop_oneof![
        2 => ascii.clone(),
        1 => unicode,
        3 => (ascii, edits).prop_map(|(value, edits)| edited(value, edits)),
        1 => "[ -~]{0,40}",
        1 => any::<String>(),
    ]
    .boxed()
}

/// Runs `property` on the [`edge_cases`] and on 2,000 values of `strategy`.
fn agree(strategy: BoxedStrategy<String>, property: impl Fn(&str) -> Result<(), TestCaseError>) {
    for value in edge_cases() {
        if let Err(error) = property(&value) {
            panic!("a check disagrees with its pattern on {value:?}: {error}");
        }
    }
    let mut runner = TestRunner::new(Config {
        cases: 2000,
        failure_persistence: None,
        ..Config::default()
    });
    if let Err(error) = runner.run(&strategy, |value| property(&value)) {
        panic!("a check disagrees with its pattern: {error}");
    }
}

/// Values around either of two patterns.
fn either(a: BoxedStrategy<String>, b: BoxedStrategy<String>) -> BoxedStrategy<String> {
    prop_oneof![a, b].boxed()
}

/// A yes/no check and what it replaced: the model's pattern and the former test around it.
struct BooleanCheck {
    name: &'static str,
    pattern: &'static str,
    old: fn(&Regex, &str) -> bool,
    new: fn(&str) -> bool,
}

const BOOLEAN_CHECKS: [BooleanCheck; 7] = [
    BooleanCheck {
        name: "name",
        pattern: NAME,
        old: |re, v| (1..=255).contains(&v.len()) && re.is_match(v),
        new: |v| constraints::check_name(v).is_ok(),
    },
    BooleanCheck {
        name: "policy name",
        pattern: NAME,
        old: |re, v| (1..=128).contains(&v.len()) && re.is_match(v),
        new: |v| constraints::check_policy_name(v).is_ok(),
    },
    BooleanCheck {
        name: "account id",
        pattern: ACCOUNT_ID,
        old: |re, v| re.is_match(v),
        new: |v| constraints::check_account_id(v).is_ok(),
    },
    BooleanCheck {
        name: "region",
        pattern: REGION,
        old: |re, v| re.is_match(v),
        new: |v| constraints::check_region(v).is_ok(),
    },
    BooleanCheck {
        name: "external id",
        pattern: EXTERNAL_ID,
        old: |re, v| (2..=1224).contains(&v.chars().count()) && re.is_match(v),
        new: |v| constraints::check_external_id(v).is_ok(),
    },
    BooleanCheck {
        name: "role session name",
        pattern: ROLE_SESSION_NAME,
        old: |re, v| (2..=64).contains(&v.chars().count()) && re.is_match(v),
        new: |v| constraints::check_role_session_name(v).is_ok(),
    },
    BooleanCheck {
        name: "bucket",
        pattern: BUCKET,
        old: |re, v| {
            re.is_match(v)
                && !v.contains("..")
                && !v.starts_with("xn--")
                && !v.ends_with("-s3alias")
                && v.parse::<std::net::Ipv4Addr>().is_err()
        },
        new: |v| constraints::check_s3_bucket(v).is_ok(),
    },
];

#[test]
fn yes_no_checks_agree_with_their_patterns() {
    for check in &BOOLEAN_CHECKS {
        let oracle = Oracle::new(check.pattern);
        agree(inputs(check.pattern), |value| {
            let expected = oracle.expect(value, check.old)?;
            prop_assert_eq!((check.new)(value), expected, "{} check", check.name);
            Ok(())
        });
    }
}

#[test]
fn kms_key_ids_and_arns_agree_with_their_patterns() {
    let key = Oracle::new(KMS_KEY_ID);
    let arn = Oracle::new(KMS_ARN);
    agree(either(inputs(KMS_KEY_ID), inputs(KMS_ARN)), |value| {
        let captured = arn.expect(value, |re, v| {
            re.captures(v).map(|c| (c[2].to_string(), c[3].to_string()))
        })?;
        prop_assert_eq!(constraints::kms_arn_region_account(value), captured.clone());
        let id_ok = key.expect(value, |re, v| v.len() <= 2048 && re.is_match(v))?;
        let expected = id_ok && (!value.starts_with("arn:") || captured.is_some());
        prop_assert_eq!(constraints::check_kms_key_id(value).is_ok(), expected);
        Ok(())
    });
}

#[test]
fn tags_agree_with_the_unicode_pattern_on_every_string() {
    let tag = Regex::new(TAG_CHARS).expect("valid pattern");
    agree(inputs(TAG_CHARS), |value| {
        let count = value.chars().count();
        let key = (1..=128).contains(&count)
            && tag.is_match(value)
            && !value.to_ascii_lowercase().starts_with("aws:");
        prop_assert_eq!(constraints::check_tag_key(value).is_ok(), key);
        let tag_value = count <= 256 && tag.is_match(value);
        prop_assert_eq!(constraints::check_tag_value(value).is_ok(), tag_value);
        Ok(())
    });
}

fn captures(re: &Regex, value: &str) -> Option<Vec<String>> {
    re.captures(value).map(|c| {
        c.iter()
            .skip(1)
            .map(|m| m.map_or(String::new(), |m| m.as_str().to_string()))
            .collect()
    })
}

#[test]
fn rekognition_arns_parse_as_their_patterns_capture() {
    let project = Oracle::new(PROJECT_ARN);
    let version = Oracle::new(PROJECT_VERSION_ARN);
    agree(
        either(inputs(PROJECT_ARN), inputs(PROJECT_VERSION_ARN)),
        |value| {
            let expected = project.expect(value, captures)?;
            let parsed = ProjectArn::parse(value).ok().map(|a| {
                vec![
                    a.partition,
                    a.region,
                    a.account_id,
                    a.project,
                    a.created_millis,
                ]
            });
            prop_assert_eq!(parsed, expected);
            let expected = version.expect(value, captures)?;
            let parsed = ProjectVersionArn::parse(value).ok().map(|a| {
                vec![
                    a.partition,
                    a.region,
                    a.account_id,
                    a.project,
                    a.version,
                    a.created_millis,
                ]
            });
            prop_assert_eq!(parsed, expected);
            Ok(())
        },
    );
}

#[test]
fn role_arns_parse_as_their_pattern_captures() {
    let oracle = Oracle::new(ROLE_ARN);
    agree(inputs(ROLE_ARN), |value| {
        let expected = oracle.expect(value, |re, v| {
            captures(re, v).map(|c| {
                vec![
                    c[0].clone(),
                    c[1].clone(),
                    format!("/{}", c[2]),
                    c[3].clone(),
                ]
            })
        })?;
        let parsed = RoleArn::parse(value)
            .ok()
            .map(|a| vec![a.partition, a.account_id, a.path, a.name]);
        prop_assert_eq!(parsed, expected);
        Ok(())
    });
}

/// Where the checks and the crate's former regexes part: `\d` and `\w` are ASCII in AWS's
/// patterns, and were Unicode classes in the regex crate's default mode.
#[test]
fn digits_and_word_characters_are_ascii_as_in_aws() {
    let arabic_indic_account = "\u{0661}".repeat(12);
    assert!(
        Regex::new(ACCOUNT_ID)
            .unwrap()
            .is_match(&arabic_indic_account)
    );
    assert!(constraints::check_account_id(&arabic_indic_account).is_err());
    assert!(Regex::new(ROLE_SESSION_NAME).unwrap().is_match("sessión"));
    assert!(constraints::check_role_session_name("sessión").is_err());
    assert!(constraints::check_external_id("clé-partagée").is_err());
    assert!(RoleArn::parse("arn:aws:iam::111111111111:role/rôle").is_err());
    // Tags keep letters, digits and spaces of every script.
    assert!(constraints::check_tag_key("équipe\u{00a0}\u{0663}").is_ok());
    assert!(constraints::check_tag_value("\u{2028}").is_ok());
    assert!(constraints::check_tag_value("tab\there").is_err());
}
