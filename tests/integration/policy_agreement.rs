//! The two readings of project policies must agree: the product's (`reko_promote::policy`, which
//! plan and apply decide with) and the sandbox's own (`reko_promote::sandbox::iam_policy`, which
//! plays AWS). Written separately on purpose, so that a mistake in one shows here as a
//! disagreement instead of being agreed with by every other test.
//!
//! A property test generates sets of policy documents (random effects; principals naming the
//! caller's account, account root, role, user or session, or others, or `*`; actions in any
//! letter case and with wildcards; resources equal to, wildcarding or missing the version ARN)
//! and callers, and checks for each case:
//! - that the documents the sandbox accepts at PutProjectPolicy are the ones the product can
//!   read, and
//! - that, over what the sandbox stored, both decide alike: allowed, explicitly denied or not
//!   allowed.
//!
//! Pure function calls: 10,000 cases take well under a second of work (`POLICY_AGREEMENT_CASES`
//! sets another count). No class of disagreement is skipped. The one validation difference
//! allowed is by design: an action pattern that matches other Rekognition actions besides the
//! copy (`rekognition:*`, `*`) is refused by PutProjectPolicy but read by the product, which only
//! ever reads documents AWS stored (and would read that pattern as IAM does).

use std::cell::RefCell;
use std::collections::BTreeMap;

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use reko_promote::policy::{self, Caller, Decision};
use reko_promote::sandbox::iam_policy::{self, Request, Requester, Verdict};
use serde_json::{Value, json};

/// Generated cases in one `cargo test` run, unless `POLICY_AGREEMENT_CASES` says otherwise.
const CASES: u32 = 10_000;

/// Action patterns the generator writes that match the copy and other Rekognition actions too.
const WIDER_ACTIONS: [&str; 3] = ["rekognition:*", "*", "rekognition:*ProjectVersion"];

const SOURCE_ACCOUNT: &str = "111111111111";
const ACCOUNTS: [&str; 3] = [SOURCE_ACCOUNT, "222222222222", "333333333333"];
const NAMES: [&str; 2] = ["deployer", "reader"];
const SESSIONS: [&str; 2] = ["s1", "s2"];
const REGION: &str = "eu-west-1";
/// The version being copied.
const TARGET: &str =
    "arn:aws:rekognition:eu-west-1:111111111111:project/defects/version/defects.v1/1700000000000";

#[derive(Debug, Clone)]
struct PrincipalName {
    text: String,
    foreign_partition: bool,
}

#[derive(Debug, Clone)]
struct Resource {
    text: String,
    /// A wildcard that, read as IAM reads it, may not cross the colon it was put over.
    across_segments: bool,
}

#[derive(Debug, Clone)]
struct GenStatement {
    deny: bool,
    /// `None`: `"Principal": "*"`; else `{"AWS": names}`.
    principals: Option<Vec<PrincipalName>>,
    principal_as_list: bool,
    actions: Vec<String>,
    actions_as_list: bool,
    resources: Vec<Resource>,
    resources_as_list: bool,
    with_sid: bool,
    conditions: Vec<GenCondition>,
}

/// One `"Operator": {"Key": values}` test.
#[derive(Debug, Clone)]
struct GenCondition {
    operator: &'static str,
    key: String,
    values: Vec<String>,
}

/// Condition keys whose value the product knows (the caller's account and role or user ARN).
const KEYS_THE_PRODUCT_KNOWS: [&str; 2] = ["aws:PrincipalAccount", "aws:PrincipalArn"];

impl GenCondition {
    fn product_can_evaluate(&self) -> bool {
        KEYS_THE_PRODUCT_KNOWS
            .iter()
            .any(|k| k.eq_ignore_ascii_case(&self.key))
    }
}

#[derive(Debug, Clone)]
struct GenDocument {
    /// `None`: no `Version` element (IAM reads the document as of 2008-10-17).
    version: Option<&'static str>,
    statements: Vec<GenStatement>,
    single_statement_as_object: bool,
}

#[derive(Debug, Clone)]
struct GenCaller {
    account: &'static str,
    /// `Some(session)` for an assumed-role session of role `name`, `None` for IAM user `name`.
    session: Option<&'static str>,
    name: &'static str,
}

#[derive(Debug, Clone)]
struct Case {
    documents: Vec<GenDocument>,
    caller: GenCaller,
}

