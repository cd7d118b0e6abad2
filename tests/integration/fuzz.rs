//! Fuzzing (issue 13) of the two readers of untrusted files: the manifest loader and the
//! saved-plan reader of `apply --plan`, with proptest.
//!
//! Inputs are arbitrary bytes and structure-aware mutations of real files: the repository's
//! manifests, examples and test cases mutated line by line (deleted, duplicated, swapped,
//! re-indented, random YAML tokens inserted, deep nesting, anchors and aliases, huge scalars);
//! a saved plan produced with the plan's own types and serialized, then mutated as a JSON tree
//! and as text. Each input must be processed without a panic, and every rejection must name the
//! file. Times are not asserted here (no timed tests); the long run measures them.
//!
//! CI-sized by default (`DEFAULT_CASES` per target); `REKO_FUZZ_CASES=100000 cargo test
//! --release --test integration fuzz::` is the long run.

use std::path::{Path, PathBuf};

use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::{Config, TestRunner};
use reko_promote::manifest::findings::Severity;

use crate::support::root;

/// Cases per target in a normal `cargo test`.
const DEFAULT_CASES: u32 = 256;

fn runner() -> TestRunner {
    let cases = std::env::var("REKO_FUZZ_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(DEFAULT_CASES);
    TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    })
}

/// Every YAML file of the repository's manifests, examples and manifest test cases.
fn yaml_corpus() -> Vec<String> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap().map(Result::unwrap) {
            let path = entry.path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "yaml" || e == "yml") {
                out.push(path);
            }
        }
    }
    let mut files = Vec::new();
    for dir in ["manifests", "examples", "tests/manifests"] {
        walk(&root().join(dir), &mut files);
    }
    files.sort();
    let corpus: Vec<String> = files
        .iter()
        .map(|f| std::fs::read_to_string(f).unwrap())
        .collect();
    assert!(corpus.len() >= 20, "the corpus holds the repository's YAML");
    corpus
}

/// Fragments that matter to YAML's grammar.
const YAML_TOKENS: &[&str] = &[
    ":",
    ": ",
    "- ",
    "? ",
    "[",
    "]",
    "{",
    "}",
    ",",
    "&a ",
    "*a",
    "&b [",
    "*b",
    "<<: *a",
    "!!str ",
    "!!binary ",
    "!tag ",
    "---",
    "...",
    "|",
    ">-",
    "'",
    "\"",
    "\\",
    "# ",
    "\t",
    "~",
    "null",
    "1e999",
    "-0x1F",
    "0o17",
    ".nan",
    "2026-11-01",
    "\"\\u0000\"",
    "%YAML 1.2",
    "%TAG ! x",
    "\u{feff}",
    "\r",
    "@",
    "`",
    "apiVersion: reko-promote/v1",
    "kind: Promotion",
    "kind: Account",
];

/// One structure-aware edit of a YAML text, by lines.
#[derive(Debug, Clone)]
enum YamlEdit {
    Delete(Index),
    Duplicate(Index),
    Swap(Index, Index),
    Indent(Index, i8),
    Token(Index, Index, Index),
    Nesting(Index, usize, u8),
    Anchors(Index, Index),
    HugeScalar(Index, usize),
    Bytes(Index, Vec<u8>),
}

fn yaml_edit() -> impl Strategy<Value = YamlEdit> {
    prop_oneof![
        any::<Index>().prop_map(YamlEdit::Delete),
        any::<Index>().prop_map(YamlEdit::Duplicate),
        (any::<Index>(), any::<Index>()).prop_map(|(a, b)| YamlEdit::Swap(a, b)),
        (any::<Index>(), -8i8..8).prop_map(|(i, d)| YamlEdit::Indent(i, d)),
        (any::<Index>(), any::<Index>(), any::<Index>())
            .prop_map(|(l, c, t)| YamlEdit::Token(l, c, t)),
        (any::<Index>(), 1usize..400, 0u8..4).prop_map(|(i, d, k)| YamlEdit::Nesting(i, d, k)),
        (any::<Index>(), any::<Index>()).prop_map(|(a, b)| YamlEdit::Anchors(a, b)),
        (any::<Index>(), 1usize..200_000).prop_map(|(i, n)| YamlEdit::HugeScalar(i, n)),
        (any::<Index>(), prop::collection::vec(any::<u8>(), 1..16))
            .prop_map(|(i, b)| YamlEdit::Bytes(i, b)),
    ]
}

