//! Renderers: turn the documents the stages produce (validation reports, plans) into text for
//! people. They read only those documents, never the manifests or AWS, so `--format json` and the
//! text output cannot disagree. Colour codes are always written; the CLI's output stream
//! (`anstream`) strips them when the output is not a terminal or NO_COLOR is set.

pub mod findings;
pub mod plan;