fn one_or_list(items: Vec<Value>, as_list: bool) -> Value {
    if items.len() == 1 && !as_list {
        items.into_iter().next().expect("one item")
    } else {
        Value::Array(items)
    }
}

impl GenStatement {
    fn to_json(&self, index: usize) -> Value {
        let mut object = serde_json::Map::new();
        if self.with_sid {
            object.insert("Sid".into(), json!(format!("S{index}")));
        }
        object.insert(
            "Effect".into(),
            json!(if self.deny { "Deny" } else { "Allow" }),
        );
        let principal = match &self.principals {
            None => json!("*"),
            Some(names) => json!({"AWS": one_or_list(
                names.iter().map(|n| json!(n.text)).collect(),
                self.principal_as_list,
            )}),
        };
        object.insert("Principal".into(), principal);
        object.insert(
            "Action".into(),
            one_or_list(
                self.actions.iter().map(|a| json!(a)).collect(),
                self.actions_as_list,
            ),
        );
        object.insert(
            "Resource".into(),
            one_or_list(
                self.resources.iter().map(|r| json!(r.text)).collect(),
                self.resources_as_list,
            ),
        );
        if !self.conditions.is_empty() {
            let mut block = serde_json::Map::new();
            for condition in &self.conditions {
                let tests = block.entry(condition.operator).or_insert_with(|| json!({}));
                tests[&condition.key] =
                    one_or_list(condition.values.iter().map(|v| json!(v)).collect(), false);
            }
            object.insert("Condition".into(), Value::Object(block));
        }
        Value::Object(object)
    }

    fn has_wider_action(&self) -> bool {
        self.actions
            .iter()
            .any(|a| WIDER_ACTIONS.iter().any(|w| w.eq_ignore_ascii_case(a)))
    }
}

impl GenDocument {
    fn to_json(&self) -> String {
        let statements: Vec<Value> = self
            .statements
            .iter()
            .enumerate()
            .map(|(i, s)| s.to_json(i))
            .collect();
        let statement = if statements.len() == 1 && self.single_statement_as_object {
            statements[0].clone()
        } else {
            Value::Array(statements)
        };
        let mut document = json!({
            "Statement": statement,
        });
        if let (Some(version), Value::Object(object)) = (self.version, &mut document) {
            object.insert("Version".into(), json!(version));
        }
        document.to_string()
    }
}

impl GenCaller {
    fn product(&self) -> Caller {
        match self.session {
            Some(session) => Caller {
                account_id: self.account.into(),
                iam_arn: Some(format!("arn:aws:iam::{}:role/{}", self.account, self.name)),
                session_arn: Some(format!(
                    "arn:aws:sts::{}:assumed-role/{}/{session}",
                    self.account, self.name
                )),
            },
            None => Caller {
                account_id: self.account.into(),
                iam_arn: Some(format!("arn:aws:iam::{}:user/{}", self.account, self.name)),
                session_arn: None,
            },
        }
    }

    fn sandbox(&self) -> Requester {
        let product = self.product();
        Requester {
            partition: "aws".into(),
            account_id: product.account_id,
            identity_arn: product.iam_arn.expect("every generated caller has one"),
            session_arn: product.session_arn,
        }
    }
}

/// What both readings decide, in one vocabulary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Allowed,
    Denied,
    NotAllowed,
    /// Product only: a Deny rests on a condition it cannot evaluate.
    MayBeDenied,
    /// Product only: only Allows resting on conditions it cannot evaluate apply.
    MayBeAllowed,
}

/// One document as both sides read it.
struct Read {
    text: String,
    /// What PutProjectPolicy stores (`None`: refused with MalformedPolicyDocumentException).
    sandbox: Option<iam_policy::PolicyDocument>,
    /// What plan and apply can use (`None`: they skip the document).
    product: Option<policy::PolicyDocument>,
}

fn read(documents: &[GenDocument]) -> Vec<Read> {
    documents
        .iter()
        .map(|document| {
            let text = document.to_json();
            Read {
                sandbox: iam_policy::project_policy(&text).ok(),
                product: policy::PolicyDocument::parse(&text).ok(),
                text,
            }
        })
        .collect()
}

