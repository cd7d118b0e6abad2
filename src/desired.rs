//! The desired state: what the manifests ask for, normalized, with every default applied.
//!
//! This is the one thing later stages (plan, apply, iam, policy) read from the manifests: a
//! sorted, de-duplicated list of placements, each saying that one source version must exist in
//! one destination project under one version name, with the exact CopyProjectVersion settings and
//! the account identities to act with, and the file and document it came from. It is plain data
//! (serde), built by `manifest::load` and never by hand outside tests.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The whole desired state of a set of manifests.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DesiredState {
    /// Every declared account, sorted by name.
    pub accounts: Vec<Account>,
    /// Every placement, sorted by [`Placement::sort_key`].
    pub placements: Vec<Placement>,
    /// Every destination declaring `running` or `prune` (issue 16), sorted by project, then
    /// promotion and destination. Several destinations may name one project; manifest validation
    /// makes their `running` agree.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub serving: Vec<Serving>,
    /// True when `--target`/`--exclude` left placements out: what is absent here may still be
    /// wanted, so nothing may be pruned on its account (managed policies only widen).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub partial: bool,
}

/// An AWS account and how to act in it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Account {
    /// The name manifests refer to it by.
    pub name: String,
    /// The 12-digit account ID.
    pub account_id: String,
    /// The role to assume in it; `None` means the ambient credentials, which must belong to it.
    pub role_arn: Option<String>,
    /// The read-only role `plan` assumes instead of `role_arn`, when declared.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan_role_arn: Option<String>,
    /// The external id to pass when assuming `role_arn` (or `plan_role_arn`).
    pub external_id: Option<String>,
}

/// A project in an account and region, named by its name (and its ARN when the manifest gave one).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ProjectRef {
    pub account_id: String,
    pub region: String,
    pub name: String,
    /// The full ARN, when the manifest wrote one (it pins the project's creation timestamp).
    pub arn: Option<String>,
}

/// The `OutputConfig` of a copy, resolved.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct OutputConfig {
    pub s3_bucket: String,
    pub s3_key_prefix: Option<String>,
}

/// Where a placement was declared, for error messages and plans.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Origin {
    /// The manifest file, as given on the command line or found in a directory.
    pub file: String,
    /// The document's index in the file, from 0.
    pub document: usize,
    /// The line of the version entry that asks for this placement, from 1.
    pub line: Option<usize>,
}

/// What the managed project policies of a source project grant each destination account
/// (`source.policyScope`): least privilege by default, wider only when a manifest says so. Every
/// scope grants the listed destination accounts only, never a `*` principal.
#[derive(
    Debug,
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "camelCase")]
pub enum PolicyScope {
    // The exact version ARNs each account receives.
    #[default]
    Versions,
    // Every version of the names each account receives (`…/version/NAME/*`).
    VersionNames,
    // Every version of the source project (`…/version/*`).
    Project,
}

impl PolicyScope {
    /// Every scope, narrowest first.
    pub const ALL: [PolicyScope; 3] = [
        PolicyScope::Versions,
        PolicyScope::VersionNames,
        PolicyScope::Project,
    ];

    /// The value manifests write (`versions`, `versionNames`, `project`).
    pub fn manifest_name(self) -> &'static str {
        match self {
            PolicyScope::Versions => "versions",
            PolicyScope::VersionNames => "versionNames",
            PolicyScope::Project => "project",
        }
    }

    /// The scope a manifest value names, if any.
    pub fn from_manifest_name(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.manifest_name() == value)
    }

    fn is_default(&self) -> bool {
        *self == PolicyScope::default()
    }
}

/// One source version that must exist in one destination project under one version name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Placement {
    /// The promotion that asks for it.
    pub promotion: String,
    /// The destination's key within that promotion.
    pub destination: String,
    /// The region of the source and destination (one region: CopyProjectVersion's rule).
    pub region: String,
    /// The account that owns the source project.
    pub source_account: String,
    /// The source project.
    pub source_project: ProjectRef,
    /// The source version's name.
    pub source_version: String,
    /// The source version's ARN, when the manifest wrote one.
    pub source_version_arn: Option<String>,
    /// Whether apply manages the source project's policies for this copy.
    pub manage_policy: bool,
    /// How widely the managed policies of the source project grant (`source.policyScope`).
    #[serde(default, skip_serializing_if = "PolicyScope::is_default")]
    pub policy_scope: PolicyScope,
    /// The account that owns the destination project, and makes the copy.
    pub destination_account: String,
    /// The destination project.
    pub destination_project: ProjectRef,
    /// The version's name in the destination project.
    pub version_name: String,
    /// `OutputConfig` of the copy.
    pub output_config: OutputConfig,
    /// `KmsKeyId` of the copy.
    pub kms_key_id: Option<String>,
    /// `Tags` of the copy, merged across levels.
    pub tags: BTreeMap<String, String>,
    /// Where it was declared.
    pub origin: Origin,
    /// Its quality gates and the destination it waits for (issue 15's promotion lifecycle).
    #[serde(default, skip_serializing_if = "Lifecycle::is_empty")]
    pub lifecycle: Lifecycle,
}