/// Applies `edits` to `text`; the result may not be UTF-8 (`Bytes`).
fn mutate_yaml(text: &str, edits: &[YamlEdit]) -> Vec<u8> {
    let mut lines: Vec<Vec<u8>> = text.lines().map(|l| l.as_bytes().to_vec()).collect();
    if lines.is_empty() {
        lines.push(Vec::new());
    }
    for edit in edits {
        let n = lines.len().max(1);
        match edit {
            YamlEdit::Delete(i) if lines.len() > 1 => {
                lines.remove(i.index(n));
            }
            YamlEdit::Delete(_) => {}
            YamlEdit::Duplicate(i) => {
                let line = lines[i.index(n)].clone();
                lines.insert(i.index(n), line);
            }
            YamlEdit::Swap(a, b) => lines.swap(a.index(n), b.index(n)),
            YamlEdit::Indent(i, delta) => {
                let line = &mut lines[i.index(n)];
                if *delta >= 0 {
                    line.splice(0..0, std::iter::repeat_n(b' ', *delta as usize));
                } else {
                    let spaces = line.iter().take_while(|&&b| b == b' ').count();
                    line.drain(0..spaces.min(delta.unsigned_abs() as usize));
                }
            }
            YamlEdit::Token(l, c, t) => {
                let line = &mut lines[l.index(n)];
                let at = c.index(line.len() + 1);
                line.splice(at..at, t.get(YAML_TOKENS).bytes());
            }
            YamlEdit::Nesting(i, depth, kind) => {
                let (open, close) = match kind {
                    0 => ("[", "]"),
                    1 => ("{a: ", "}"),
                    2 => ("- ", ""),
                    _ => ("[", ""), // unclosed
                };
                let nested = format!("z: {}1{}", open.repeat(*depth), close.repeat(*depth));
                lines.insert(i.index(n), nested.into_bytes());
            }
            YamlEdit::Anchors(a, b) => {
                let line = &mut lines[a.index(n)];
                if let Some(colon) = line.windows(2).position(|w| w == b": ") {
                    line.splice(colon + 2..colon + 2, b"&a ".iter().copied());
                }
                let line = &mut lines[b.index(n)];
                if let Some(colon) = line.windows(2).position(|w| w == b": ") {
                    line.truncate(colon + 2);
                    line.extend_from_slice(b"*a");
                }
            }
            YamlEdit::HugeScalar(i, size) => {
                let mut line = b"description: ".to_vec();
                line.extend(std::iter::repeat_n(b'x', *size));
                lines.insert(i.index(n), line);
            }
            YamlEdit::Bytes(i, bytes) => {
                let line = &mut lines[i.index(n)];
                let at = bytes.len() % (line.len() + 1);
                line.splice(at..at, bytes.iter().copied());
            }
        }
    }
    lines.join(&b'\n')
}

/// Loads `bytes` as the manifest file `path` and checks the loader's contract: no panic (a
/// panic fails the case), and every finding names this file.
fn load_names_the_file(path: &Path, bytes: &[u8]) -> Result<(), TestCaseError> {
    std::fs::write(path, bytes).unwrap();
    let loaded = reko_promote::manifest::load(&[path.to_path_buf()]);
    let shown = path.display().to_string();
    for finding in &loaded.report.findings {
        prop_assert_eq!(&finding.file, &shown, "{:?}", finding);
        prop_assert!(!finding.message.is_empty());
    }
    prop_assert_eq!(
        loaded.report.valid,
        !loaded
            .report
            .findings
            .iter()
            .any(|f| f.severity == Severity::Error)
    );
    prop_assert_eq!(loaded.report.valid, loaded.desired.is_some());
    Ok(())
}

#[test]
fn fuzz_the_manifest_loader_with_arbitrary_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("fuzzed.yaml");
    runner()
        .run(&prop::collection::vec(any::<u8>(), 0..4096), |bytes| {
            load_names_the_file(&path, &bytes)
        })
        .unwrap();
}

#[test]
fn fuzz_the_manifest_loader_with_mutated_manifests() {
    let corpus = yaml_corpus();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("fuzzed.yaml");
    runner()
        .run(
            &(any::<Index>(), prop::collection::vec(yaml_edit(), 1..8)),
            |(file, edits)| {
                let bytes = mutate_yaml(&corpus[file.index(corpus.len())], &edits);
                load_names_the_file(&path, &bytes)
            },
        )
        .unwrap();
}

/// A saved plan as `plan --out` writes it, made with the plan's own types: the repository's
/// manifests planned over an empty organisation.
fn saved_plan() -> serde_json::Value {
    let desired = crate::support::desired_from(&[crate::support::rel("manifests")]);
    let plan = reko_promote::plan::compute(
        &desired,
        &Default::default(),
        &reko_promote::plan::RunScope::full(),
    );
    assert!(!plan.entries.is_empty());
    serde_json::to_value(&plan).unwrap()
}

/// One edit of a JSON document: at the `Index`-th node of the tree (in document order).
#[derive(Debug, Clone)]
enum JsonEdit {
    Remove(Index),
    Replace(Index, u8),
    DuplicateItem(Index),
}