/// The sandbox's verdict over the documents it stored, and the product's over those of them
/// it can read.
fn decide(documents: &[Read], caller: &GenCaller) -> (Outcome, Outcome) {
    let stored = documents.iter().filter(|d| d.sandbox.is_some());
    let requester = caller.sandbox();
    let sandbox = iam_policy::evaluate(
        stored.clone().filter_map(|d| d.sandbox.as_ref()),
        &Request {
            requester: &requester,
            action: iam_policy::COPY_PROJECT_VERSION,
            resource: TARGET,
            region: REGION,
        },
    );
    let product = policy::evaluate(
        stored.filter_map(|d| d.product.as_ref()),
        &caller.product(),
        policy::COPY_ACTION,
        TARGET,
    );
    (
        match sandbox {
            Verdict::Allow => Outcome::Allowed,
            Verdict::ExplicitDeny => Outcome::Denied,
            Verdict::ImplicitDeny => Outcome::NotAllowed,
        },
        match product {
            Decision::Allowed => Outcome::Allowed,
            Decision::ExplicitlyDenied => Outcome::Denied,
            Decision::NotAllowed => Outcome::NotAllowed,
            Decision::MayBeDenied => Outcome::MayBeDenied,
            Decision::MayBeAllowed => Outcome::MayBeAllowed,
        },
    )
}

impl Case {
    /// The case once for each way the conditions the product cannot evaluate could come out,
    /// statement by statement: either they hold (and are dropped) or they fail (and are
    /// replaced by one the product evaluates to false).
    fn resolutions(&self) -> Vec<Case> {
        let undecided: Vec<(usize, usize)> = self
            .documents
            .iter()
            .enumerate()
            .flat_map(|(d, document)| {
                document
                    .statements
                    .iter()
                    .enumerate()
                    .filter(|(_, s)| s.conditions.iter().any(|c| !c.product_can_evaluate()))
                    .map(move |(s, _)| (d, s))
            })
            .collect();
        (0..1u32 << undecided.len())
            .map(|holds| {
                let mut case = self.clone();
                for (bit, &(d, s)) in undecided.iter().enumerate() {
                    let conditions = &mut case.documents[d].statements[s].conditions;
                    conditions.retain(GenCondition::product_can_evaluate);
                    if holds >> bit & 1 == 0 {
                        conditions.push(GenCondition {
                            operator: "StringEquals",
                            key: "aws:PrincipalAccount".into(),
                            values: vec!["000000000000".into()],
                        });
                    }
                }
                case
            })
            .collect()
    }
}

/// `text` with the letters whose bit is set in `mask` (cycling) in the other case.
fn flip_case(text: &str, mask: u64) -> String {
    text.chars()
        .enumerate()
        .map(|(i, c)| {
            if mask >> (i % 64) & 1 == 1 {
                if c.is_ascii_lowercase() {
                    c.to_ascii_uppercase()
                } else {
                    c.to_ascii_lowercase()
                }
            } else {
                c
            }
        })
        .collect()
}

fn principal_name() -> impl Strategy<Value = PrincipalName> {
    let account = prop::sample::select(&ACCOUNTS[..]);
    let name = prop::sample::select(&NAMES[..]);
    let session = prop::sample::select(&SESSIONS[..]);
    let plain = |text: String| PrincipalName {
        text,
        foreign_partition: false,
    };
    prop_oneof![
        1 => Just(plain("*".into())),
        3 => account.clone().prop_map(move |a| plain(a.to_string())),
        3 => account.clone().prop_map(move |a| plain(format!("arn:aws:iam::{a}:root"))),
        3 => (account.clone(), name.clone())
            .prop_map(move |(a, n)| plain(format!("arn:aws:iam::{a}:role/{n}"))),
        2 => (account.clone(), name.clone())
            .prop_map(move |(a, n)| plain(format!("arn:aws:iam::{a}:user/{n}"))),
        3 => (account.clone(), name, session).prop_map(move |(a, n, s)| plain(format!(
            "arn:aws:sts::{a}:assumed-role/{n}/{s}"
        ))),
        1 => account.prop_map(|a| PrincipalName {
            text: format!("arn:aws-cn:iam::{a}:root"),
            foreign_partition: true,
        }),
    ]
}

