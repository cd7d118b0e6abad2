//! reko-promote: declarative, GitOps-style promotion of Amazon Rekognition Custom Labels model
//! versions across AWS accounts and projects.
//!
//! Data flows one way, and the modules follow it:
//! `manifest` (YAML files → validated desired state, `desired`) → `aws` (the SDK edge) → `state`
//! (live AWS state, read through `aws`) → `plan` (a pure diff of the two) → `render` / `apply`;
//! `pipeline`, `schema`, `import`, `demo` and `cli` sit on top. No module imports a later one. `constraints` holds the AWS value
//! rules both the validator and the `sandbox` (a local Rekognition + STS emulator) enforce.
//! Only `aws`, `state`, `apply` and `sandbox` touch the network.

pub mod apply;
pub mod aws;
pub mod cli;
pub mod constraints;
pub mod demo;
pub mod desired;
pub mod duration;
pub mod iam;
pub mod import;
pub mod manifest;
pub mod parallel;
pub mod pipeline;
pub mod plan;
pub mod policy;
pub mod policy_pack;
pub mod render;
pub mod sandbox;
pub mod schema;
pub mod signal;
pub mod state;
