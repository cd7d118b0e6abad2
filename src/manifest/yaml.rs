//! Reading manifest files: text checks, YAML documents, and where each field stands in the file.
//!
//! `serde_yaml` parses the documents (and guards against nesting and alias bombs), but its values
//! carry no position. So each file is also walked once with `yaml-rust2`'s event parser to build
//! a [`PositionIndex`]: field path → line and column, which every later finding uses to point at
//! the exact spot. What the documents mean is left to `load` and `validate`.

use std::collections::HashMap;
use std::fmt;

use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::Marker;

/// The largest manifest file read, in bytes: far beyond any real manifest, small enough that a
/// stray data file cannot exhaust memory.
pub const MAX_FILE_BYTES: u64 = 4 * 1024 * 1024;

/// One step of a field path inside a document.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Segment {
    Key(String),
    Index(usize),
}

/// A field path inside one document.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FieldPath(pub Vec<Segment>);

impl FieldPath {
    pub fn root() -> Self {
        FieldPath(Vec::new())
    }

    /// This path, one key deeper.
    pub fn key(&self, key: &str) -> Self {
        let mut segments = self.0.clone();
        segments.push(Segment::Key(key.to_string()));
        FieldPath(segments)
    }

    /// This path, one list index deeper.
    pub fn index(&self, index: usize) -> Self {
        let mut segments = self.0.clone();
        segments.push(Segment::Index(index));
        FieldPath(segments)
    }

    /// The path without its last step.
    pub fn parent(&self) -> Self {
        let mut segments = self.0.clone();
        segments.pop();
        FieldPath(segments)
    }

    /// The last key of the path, if it ends in a key.
    pub fn last_key(&self) -> Option<&str> {
        match self.0.last() {
            Some(Segment::Key(k)) => Some(k),
            _ => None,
        }
    }
}

impl fmt::Display for FieldPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, segment) in self.0.iter().enumerate() {
            match segment {
                Segment::Key(k) if is_plain_key(k) => {
                    if i > 0 {
                        f.write_str(".")?;
                    }
                    f.write_str(k)?;
                }
                Segment::Key(k) => write!(f, "[{k:?}]")?,
                Segment::Index(n) => write!(f, "[{n}]")?,
            }
        }
        Ok(())
    }
}