fn json_edit() -> impl Strategy<Value = JsonEdit> {
    prop_oneof![
        any::<Index>().prop_map(JsonEdit::Remove),
        (any::<Index>(), any::<u8>()).prop_map(|(i, k)| JsonEdit::Replace(i, k)),
        any::<Index>().prop_map(JsonEdit::DuplicateItem),
    ]
}

fn count_nodes(value: &serde_json::Value) -> usize {
    1 + match value {
        serde_json::Value::Array(items) => items.iter().map(count_nodes).sum(),
        serde_json::Value::Object(map) => map.values().map(count_nodes).sum(),
        _ => 0,
    }
}

/// The `target`-th node of `value` (pre-order), with `seen` counting nodes passed.
fn node_mut<'a>(
    value: &'a mut serde_json::Value,
    target: usize,
    seen: &mut usize,
) -> Option<&'a mut serde_json::Value> {
    if *seen == target {
        return Some(value);
    }
    *seen += 1;
    match value {
        serde_json::Value::Array(items) => items
            .iter_mut()
            .find_map(|item| node_mut(item, target, seen)),
        serde_json::Value::Object(map) => map
            .values_mut()
            .find_map(|item| node_mut(item, target, seen)),
        _ => None,
    }
}

/// A value of another shape, chosen by `kind`.
fn replacement(kind: u8) -> serde_json::Value {
    use serde_json::json;
    match kind % 12 {
        0 => json!(null),
        1 => json!(true),
        2 => json!(-1),
        3 => json!(u64::MAX),
        4 => json!(1.5e300),
        5 => json!(""),
        6 => json!("x".repeat(100_000)),
        7 => json!([]),
        8 => json!({}),
        9 => json!("arn:aws:rekognition:eu-west-1:111111111111:project/p/version/v/1"),
        10 => (0..200).fold(json!(1), |inner, _| json!([inner])),
        _ => json!({"formatVersion": 1}),
    }
}

fn mutate_json(plan: &serde_json::Value, edits: &[JsonEdit]) -> serde_json::Value {
    let mut plan = plan.clone();
    for edit in edits {
        let n = count_nodes(&plan);
        match edit {
            JsonEdit::Replace(i, kind) => {
                if let Some(node) = node_mut(&mut plan, i.index(n), &mut 0) {
                    *node = replacement(*kind);
                }
            }
            JsonEdit::Remove(i) | JsonEdit::DuplicateItem(i) => {
                if let Some(node) = node_mut(&mut plan, i.index(n), &mut 0) {
                    match (edit, node) {
                        (JsonEdit::Remove(_), serde_json::Value::Object(map)) => {
                            let key = map.keys().next().cloned();
                            if let Some(key) = key {
                                map.remove(&key);
                            }
                        }
                        (JsonEdit::Remove(_), serde_json::Value::Array(items)) => {
                            items.pop();
                        }
                        (JsonEdit::DuplicateItem(_), serde_json::Value::Array(items)) => {
                            if let Some(first) = items.first().cloned() {
                                items.push(first);
                            }
                        }
                        _ => {}
                    }
                }
            }
        }
    }
    plan
}

/// Reads `bytes` as the saved plan `path`: no panic, and a refusal is one line naming the file.
fn read_plan_names_the_file(path: &Path, bytes: &[u8]) -> Result<(), TestCaseError> {
    std::fs::write(path, bytes).unwrap();
    if let Err(error) = reko_promote::apply::stale::read_plan(path) {
        let message = error.to_string();
        prop_assert!(message.contains(&path.display().to_string()), "{}", message);
        prop_assert!(!message.contains('\n'), "{}", message);
    }
    Ok(())
}

#[test]
fn fuzz_the_saved_plan_reader_with_mutated_plans() {
    let plan = saved_plan();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("plan.json");
    // The unmutated plan reads back.
    std::fs::write(&path, serde_json::to_vec_pretty(&plan).unwrap()).unwrap();
    reko_promote::apply::stale::read_plan(&path).expect("a saved plan reads back");
    runner()
        .run(
            &(
                prop::collection::vec(json_edit(), 0..6),
                any::<Index>(),
                prop::collection::vec(any::<u8>(), 0..8),
                any::<bool>(),
            ),
            |(edits, at, bytes, as_text)| {
                let mutated = mutate_json(&plan, &edits);
                let mut text = serde_json::to_vec(&mutated).unwrap();
                if as_text {
                    // Text damage too: cut or splice raw bytes.
                    let at = at.index(text.len() + 1);
                    if bytes.is_empty() {
                        text.truncate(at);
                    } else {
                        text.splice(at..at, bytes);
                    }
                }
                read_plan_names_the_file(&path, &text)
            },
        )
        .unwrap();
}

#[test]
fn fuzz_the_saved_plan_reader_with_arbitrary_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("plan.json");
    runner()
        .run(&prop::collection::vec(any::<u8>(), 0..2048), |bytes| {
            read_plan_names_the_file(&path, &bytes)
        })
        .unwrap();
}
