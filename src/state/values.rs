//! AWS's enumerated values that reko-promote decides on, as types: a project version's status
//! (every value of the service model's `ProjectVersionStatus`) and a project's feature
//! (`CustomizationFeature`). Each keeps a value AWS adds later as `Unknown`, written as AWS
//! wrote it, so a new status is shown as is and never mistaken for a known one.

use std::borrow::Cow;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Defines a string enum of AWS values with an `Unknown(String)` case: parsing, the AWS
/// spelling, serde as that string, and a string JSON Schema listing the known values.
macro_rules! aws_values {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $text:literal,)* }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum $name {
            $($(#[$vmeta])* $variant,)*
            /// A value this version of reko-promote does not know, as AWS wrote it.
            Unknown(String),
        }

        impl $name {
            /// Every known value, in the service model's order.
            pub const KNOWN: &'static [&'static str] = &[$($text),*];

            pub fn parse(text: &str) -> Self {
                match text {
                    $($text => $name::$variant,)*
                    other => $name::Unknown(other.to_string()),
                }
            }

            /// The value as AWS writes it.
            pub fn as_str(&self) -> &str {
                match self {
                    $($name::$variant => $text,)*
                    $name::Unknown(other) => other,
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                Ok($name::parse(&String::deserialize(deserializer)?))
            }
        }

        impl JsonSchema for $name {
            fn schema_name() -> Cow<'static, str> {
                stringify!($name).into()
            }

            fn json_schema(_: &mut SchemaGenerator) -> Schema {
                json_schema!({
                    "type": "string",
                    "description": format!(
                        "As AWS writes it: {} (a value AWS adds later is kept as written).",
                        $name::KNOWN.join(", ")
                    ),
                })
            }
        }
    };
}

aws_values! {
    /// A project version's status (`ProjectVersionStatus`).
    VersionStatus {
        TrainingInProgress = "TRAINING_IN_PROGRESS",
        TrainingCompleted = "TRAINING_COMPLETED",
        TrainingFailed = "TRAINING_FAILED",
        Starting = "STARTING",
        Running = "RUNNING",
        Failed = "FAILED",
        Stopping = "STOPPING",
        Stopped = "STOPPED",
        Deleting = "DELETING",
        CopyingInProgress = "COPYING_IN_PROGRESS",
        CopyingCompleted = "COPYING_COMPLETED",
        CopyingFailed = "COPYING_FAILED",
        Deprecated = "DEPRECATED",
        Expired = "EXPIRED",
    }
}

aws_values! {
    /// What a project customizes (`CustomizationFeature`): Custom Labels models, or adapters
    /// of content moderation (which CopyProjectVersion does not copy).
    ProjectFeature {
        ContentModeration = "CONTENT_MODERATION",
        CustomLabels = "CUSTOM_LABELS",
    }
}

impl VersionStatus {
    /// Whether a version in this status can be the source of CopyProjectVersion: a trained
    /// model, whether or not it is running.
    pub fn is_copyable_source(&self) -> bool {
        matches!(
            self,
            VersionStatus::TrainingCompleted
                | VersionStatus::CopyingCompleted
                | VersionStatus::Starting
                | VersionStatus::Running
                | VersionStatus::Stopping
                | VersionStatus::Stopped
        )
    }
}

impl ProjectFeature {
    /// Whether CopyProjectVersion can copy versions of such a project (Custom Labels only).
    pub fn is_copyable(&self) -> bool {
        *self == ProjectFeature::CustomLabels
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_status_of_the_service_model_is_known_and_new_ones_are_kept() {
        let model: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../shared/aws-models/rekognition-2016-06-27.service-2.json"
            ))
            .unwrap_or_else(|_| {
                // The models are beside the repository on the development machine; without
                // them, check against the SDK's own list.
                let values: Vec<String> =
                    aws_sdk_rekognition::types::ProjectVersionStatus::values()
                        .iter()
                        .map(|v| format!("\"{v}\""))
                        .collect();
                format!(
                    r#"{{"shapes":{{"ProjectVersionStatus":{{"enum":[{}]}}}}}}"#,
                    values.join(",")
                )
            }),
        )
        .unwrap();
        let values = model["shapes"]["ProjectVersionStatus"]["enum"]
            .as_array()
            .unwrap();
        assert!(!values.is_empty());
        for value in values {
            let text = value.as_str().unwrap();
            let status = VersionStatus::parse(text);
            assert!(
                !matches!(status, VersionStatus::Unknown(_)),
                "{text} is not known"
            );
            assert_eq!(status.as_str(), text);
        }
        assert_eq!(
            VersionStatus::KNOWN.len(),
            aws_sdk_rekognition::types::ProjectVersionStatus::values().len()
        );
        let new = VersionStatus::parse("HIBERNATING");
        assert_eq!(new, VersionStatus::Unknown("HIBERNATING".into()));
        assert_eq!(serde_json::to_string(&new).unwrap(), "\"HIBERNATING\"");
        assert!(!new.is_copyable_source());
        let back: VersionStatus = serde_json::from_str("\"COPYING_FAILED\"").unwrap();
        assert_eq!(back, VersionStatus::CopyingFailed);
    }
}