fn is_plain_key(key: &str) -> bool {
    !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// Line and column (both from 1) of every field of every document of one file.
#[derive(Debug, Default)]
pub struct PositionIndex {
    documents: Vec<HashMap<FieldPath, (usize, usize)>>,
}

impl PositionIndex {
    /// Indexes `text`. A file that `yaml-rust2` cannot parse gets positions for the documents
    /// before the error, and none after.
    pub fn build(text: &str) -> Self {
        let mut builder = IndexBuilder::default();
        let mut parser = Parser::new_from_str(text);
        // The error, if any, was already reported by serde_yaml with its own position.
        let _ = parser.load(&mut builder, true);
        PositionIndex {
            documents: builder.documents,
        }
    }

    /// Where `path` stands in document `document`: the field itself when indexed, else the
    /// nearest indexed parent (a missing field is reported at its parent).
    pub fn find(&self, document: usize, path: &FieldPath) -> Option<(usize, usize)> {
        let positions = self.documents.get(document)?;
        let mut path = path.clone();
        loop {
            if let Some(position) = positions.get(&path) {
                return Some(*position);
            }
            if path.0.is_empty() {
                return None;
            }
            path = path.parent();
        }
    }
}

enum Frame {
    Mapping {
        path: FieldPath,
        key: Option<String>,
    },
    Sequence {
        path: FieldPath,
        next: usize,
    },
}

#[derive(Default)]
struct IndexBuilder {
    documents: Vec<HashMap<FieldPath, (usize, usize)>>,
    stack: Vec<Frame>,
}

impl IndexBuilder {
    fn record(&mut self, path: FieldPath, mark: Marker) {
        if let Some(doc) = self.documents.last_mut() {
            doc.entry(path).or_insert((mark.line(), mark.col() + 1));
        }
    }

    /// Handles one node (scalar, alias or the start of a collection) and returns the path it
    /// stands at, or `None` when the node is a mapping key.
    fn node(
        &mut self,
        scalar: Option<&str>,
        starts_mapping: bool,
        mark: Marker,
    ) -> Option<FieldPath> {
        match self.stack.last_mut() {
            None => {
                if !starts_mapping {
                    self.record(FieldPath::root(), mark);
                }
                Some(FieldPath::root())
            }
            Some(Frame::Mapping { path, key }) => match key.take() {
                None => {
                    // A key. Complex (non-scalar) keys are not part of the language; they get a
                    // placeholder so their contents do not shift the rest of the index.
                    let name = scalar.unwrap_or("?").to_string();
                    let field = path.key(&name);
                    let container = path.clone();
                    *key = Some(name);
                    self.record(container, mark);
                    self.record(field, mark);
                    None
                }
                Some(name) => Some(path.key(&name)),
            },
            Some(Frame::Sequence { path, next }) => {
                let field = path.index(*next);
                *next += 1;
                // A mapping item is located at its first key (recorded when the key comes), which
                // is where a reader looks; the collection-start mark can point past it.
                if !starts_mapping {
                    self.record(field.clone(), mark);
                }
                Some(field)
            }
        }
    }
}

impl MarkedEventReceiver for IndexBuilder {
    fn on_event(&mut self, event: Event, mark: Marker) {
        match event {
            Event::DocumentStart => {
                self.documents.push(HashMap::new());
                self.stack.clear();
            }
            Event::Scalar(value, ..) => {
                self.node(Some(&value), false, mark);
            }
            Event::Alias(_) => {
                self.node(None, false, mark);
            }
            Event::MappingStart(..) => {
                let is_key = matches!(self.stack.last(), Some(Frame::Mapping { key: None, .. }));
                let path = self.node(None, true, mark).unwrap_or_else(FieldPath::root);
                let path = if is_key { path.key("?") } else { path };
                self.stack.push(Frame::Mapping { path, key: None });
            }
            Event::SequenceStart(..) => {
                let is_key = matches!(self.stack.last(), Some(Frame::Mapping { key: None, .. }));
                let path = self.node(None, false, mark).unwrap_or_else(FieldPath::root);
                let path = if is_key { path.key("?") } else { path };
                self.stack.push(Frame::Sequence { path, next: 0 });
            }
            Event::MappingEnd => {
                // An empty mapping item never saw a key: locate it at its end.
                if let Some(Frame::Mapping { path, .. }) = self.stack.pop() {
                    self.record(path, mark);
                }
            }
            Event::SequenceEnd => {
                self.stack.pop();
            }
            _ => {}
        }
    }
}

/// A file's text, after the checks that come before YAML: size, encoding.
pub enum FileText {
    Text(String),
    /// Not readable as a manifest; the finding says why.
    Refused(super::findings::Finding),
}

/// Reads `path` as a manifest file, refusing what cannot be one.
pub fn read_file(path: &std::path::Path, display: &str) -> FileText {
    use super::findings::{Code, Finding};
    let refuse = |code, message: String| FileText::Refused(Finding::error(code, display, message));
    let size = match std::fs::metadata(path) {
        Ok(meta) => meta.len(),
        Err(e) => return refuse(Code::ReadError, format!("cannot read the file: {e}")),
    };
    if size > MAX_FILE_BYTES {
        return FileText::Refused(
            Finding::error(
                Code::FileTooLarge,
                display,
                format!("the file is {size} bytes, too large for a manifest"),
            )
            .allowed(format!("at most {MAX_FILE_BYTES} bytes per manifest file")),
        );
    }
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(e) => return refuse(Code::ReadError, format!("cannot read the file: {e}")),
    };
    if bytes.contains(&0) {
        return FileText::Refused(
            Finding::error(
                Code::BinaryFile,
                display,
                "the file holds binary data (a NUL byte), not YAML text",
            )
            .allowed("UTF-8 YAML text"),
        );
    }
    match String::from_utf8(bytes) {
        Ok(mut text) => {
            if text.starts_with('\u{feff}') {
                text.remove(0);
            }
            FileText::Text(text)
        }
        Err(e) => FileText::Refused(
            Finding::error(
                Code::BinaryFile,
                display,
                format!(
                    "the file is not UTF-8 text (invalid byte at offset {})",
                    e.utf8_error().valid_up_to()
                ),
            )
            .allowed("UTF-8 YAML text"),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key_path(keys: &[&str]) -> FieldPath {
        FieldPath(keys.iter().map(|k| Segment::Key(k.to_string())).collect())
    }

    #[test]
    fn index_points_at_keys_and_items_across_documents() {
        let text = "a: 1\nb:\n  c: [x, y]\n  d:\n    - e: 2\n---\nz: {w: 3}\n";
        let index = PositionIndex::build(text);
        assert_eq!(index.find(0, &key_path(&["a"])), Some((1, 1)));
        assert_eq!(index.find(0, &key_path(&["b", "c"])), Some((3, 3)));
        assert_eq!(
            index.find(0, &key_path(&["b", "c"]).index(1)),
            Some((3, 10))
        );
        assert_eq!(
            index.find(0, &key_path(&["b", "d"]).index(0).key("e")),
            Some((5, 7))
        );
        assert_eq!(index.find(1, &key_path(&["z", "w"])), Some((7, 5)));
        // A missing field falls back to its parent.
        assert_eq!(index.find(0, &key_path(&["b", "nope"])), Some((2, 1)));
    }

    #[test]
    fn paths_display_like_the_docs() {
        let path = key_path(&["destinations", "prod", "account"]);
        assert_eq!(path.to_string(), "destinations.prod.account");
        let path = key_path(&["versions"]).index(0).key("tags").key("a.b");
        assert_eq!(path.to_string(), "versions[0].tags[\"a.b\"]");
    }
}
