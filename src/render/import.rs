//! Renderings of what `import` did: the manifests written and the versions skipped, as text or
//! as JSON (the [`Imported`] result with the files written).

use std::fmt::Write;

use serde::Serialize;

use crate::import::Imported;

/// The JSON summary of an import.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Summary<'a> {
    pub written: &'a [String],
    #[serde(flatten)]
    pub imported: &'a Imported,
}

/// The summary as text.
pub fn text(imported: &Imported, written: &[String]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Imported {} version(s) into {} manifest(s):",
        imported.versions.len(),
        written.len()
    );
    for path in written {
        let _ = writeln!(out, "  {path}");
    }
    for note in &imported.skipped {
        let _ = writeln!(out, "Skipped {note}");
    }
    out
}