fn action() -> impl Strategy<Value = String> {
    let exact = Just(policy::COPY_ACTION);
    // Patterns that name CopyProjectVersion and nothing else, then ones that name more or other.
    let copy_only =
        prop::sample::select(&["rekognition:Copy*", "rekognition:CopyProject?ersion"][..]);
    let others = prop::sample::select(
        &[
            WIDER_ACTIONS[0],
            WIDER_ACTIONS[1],
            WIDER_ACTIONS[2],
            "rekognition:DeleteProject",
        ][..],
    );
    let form = prop_oneof![14 => exact, 1 => copy_only, 1 => others];
    (form, any::<u64>(), prop::bool::weighted(0.5)).prop_map(|(form, mask, flip)| {
        if flip {
            flip_case(form, mask)
        } else {
            form.into()
        }
    })
}

/// A wildcard put over part of the target ARN: `*` over `target[start..start+len]` or `?` over
/// one character, noting whether IAM would let it cross a colon.
fn wildcarded_target() -> impl Strategy<Value = Resource> {
    let length = TARGET.len();
    (0..length, 0..12usize, prop::bool::ANY).prop_map(move |(start, len, star)| {
        let end = (start + if star { len } else { 1 }).min(length);
        let covered = &TARGET[start..end];
        let (wildcard, across) = if star {
            let ends_segment = end == length || TARGET[end..].starts_with(':');
            ("*", covered.contains(':') && !ends_segment)
        } else {
            ("?", covered.contains(':'))
        };
        Resource {
            text: format!("{}{wildcard}{}", &TARGET[..start], &TARGET[end..]),
            across_segments: across,
        }
    })
}

fn resource() -> impl Strategy<Value = Resource> {
    let plain = |text: &str| Resource {
        text: text.into(),
        across_segments: false,
    };
    prop_oneof![
        4 => Just(plain(TARGET)),
        2 => Just(plain("*")),
        2 => Just(plain(&TARGET.replace("defects.v1", "defects.v2"))),
        1 => Just(plain(&TARGET.replace("/defects/", "/Defects/"))),
        1 => Just(plain("arn:aws:rekognition:eu-west-1:111111111111:project/defects/version/*")),
        1 => Just(plain("arn:aws:rekognition:*:111111111111:project/defects/*")),
        5 => wildcarded_target(),
    ]
}

fn statement() -> impl Strategy<Value = GenStatement> {
    (
        prop::bool::weighted(0.35),
        prop::option::weighted(0.85, prop::collection::vec(principal_name(), 1..=3)),
        prop::bool::ANY,
        prop::collection::vec(action(), 1..=2),
        prop::bool::ANY,
        prop::collection::vec(resource(), 1..=2),
        prop::bool::ANY,
        prop::bool::ANY,
        prop::collection::vec(condition(), 0..=2),
        prop::bool::weighted(0.3),
    )
        .prop_map(
            |(
                deny,
                principals,
                p_list,
                actions,
                a_list,
                resources,
                r_list,
                with_sid,
                conditions,
                conditional,
            )| {
                GenStatement {
                    conditions: if conditional { conditions } else { Vec::new() },
                    deny,
                    principals,
                    principal_as_list: p_list,
                    actions,
                    actions_as_list: a_list,
                    resources,
                    resources_as_list: r_list,
                    with_sid,
                }
            },
        )
}

