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

/// The deepest nesting of mappings and lists a manifest may have. Manifests need about six
/// levels; the limit stays well below `serde_yaml`'s own (128) so that [`check_nesting`] always
/// answers first, before any YAML parser sees the text.
pub const MAX_NESTING: usize = 64;

/// Where a file first nests deeper than [`MAX_NESTING`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TooDeep {
    /// 1-based line and column of the collection that goes one level too deep.
    pub line: usize,
    pub column: usize,
}

/// A linear pre-scan of `text` that refuses nesting deeper than [`MAX_NESTING`] before any YAML
/// parser runs: YAML scanners spend quadratic time on deep flow nesting (`[[[…`) before their
/// own depth limits apply, so 160 KB of brackets would stall a CI job for seconds and 4 MiB for
/// hours.
///
/// It counts flow collections (`[`, `{` where a token may start, outside quotes and comments) on
/// top of the block nesting (one level per indentation step, plus each compact `- ` or `? `
/// indicator at the start of a line), skipping the content of block scalars (`|`, `>`). It is
/// not a YAML parser: where it errs it counts no deeper than the real nesting, and the parser's
/// own limit still applies behind it.
pub fn check_nesting(text: &str) -> Result<(), TooDeep> {
    let mut indents: Vec<usize> = Vec::new();
    let mut flow_depth = 0usize;
    // The block depth a flow collection opened at (flow may span lines).
    let mut flow_base = 0usize;
    let mut quote: Option<u8> = None;
    // While inside a block scalar: the indentation of the line that introduced it.
    let mut block_scalar: Option<usize> = None;
    for (line_index, line) in text.split('\n').enumerate() {
        let line = line.as_bytes();
        let line_no = line_index + 1;
        let indent = line.iter().take_while(|&&b| b == b' ').count();
        if let Some(parent) = block_scalar {
            let blank = line[indent..].iter().all(u8::is_ascii_whitespace);
            if blank || indent > parent {
                continue;
            }
            block_scalar = None;
        }
        let mut at = 0;
        if flow_depth == 0 && quote.is_none() {
            let rest = &line[indent..];
            if rest.iter().all(u8::is_ascii_whitespace) || rest[0] == b'#' || rest[0] == b'%' {
                continue;
            }
            if indent == 0 && (rest.starts_with(b"---") || rest.starts_with(b"...")) {
                indents.clear();
                at = 3;
            } else {
                while indents.last().is_some_and(|&top| top > indent) {
                    indents.pop();
                }
                if indents.last() != Some(&indent) {
                    indents.push(indent);
                }
                at = indent;
                let mut depth = indents.len();
                // Compact nesting on one line: `- - - x`, `? - x`.
                while at < line.len()
                    && matches!(line[at], b'-' | b'?')
                    && line.get(at + 1).is_none_or(|&b| b == b' ' || b == b'\r')
                {
                    depth += 1;
                    at += 1;
                    while line.get(at) == Some(&b' ') {
                        at += 1;
                    }
                }
                if depth > MAX_NESTING {
                    return Err(TooDeep {
                        line: line_no,
                        column: indent + 1,
                    });
                }
                flow_base = depth;
            }
        }
        let mut previous: Option<u8> = if at == 0 { None } else { Some(b' ') };
        while at < line.len() {
            let byte = line[at];
            match quote {
                Some(b'"') => match byte {
                    b'\\' => at += 1,
                    b'"' => quote = None,
                    _ => {}
                },
                Some(_) => {
                    if byte == b'\'' {
                        if line.get(at + 1) == Some(&b'\'') {
                            at += 1;
                        } else {
                            quote = None;
                        }
                    }
                }
                None => {
                    // Where a new node may start: after a separator (inside flow collections,
                    // after their punctuation too); elsewhere `[`, `'` are part of a plain scalar.
                    let token_start = previous.is_none_or(|p| {
                        matches!(p, b' ' | b'\t')
                            || (flow_depth > 0 && matches!(p, b'[' | b'{' | b',' | b':'))
                    });
                    match byte {
                        b'#' if previous.is_none_or(|p| p == b' ' || p == b'\t') => break,
                        b'"' | b'\'' if token_start => quote = Some(byte),
                        b'[' | b'{' if token_start => {
                            flow_depth += 1;
                            if flow_base + flow_depth > MAX_NESTING {
                                return Err(TooDeep {
                                    line: line_no,
                                    column: at + 1,
                                });
                            }
                        }
                        b']' | b'}' if flow_depth > 0 => flow_depth -= 1,
                        b'|' | b'>' if token_start && flow_depth == 0 => {
                            block_scalar = Some(indent);
                            break;
                        }
                        _ => {}
                    }
                }
            }
            previous = Some(byte);
            at += 1;
        }
    }
    Ok(())
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
    // Opened once and checked through the handle: a FIFO, a device (`/dev/zero`) or a
    // directory is refused before any read, and the read itself stops past the cap.
    let file = match std::fs::File::open(path) {
        Ok(file) => file,
        Err(e) => return refuse(Code::ReadError, format!("cannot read the file: {e}")),
    };
    let meta = match file.metadata() {
        Ok(meta) => meta,
        Err(e) => return refuse(Code::ReadError, format!("cannot read the file: {e}")),
    };
    if !meta.is_file() {
        return FileText::Refused(
            Finding::error(Code::ReadError, display, "not a regular file")
                .allowed("a manifest file or a directory of *.yaml / *.yml files"),
        );
    }
    let too_large = |size: u64| {
        FileText::Refused(
            Finding::error(
                Code::FileTooLarge,
                display,
                format!("the file is {size} bytes, too large for a manifest"),
            )
            .allowed(format!("at most {MAX_FILE_BYTES} bytes per manifest file")),
        )
    };
    if meta.len() > MAX_FILE_BYTES {
        return too_large(meta.len());
    }
    let mut bytes = Vec::new();
    if let Err(e) = std::io::Read::read_to_end(
        &mut std::io::Read::take(file, MAX_FILE_BYTES + 1),
        &mut bytes,
    ) {
        return refuse(Code::ReadError, format!("cannot read the file: {e}"));
    }
    if bytes.len() as u64 > MAX_FILE_BYTES {
        // The file grew since its size was read.
        return too_large(bytes.len() as u64);
    }
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

    #[test]
    fn nesting_within_the_limit_passes_and_beyond_is_located() {
        let ok = format!("a: {}{}\n", "[".repeat(63), "]".repeat(63));
        assert_eq!(check_nesting(&ok), Ok(()));
        let deep = format!("a: {}{}\n", "[".repeat(64), "]".repeat(64));
        assert_eq!(
            check_nesting(&deep),
            Err(TooDeep {
                line: 1,
                column: 67
            })
        );
        let block: String = (0..64)
            .map(|i| format!("{}k{i}:\n", " ".repeat(i)))
            .collect();
        assert_eq!(check_nesting(&block), Ok(()));
        let block = format!("{block}{}k:\n", " ".repeat(64));
        assert_eq!(
            check_nesting(&block),
            Err(TooDeep {
                line: 65,
                column: 65
            })
        );
        // Dedenting closes levels: many siblings are not depth.
        let siblings = "a:\n  b: 1\nc:\n  d: [1]\n".repeat(1000);
        assert_eq!(check_nesting(&siblings), Ok(()));
    }

    #[test]
    fn quoted_commented_and_block_scalar_brackets_are_not_nesting() {
        let deep = "[".repeat(100);
        for text in [
            format!("a: \"{deep}\"\n"),
            format!("a: '{deep}'\n"),
            format!("a: 'it''s {deep}'\n"),
            format!("a: \"\\\" {deep}\"\n"),
            format!("a: 1 # {deep}\n"),
            format!("a: x{deep}\n"),
            format!("a: |\n  {deep}\n\n  {deep}\nb: 1\n"),
            format!("a: >-\n    {deep}\n"),
            format!("a: \"multi\n  line {deep}\"\n"),
        ] {
            assert_eq!(check_nesting(&text), Ok(()), "{text}");
        }
    }
}
