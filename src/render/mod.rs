//! Renderers: turn the documents the stages produce (validation reports, plans, apply reports,
//! policies, imports) into text for people, one module per command output. They read only
//! those documents, never the manifests or AWS, so `--format json` and the text output cannot
//! disagree; and they are the only place the words of a reason are produced. Colour codes are
//! always written; the CLI's output stream (`anstream`) strips them when the output is not a
//! terminal or NO_COLOR is set. (The `iam` command's Terraform and CloudFormation texts are
//! produced by `crate::iam`, beside the policies they render.)

pub mod apply;
pub mod budget;
pub mod findings;
pub mod import;
pub mod plan;
pub mod policy;
pub mod serving;