/// A test on a key the product knows (most) or one only the request context holds.
fn condition() -> impl Strategy<Value = GenCondition> {
    let account = prop::sample::select(&ACCOUNTS[..]).prop_map(String::from);
    let arn = (
        prop::sample::select(&ACCOUNTS[..]),
        prop::sample::select(&["role", "user"][..]),
        prop::sample::select(&NAMES[..]),
    )
        .prop_map(|(a, kind, n)| format!("arn:aws:iam::{a}:{kind}/{n}"));
    let arn_pattern = prop::sample::select(
        &[
            "arn:aws:iam::*:role/*",
            "arn:aws:iam::222222222222:*",
            "arn:aws:iam::*:user/dep*",
            "arn:aws:iam::2222222222??:role/deployer",
            "arn:aws:*:role/deployer",
        ][..],
    )
    .prop_map(String::from);
    let test = |operator: &'static str, key: &'static str, values: BoxedStrategy<String>| {
        (prop::collection::vec(values, 1..=2), any::<u64>()).prop_map(move |(values, mask)| {
            GenCondition {
                operator,
                key: flip_case(key, mask & 0x0101_0101),
                values,
            }
        })
    };
    let string_op = prop::sample::select(
        &[
            "StringEquals",
            "StringNotEquals",
            "StringEqualsIgnoreCase",
            "StringLike",
            "StringNotLike",
            "StringEqualsIfExists",
            "StringNotEqualsIfExists",
        ][..],
    );
    let arn_op = prop::sample::select(
        &[
            "ArnEquals",
            "ArnLike",
            "ArnNotLike",
            "ArnLikeIfExists",
            "StringLike",
        ][..],
    );
    let null = (
        prop::sample::select(&KEYS_THE_PRODUCT_KNOWS[..]),
        prop::sample::select(&["true", "false"][..]),
    )
        .prop_map(|(key, value)| GenCondition {
            operator: "Null",
            key: key.into(),
            values: vec![value.into()],
        });
    let unknown_to_product = (prop::sample::select(
        &[
            ("StringEquals", "aws:PrincipalOrgID", "o-123"),
            ("StringNotEquals", "aws:PrincipalOrgID", "o-123"),
            ("StringEquals", "aws:RequestedRegion", REGION),
            ("StringNotEquals", "aws:RequestedRegion", REGION),
            ("StringEquals", "aws:PrincipalType", "AssumedRole"),
            ("Null", "aws:PrincipalOrgID", "true"),
        ][..],
    ),)
        .prop_map(|((operator, key, value),)| GenCondition {
            operator,
            key: key.into(),
            values: vec![value.into()],
        });
    prop_oneof![
        3 => string_op.prop_flat_map(move |op| test(op, "aws:PrincipalAccount", account.clone().boxed())),
        3 => (arn_op, prop::bool::ANY).prop_flat_map(move |(op, literal)| {
            let values = if literal { arn.clone().boxed() } else { arn_pattern.clone().boxed() };
            test(op, "aws:PrincipalArn", values)
        }),
        1 => null,
        2 => unknown_to_product,
    ]
}

fn document() -> impl Strategy<Value = GenDocument> {
    (
        prop::sample::select(&[Some("2012-10-17"), Some("2008-10-17"), None][..]),
        prop::collection::vec(statement(), 1..=3),
        prop::bool::ANY,
    )
        .prop_map(|(version, statements, as_object)| GenDocument {
            version,
            statements,
            single_statement_as_object: as_object,
        })
}

fn caller() -> impl Strategy<Value = GenCaller> {
    (
        prop::sample::select(&ACCOUNTS[..]),
        prop::option::weighted(0.7, prop::sample::select(&SESSIONS[..])),
        prop::sample::select(&NAMES[..]),
    )
        .prop_map(|(account, session, name)| GenCaller {
            account,
            session,
            name,
        })
}

fn case() -> impl Strategy<Value = Case> {
    (prop::collection::vec(document(), 0..=3), caller())
        .prop_map(|(documents, caller)| Case { documents, caller })
}

/// What the run saw, printed at the end (`cargo test -- --nocapture` shows it).
#[derive(Debug, Default)]
struct Tally {
    cases: u32,
    outcomes: BTreeMap<String, u32>,
    /// Cases the product left open for conditions it cannot evaluate, by what the sandbox said.
    product_undecided: BTreeMap<String, u32>,
    /// Cases with a `Condition` the product evaluates, and with one it cannot.
    cases_with_condition_the_product_evaluates: u32,
    cases_with_condition_the_product_cannot_evaluate: u32,
    cases_with_document_without_version: u32,
    /// Cases exercising what the product once got wrong: action wildcards naming only the copy,
    /// resource wildcards put over a colon, account roots of another partition.
    cases_with_copy_only_wildcard_action: u32,
    cases_with_resource_wildcard_over_a_colon: u32,
    cases_with_root_of_another_partition: u32,
    documents: u32,
    documents_refused_by_both: u32,
    /// Refused by PutProjectPolicy for an action pattern wider than the copy; read by the product.
    documents_with_wider_action_refused_by_sandbox_only: u32,
}

