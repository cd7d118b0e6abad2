//! reko-promote: declarative, GitOps-style promotion of Amazon Rekognition Custom Labels model
//! versions across AWS accounts and projects.
//!
//! Data flows one way, and the modules follow it:
//! `manifest` (YAML files → validated desired state) → `state` (live AWS state, read through the
//! SDK) → `plan` (a pure diff of the two) → `render` / `apply`. `constraints` holds the AWS value
//! rules both the validator and the `sandbox` (a local Rekognition + STS emulator) enforce.
//! Only `aws`, `state`, `apply` and `sandbox` touch the network.

pub mod constraints;
pub mod sandbox;
