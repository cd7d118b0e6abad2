//! Manifests: YAML files → a validated, normalized [`DesiredState`](crate::desired::DesiredState).
//!
//! [`load`] is the only entry point later stages use. It reads every file under the given paths,
//! reports every problem it finds (never only the first), and yields the desired state only when
//! there is no error. It makes no AWS call: what the live accounts hold is `state`'s business.
//! The pieces, in the order data flows through them: `yaml` (text, documents, positions), `load`
//! (documents → `model` types), `validate` (each document's values and references), `resolve`
//! (placements, precedence, collisions), `chains` and `serving` (lifecycle, running and prune); `findings` is what they report, `schema` the JSON Schema.

pub mod chains;
pub mod findings;
pub mod load;
pub mod model;
pub mod resolve;
pub mod schema;
pub mod serving;
pub mod validate;
pub mod yaml;

use std::path::PathBuf;

use crate::desired::DesiredState;

use findings::{Counts, Finding, Report};

/// What loading a set of manifests gave: the report, and the desired state when valid.
#[derive(Debug)]
pub struct Loaded {
    pub report: Report,
    /// `Some` exactly when `report.valid`.
    pub desired: Option<DesiredState>,
}

/// The directory loaded when no path is given.
pub const DEFAULT_PATH: &str = "manifests";

/// Loads, validates and resolves the manifests under `paths` (files, or directories walked for
/// `*.yaml` / `*.yml`).
pub fn load(paths: &[PathBuf]) -> Loaded {
    let mut findings: Vec<Finding> = Vec::new();
    let files = load::discover(paths, &mut findings);
    if files.is_empty() && findings.is_empty() {
        let shown: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
        findings.push(
            Finding::error(
                findings::Code::NoManifests,
                shown.join(", "),
                "no manifest file found",
            )
            .allowed("files ending in .yaml or .yml, or directories holding them"),
        );
    }
    let schema = schema::SchemaIndex::default();
    let docs = load::load_documents(&files, &schema, &mut findings);
    let accounts = validate::check_accounts(&docs, &mut findings);

    let mut usable = Vec::new();
    let mut seen: std::collections::BTreeMap<&str, load::DocRef> = Default::default();
    for (at, promotion) in &docs.promotions {
        if let Some(first) = seen.get(promotion.name.as_str()) {
            let first = docs.describe_location(*first, &yaml::FieldPath::root().key("name"));
            findings.push(
                docs.finding(
                    findings::Code::DuplicateName,
                    *at,
                    &format!("promotions[{}]", promotion.name),
                    &yaml::FieldPath::root().key("name"),
                    format!("promotion `{}` is declared twice", promotion.name),
                )
                .hint(format!(
                    "it is first declared in {first}; names must be unique"
                )),
            );
            continue;
        }
        seen.insert(&promotion.name, *at);
        if validate::check_promotion(&docs, *at, promotion, &accounts, &mut findings) {
            usable.push((*at, promotion));
        }
    }
    let mut desired = resolve::resolve(&docs, &accounts, &usable, &mut findings);
    chains::attach(&accounts, &usable, &mut desired);
    desired.serving = serving::resolve(&docs, &accounts, &usable, &mut findings);
    let counts = Counts {
        accounts: desired.accounts.len(),
        promotions: usable.len(),
        placements: desired.placements.len(),
    };
    let shown_files = files.iter().map(|f| f.display().to_string()).collect();
    let report = Report::new(shown_files, findings, Some(counts));
    let desired = report.valid.then_some(desired);
    Loaded { report, desired }
}