#[test]
fn product_and_sandbox_policy_evaluators_agree() {
    let tally = RefCell::new(Tally::default());
    let cases = std::env::var("POLICY_AGREEMENT_CASES")
        .ok()
        .map(|n| {
            n.parse::<u32>()
                .expect("POLICY_AGREEMENT_CASES is a number")
        })
        .unwrap_or(CASES);
    let mut runner = TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    });
    let result = runner.run(&case(), |case| {
        let mut tally = tally.borrow_mut();
        tally.cases += 1;
        let statements = || case.documents.iter().flat_map(|d| &d.statements);
        if statements().any(|s| {
            s.actions
                .iter()
                .any(|a| a.contains(['*', '?']) && !WIDER_ACTIONS.iter().any(|w| w.eq_ignore_ascii_case(a)))
        }) {
            tally.cases_with_copy_only_wildcard_action += 1;
        }
        let has_condition = |evaluable: bool| {
            statements().any(|s| {
                s.conditions
                    .iter()
                    .any(|c| c.product_can_evaluate() == evaluable)
            })
        };
        tally.cases_with_condition_the_product_evaluates += u32::from(has_condition(true));
        tally.cases_with_condition_the_product_cannot_evaluate += u32::from(has_condition(false));
        if case.documents.iter().any(|d| d.version.is_none()) {
            tally.cases_with_document_without_version += 1;
        }
        if statements().any(|s| s.resources.iter().any(|r| r.across_segments)) {
            tally.cases_with_resource_wildcard_over_a_colon += 1;
        }
        if statements().any(|s| s.principals.iter().flatten().any(|p| p.foreign_partition)) {
            tally.cases_with_root_of_another_partition += 1;
        }
        // 1. Validation: what AWS stores is what the product can read.
        let documents = read(&case.documents);
        for (document, read) in case.documents.iter().zip(&documents) {
            tally.documents += 1;
            let text = &read.text;
            match (read.sandbox.is_some(), read.product.is_some()) {
                (true, true) => {}
                (false, false) => tally.documents_refused_by_both += 1,
                (false, true)
                    if document
                        .statements
                        .iter()
                        .any(GenStatement::has_wider_action) =>
                {
                    tally.documents_with_wider_action_refused_by_sandbox_only += 1;
                }
                (sandbox, product) => prop_assert!(
                    false,
                    "validation differs (sandbox accepts: {sandbox}, product accepts: {product}) for {text}"
                ),
            }
        }
        // 2. Evaluation over what the sandbox stored.
        let (sandbox, product) = decide(&documents, &case.caller);
        let documents_json = || {
            case.documents
                .iter()
                .map(GenDocument::to_json)
                .collect::<Vec<_>>()
        };
        if let Outcome::MayBeDenied | Outcome::MayBeAllowed = product {
            // The product cannot know some conditions; AWS's verdict must be the product's for
            // one way those conditions could come out (statement by statement).
            let possible: Vec<Outcome> = case
                .resolutions()
                .into_iter()
                .map(|resolved| decide(&read(&resolved.documents), &resolved.caller).1)
                .collect();
            prop_assert!(
                possible.contains(&sandbox)
                    && (product == Outcome::MayBeDenied || sandbox != Outcome::Denied),
                "sandbox {sandbox:?}, product {product:?} (resolved: {possible:?}) for caller {:?} and documents {:#?}",
                case.caller,
                documents_json()
            );
            *tally
                .product_undecided
                .entry(format!("{product:?} (sandbox {sandbox:?})"))
                .or_default() += 1;
            return Ok(());
        }
        prop_assert_eq!(
            sandbox,
            product,
            "for caller {:?} and documents {:#?}",
            case.caller,
            documents_json()
        );
        *tally.outcomes.entry(format!("{sandbox:?}")).or_default() += 1;
        Ok(())
    });
    let tally = tally.into_inner();
    println!("{tally:#?}");
    if let Err(e) = result {
        panic!("{e}");
    }
    assert_eq!(tally.cases, cases);
    for (what, count) in [
        (
            "copy-only action wildcards",
            tally.cases_with_copy_only_wildcard_action,
        ),
        (
            "resource wildcards over a colon",
            tally.cases_with_resource_wildcard_over_a_colon,
        ),
        (
            "roots of another partition",
            tally.cases_with_root_of_another_partition,
        ),
        (
            "conditions the product evaluates",
            tally.cases_with_condition_the_product_evaluates,
        ),
        (
            "conditions the product cannot evaluate",
            tally.cases_with_condition_the_product_cannot_evaluate,
        ),
        (
            "documents without Version",
            tally.cases_with_document_without_version,
        ),
    ] {
        assert!(count > cases / 100, "too few cases with {what}: {tally:?}");
    }
    for outcome in ["Allowed", "Denied", "NotAllowed"] {
        assert!(
            tally.outcomes.get(outcome).copied().unwrap_or(0) > cases / 50,
            "too few {outcome} cases to mean anything: {tally:?}"
        );
    }
}