/// A score between 0 and 1 (an F1 score or a gate's minimum), as AWS reports it (`f32`).
/// Always finite (the manifest validator refuses anything else), hence `Eq`.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Serialize, Deserialize, JsonSchema)]
#[serde(transparent)]
pub struct Score(pub f32);

impl Eq for Score {}

impl std::fmt::Display for Score {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // f32's shortest round-trip form: 0.87, never 0.8700000047683716.
        write!(f, "{}", self.0)
    }
}

/// The quality gates a placement's source version must pass before it is copied, resolved
/// (the version entry's fields over the promotion's).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Gates {
    /// The lowest F1 score that may be copied.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_f1_score: Option<Score>,
    /// Tags the source version must carry, with these values.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub require_tags: BTreeMap<String, String>,
}

impl Gates {
    pub fn is_empty(&self) -> bool {
        self.min_f1_score.is_none() && self.require_tags.is_empty()
    }
}

/// The placement that must hold the version first (`after`), and for how long (`soak`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct After {
    /// The predecessor placement: same promotion and version name, the `after` destination.
    pub key: PlacementKey,
    /// The account owning the predecessor's destination project.
    pub account: String,
    /// The predecessor's destination project (read even when `--target` leaves it out).
    pub project: ProjectRef,
    /// How long the predecessor's copy must have existed, in whole seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub soak_seconds: Option<u64>,
}

/// A placement's lifecycle: gates on its source version and the destination it follows.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lifecycle {
    #[serde(default, skip_serializing_if = "Gates::is_empty")]
    pub gates: Gates,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<After>,
}

impl Lifecycle {
    pub fn is_empty(&self) -> bool {
        self.gates.is_empty() && self.after.is_none()
    }
}

/// The inference units a version serves with (StartProjectVersion's MinInferenceUnits and
/// MaxInferenceUnits).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "camelCase")]
pub struct InferenceUnits {
    pub min: u32,
    /// Auto-scaling bound; `None`: no auto-scaling.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<u32>,
}

impl InferenceUnits {
    /// The units as AWS reports them on a running version: without auto-scaling, the maximum is
    /// the minimum.
    pub fn effective(self) -> (u32, u32) {
        (self.min, self.max.unwrap_or(self.min))
    }
}

impl std::fmt::Display for InferenceUnits {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.max {
            Some(max) if max != self.min => write!(f, "{}–{max} inference units", self.min),
            _ if self.min == 1 => f.write_str("1 inference unit"),
            _ => write!(f, "{} inference units", self.min),
        }
    }
}

/// `destinations.NAME.running`, resolved: the version (by its destination name) that serves.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Running {
    pub version_name: String,
    pub units: InferenceUnits,
}

/// The serving and prune declarations of one destination of one promotion.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Serving {
    /// The promotion and the destination's key in it (with `source_account`, what
    /// `--target`/`--exclude` match, as for placements).
    pub promotion: String,
    pub destination: String,
    pub source_account: String,
    /// The account owning the destination project.
    pub account: String,
    pub project: ProjectRef,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub running: Option<Running>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub prune: bool,
    /// Where the destination is declared (its line).
    pub origin: Origin,
}

/// The stable identity of a placement: the promotion asking for it, the destination's key in
/// that promotion, and the version's name there. Plan entries, grants, fingerprints, the stale
/// check, apply and `policy` all find a placement by this key, never by its position in a list
/// (a filter or a sort would silently pair the wrong things).
#[derive(
    Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "camelCase")]
pub struct PlacementKey {
    pub promotion: String,
    pub destination: String,
    pub version_name: String,
}

impl std::fmt::Display for PlacementKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}/{}/{}",
            self.promotion, self.destination, self.version_name
        )
    }
}

impl Placement {
    /// This placement's stable key.
    pub fn key(&self) -> PlacementKey {
        PlacementKey {
            promotion: self.promotion.clone(),
            destination: self.destination.clone(),
            version_name: self.version_name.clone(),
        }
    }

    /// The order placements are listed in: destination account ID, region, project, version name.
    pub fn sort_key(&self) -> (&str, &str, &str, &str) {
        (
            &self.destination_project.account_id,
            &self.region,
            &self.destination_project.name,
            &self.version_name,
        )
    }

    /// Whether the copy crosses accounts (and so needs a project policy on the source).
    pub fn is_cross_account(&self) -> bool {
        self.source_project.account_id != self.destination_project.account_id
    }
}

impl DesiredState {
    /// The account declared under `name`.
    pub fn account(&self, name: &str) -> Option<&Account> {
        self.accounts
            .binary_search_by(|a| a.name.as_str().cmp(name))
            .ok()
            .map(|i| &self.accounts[i])
    }
}

/// Which placements a run covers: `--target` and `--exclude`, each naming a promotion, a
/// destination (its key in a promotion) or an account.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    pub targets: Vec<String>,
    pub excludes: Vec<String>,
}

/// `--target`/`--exclude` names that match nothing in the manifests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownNames {
    pub unknown: Vec<UnknownName>,
    pub known: KnownNames,
}

impl std::fmt::Display for UnknownNames {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<String> = self
            .unknown
            .iter()
            .map(|u| match &u.suggestion {
                Some(s) => format!("{} `{}` (did you mean `{s}`?)", u.flag, u.name),
                None => format!("{} `{}`", u.flag, u.name),
            })
            .collect();
        let list = |names: &[String]| {
            if names.is_empty() {
                "none".to_string()
            } else {
                names.join(", ")
            }
        };
        write!(
            f,
            "{} {} nothing in the manifests; known promotions: {}; destinations: {}; accounts: {}",
            names.join(", "),
            if names.len() == 1 { "matches" } else { "match" },
            list(&self.known.promotions),
            list(&self.known.destinations),
            list(&self.known.accounts)
        )
    }
}

impl std::error::Error for UnknownNames {}

/// One name that matches nothing, with the closest known name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownName {
    /// `--target` or `--exclude`.
    pub flag: &'static str,
    pub name: String,
    pub suggestion: Option<String>,
}

/// The names `--target`/`--exclude` may use.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KnownNames {
    pub promotions: Vec<String>,
    pub destinations: Vec<String>,
    pub accounts: Vec<String>,
}

impl KnownNames {
    pub fn of(desired: &DesiredState) -> Self {
        use std::collections::BTreeSet;
        let promotions: BTreeSet<&str> = desired
            .placements
            .iter()
            .map(|p| p.promotion.as_str())
            .collect();
        let destinations: BTreeSet<&str> = desired
            .placements
            .iter()
            .map(|p| p.destination.as_str())
            .collect();
        let accounts: BTreeSet<&str> = desired.accounts.iter().map(|a| a.name.as_str()).collect();
        let owned = |set: BTreeSet<&str>| set.into_iter().map(str::to_string).collect();
        KnownNames {
            promotions: owned(promotions),
            destinations: owned(destinations),
            accounts: owned(accounts),
        }
    }

    fn contains(&self, name: &str) -> bool {
        [&self.promotions, &self.destinations, &self.accounts]
            .iter()
            .any(|names| names.iter().any(|n| n == name))
    }

    /// The known name closest to `name`, when one is close enough to be a likely typo.
    fn closest(&self, name: &str) -> Option<String> {
        [&self.promotions, &self.destinations, &self.accounts]
            .into_iter()
            .flatten()
            .map(|known| (strsim::jaro_winkler(name, known), known))
            .filter(|(score, _)| *score >= 0.8)
            .max_by(|a, b| a.0.total_cmp(&b.0))
            .map(|(_, known)| known.clone())
    }
}

impl Selection {
    fn names(p: &Placement) -> [&str; 4] {
        [
            &p.promotion,
            &p.destination_account,
            &p.destination,
            &p.source_account,
        ]
    }

    fn matches(&self, names: [&str; 4]) -> bool {
        (self.targets.is_empty() || self.targets.iter().any(|t| names.contains(&t.as_str())))
            && !self.excludes.iter().any(|e| names.contains(&e.as_str()))
    }

    /// Whether a destination's `running`/`prune` declaration is selected: by the same names as
    /// its placements.
    pub fn includes_serving(&self, s: &Serving) -> bool {
        self.matches([&s.promotion, &s.account, &s.destination, &s.source_account])
    }

    /// Whether nothing is selected or excluded (the whole desired state).
    pub fn is_everything(&self) -> bool {
        self.targets.is_empty() && self.excludes.is_empty()
    }

    pub fn includes(&self, p: &Placement) -> bool {
        self.matches(Self::names(p))
    }

    /// Every `--target`/`--exclude` name must name a promotion, destination or account of
    /// `desired`: a typo would otherwise read as "nothing to do".
    pub fn check(&self, desired: &DesiredState) -> Result<(), UnknownNames> {
        let known = KnownNames::of(desired);
        let unknown: Vec<UnknownName> = self
            .targets
            .iter()
            .map(|n| ("--target", n))
            .chain(self.excludes.iter().map(|n| ("--exclude", n)))
            .filter(|(_, name)| !known.contains(name))
            .map(|(flag, name)| UnknownName {
                flag,
                name: name.clone(),
                suggestion: known.closest(name),
            })
            .collect();
        if unknown.is_empty() {
            Ok(())
        } else {
            Err(UnknownNames { unknown, known })
        }
    }

    /// The desired state restricted to the selection. Any `--target`/`--exclude` makes the run
    /// partial: what it leaves out may still be wanted, so nothing is withdrawn.
    pub fn apply(&self, desired: &DesiredState) -> DesiredState {
        self.select(desired.clone())
    }

    /// [`Selection::apply`] taking the desired state by value: what is selected is moved, not
    /// copied (a run selects from the state it loaded, then has no other use for it).
    pub fn select(&self, desired: DesiredState) -> DesiredState {
        let partial = desired.partial || !self.is_everything();
        DesiredState {
            accounts: desired.accounts,
            partial,
            placements: desired
                .placements
                .into_iter()
                .filter(|p| self.includes(p))
                .collect(),
            serving: desired
                .serving
                .into_iter()
                .filter(|s| self.includes_serving(s))
                .collect(),
        }
    }
}
