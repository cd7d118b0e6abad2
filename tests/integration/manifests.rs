//! The manifest language end to end: the bad-manifest corpus (each case its own clear error,
//! snapshotted), malformed input of every kind, and good manifests loading to the expected
//! desired state.

use std::collections::BTreeSet;
use std::path::PathBuf;

use reko_promote::manifest::findings::{Code, Finding, Severity};

use crate::support::{cases, check, load, rel, render};

/// For each case under tests/manifests/bad/, the error codes it must produce (and no others).
const EXPECTED: &[(&str, &[Code])] = &[
    (
        "account-values",
        &[Code::InvalidValue, Code::InvalidType, Code::ArnMismatch],
    ),
    ("after-cycle", &[Code::AfterCycle]),
    ("after-not-sent", &[Code::AfterNotSent]),
    ("after-unknown", &[Code::UndeclaredDestination]),
    ("arn-mismatch", &[Code::ArnMismatch]),
    ("conflicting-policy-scope", &[Code::ConflictingPolicyScope]),
    ("conflicting-running", &[Code::ConflictingRunning]),
    ("conflicting-settings", &[Code::ConflictingPlacement]),
    ("cross-region", &[Code::CrossRegion]),
    ("deep-block-nesting", &[Code::YamlSyntax]),
    ("deep-flow-nesting", &[Code::YamlSyntax]),
    (
        "duplicate-names",
        &[Code::DuplicateName, Code::DuplicateAccountId],
    ),
    ("duplicate-yaml-key", &[Code::YamlSyntax]),
    ("empty-file", &[Code::EmptyFile]),
    ("empty-lists", &[Code::Empty]),
    ("gates", &[Code::InvalidValue]),
    ("invalid-arns", &[Code::InvalidValue]),
    ("invalid-names", &[Code::InvalidValue]),
    ("kms", &[Code::InvalidValue, Code::CrossRegion]),
    ("misplaced-serving-fields", &[Code::UnknownField]),
    ("missing-api-version", &[Code::MissingApiVersion]),
    ("missing-field", &[Code::MissingField]),
    ("missing-kind", &[Code::MissingKind]),
    ("missing-output-config", &[Code::MissingOutputConfig]),
    ("not-a-mapping", &[Code::NotAMapping]),
    ("output-config", &[Code::InvalidValue]),
    ("policy-scope", &[Code::InvalidValue]),
    ("region", &[Code::InvalidValue]),
    ("running", &[Code::RunningNotReceived, Code::InvalidValue]),
    ("self-copy", &[Code::VersionNameCollision]),
    ("soak", &[Code::InvalidValue]),
    ("tags", &[Code::TooManyTags, Code::InvalidValue]),
    ("undeclared-account", &[Code::UndeclaredAccount]),
    (
        "undeclared-destination",
        &[Code::UndeclaredDestination, Code::DuplicateVersion],
    ),
    ("unknown-api-version", &[Code::UnknownApiVersion]),
    ("unknown-fields", &[Code::UnknownField]),
    ("unknown-kind", &[Code::UnknownKind]),
    ("version-name-collision", &[Code::VersionNameCollision]),
    ("wrong-types", &[Code::InvalidType]),
    ("yaml-syntax", &[Code::YamlSyntax]),
];

#[test]
fn every_bad_manifest_gets_its_own_clear_error() {
    let dirs = cases(&rel("tests/manifests/bad"));
    let names: Vec<String> = dirs
        .iter()
        .map(|d| d.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    let expected_names: Vec<&str> = EXPECTED.iter().map(|(n, _)| *n).collect();
    assert_eq!(
        names, expected_names,
        "every case has expectations, and only cases do"
    );

    for (name, codes) in EXPECTED {
        let case = rel(&format!("tests/manifests/bad/{name}"));
        let loaded = load(&[rel("tests/manifests/common"), case]);
        check(
            !loaded.report.valid,
            &format!("{name}: must be invalid"),
            &loaded,
        );
        check(
            loaded.desired.is_none(),
            &format!("{name}: no desired state"),
            &loaded,
        );
        let found: BTreeSet<Code> = loaded
            .report
            .findings
            .iter()
            .filter(|f| f.severity == Severity::Error)
            .map(|f| f.code)
            .collect();
        let wanted: BTreeSet<Code> = codes.iter().copied().collect();
        check(
            found == wanted,
            &format!("{name}: error codes {found:?}, expected {wanted:?}"),
            &loaded,
        );
        for finding in &loaded.report.findings {
            check(
                finding
                    .file
                    .starts_with(&format!("tests/manifests/bad/{name}")),
                &format!("{name}: the shared accounts file is clean, findings name the case file"),
                &loaded,
            );
            check(
                !finding.message.is_empty(),
                "every finding says what is wrong",
                &loaded,
            );
        }
        insta::assert_snapshot!(format!("bad__{name}"), render(&loaded));
    }
}

#[test]
fn every_error_of_a_document_is_reported_at_once() {
    // Two typos in one document and values wrong in several places: all are reported.
    let loaded = load(&[
        rel("tests/manifests/common"),
        rel("tests/manifests/bad/unknown-fields"),
    ]);
    let unknown: Vec<&str> = loaded
        .report
        .findings
        .iter()
        .filter(|f| f.code == Code::UnknownField)
        .filter_map(|f| f.path.as_deref())
        .collect();
    assert_eq!(
        unknown,
        [
            "promotions[typos].versions[0].versoin",
            "promotions[typos].destinations.prod.tagz",
            "promotions[typos].destinatons"
        ]
        .iter()
        .copied()
        .filter(|p| unknown.contains(p))
        .collect::<Vec<_>>()
    );
    assert_eq!(unknown.len(), 3, "{}", render(&loaded));
    let typo = loaded
        .report
        .findings
        .iter()
        .find(|f| f.path.as_deref() == Some("promotions[typos].versions[0].versoin"))
        .unwrap();
    assert_eq!((typo.line, typo.column), (Some(8), Some(5)));
    assert_eq!(typo.hint.as_deref(), Some("did you mean `version`?"));

    let loaded = load(&[
        rel("tests/manifests/common"),
        rel("tests/manifests/bad/tags"),
    ]);
    assert_eq!(loaded.report.errors, 5, "{}", render(&loaded));
}

fn temp_manifest(name: &str, bytes: &[u8]) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    std::fs::write(&path, bytes).unwrap();
    (dir, path)
}

fn single_error(bytes: &[u8]) -> reko_promote::manifest::findings::Finding {
    let (_dir, path) = temp_manifest("input.yaml", bytes);
    let loaded = load(&[path]);
    check(loaded.report.errors == 1, "exactly one error", &loaded);
    loaded.report.findings[0].clone()
}

#[test]
fn malformed_input_gets_a_clear_error_never_a_panic_or_hang() {
    let binary = single_error(b"apiVersion: reko-promote/v1\0\x01\x02");
    assert_eq!(binary.code, Code::BinaryFile);

    let latin1 = single_error(b"apiVersion: reko-promote/v1\nkind: Account\nname: caf\xe9\n");
    assert_eq!(latin1.code, Code::BinaryFile);
    assert!(latin1.message.contains("offset 51"), "{}", latin1.message);

    let mut huge = b"# padding\n".repeat(500_000);
    huge.extend_from_slice(b"apiVersion: reko-promote/v1\n");
    let huge = single_error(&huge);
    assert_eq!(huge.code, Code::FileTooLarge);
    assert!(huge.allowed.unwrap().contains("4194304 bytes"));

    let deep = format!("a: {}{}\n", "[".repeat(10_000), "]".repeat(10_000));
    let deep = single_error(deep.as_bytes());
    assert_eq!(deep.code, Code::YamlSyntax);
    assert!(deep.message.contains("deeper than 64"), "{}", deep.message);

    let mut bomb = String::from(
        "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n",
    );
    for (i, name) in ["b", "c", "d", "e", "f", "g", "h", "i"].iter().enumerate() {
        let prev = if i == 0 {
            "a".to_string()
        } else {
            ["b", "c", "d", "e", "f", "g", "h"][i - 1].to_string()
        };
        bomb.push_str(&format!("{name}: &{name} [*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev}]\n"));
    }
    let bomb = single_error(bomb.as_bytes());
    assert_eq!(bomb.code, Code::YamlSyntax);
    assert!(
        bomb.message.contains("repetition limit"),
        "{}",
        bomb.message
    );

    let empty = single_error(b"");
    assert_eq!(empty.code, Code::EmptyFile);
    let only_separators = single_error(b"---\n---\n");
    assert_eq!(only_separators.code, Code::EmptyFile);

    let scalar = single_error(b"just a string\n");
    assert_eq!(scalar.code, Code::NotAMapping);
}

#[test]
fn missing_paths_and_empty_directories_are_errors() {
    let loaded = load(&[rel("tests/manifests/does-not-exist")]);
    check(loaded.report.errors == 1, "one error", &loaded);
    assert_eq!(loaded.report.findings[0].code, Code::ReadError);

    let dir = tempfile::tempdir().unwrap();
    let loaded = load(&[dir.path().to_path_buf()]);
    check(loaded.report.errors == 1, "one error", &loaded);
    assert_eq!(loaded.report.findings[0].code, Code::NoManifests);
}

#[test]
fn directory_walks_pass_over_files_declaring_another_schema() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("workflow.yml"),
        "# yaml-language-server: $schema=https://json.schemastore.org/github-workflow.json\non: push\n",
    )
    .unwrap();
    std::fs::copy(
        crate::support::root().join("manifests/accounts.yaml"),
        dir.path().join("accounts.yaml"),
    )
    .unwrap();
    let loaded = load(&[dir.path().to_path_buf()]);
    check(
        loaded.report.valid,
        "the workflow file is not read as a manifest",
        &loaded,
    );
    assert_eq!(loaded.report.files.len(), 1);
    // Named explicitly, it is read (and is not a manifest).
    let loaded = load(&[dir.path().join("workflow.yml")]);
    check(
        !loaded.report.valid,
        "an explicit file is always read",
        &loaded,
    );
}

#[test]
fn the_repository_manifests_load_to_the_expected_desired_state() {
    let loaded = load(&[rel("manifests")]);
    check(
        loaded.report.valid && loaded.report.warnings == 0,
        "manifests/ is valid",
        &loaded,
    );
    let desired = loaded.desired.unwrap();
    insta::assert_yaml_snapshot!("desired__manifests", desired);

    // Precedence: prod's account defaults (bucket, prefix, KMS, env tag), the promotion's tags,
    // then the destination's tier tag.
    let prod = desired
        .placements
        .iter()
        .find(|p| p.destination_account == "prod")
        .unwrap();
    assert_eq!(prod.output_config.s3_bucket, "acme-prod-models");
    assert_eq!(
        prod.output_config.s3_key_prefix.as_deref(),
        Some("rekognition/")
    );
    assert_eq!(prod.kms_key_id.as_deref(), Some("alias/models"));
    assert_eq!(
        prod.tags
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>(),
        [
            "env=prod",
            "model=defect-detector",
            "owner=vision-team",
            "tier=gold"
        ]
    );
    assert_eq!(prod.version_name, "defect-detector-v2");
    assert!(prod.is_cross_account() && prod.manage_policy);
    assert_eq!(desired.placements.len(), 3);
    let keys: Vec<_> = desired.placements.iter().map(|p| p.sort_key()).collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted, "placements are sorted");
}

#[test]
fn the_example_organisation_loads_with_every_level_of_settings() {
    let loaded = load(&[rel("examples/organisation")]);
    check(
        loaded.report.valid && loaded.report.warnings == 0,
        "examples/organisation is valid",
        &loaded,
    );
    let desired = loaded.desired.unwrap();
    insta::assert_yaml_snapshot!("desired__example_organisation", desired);
    let v1_staging = desired
        .placements
        .iter()
        .find(|p| p.version_name == "defect-detector-v1")
        .unwrap();
    assert_eq!(
        v1_staging.source_version,
        "defect-detector.2026-11-01T10.00.00"
    );
    assert!(v1_staging.source_version_arn.is_some());
    assert_eq!(v1_staging.source_project.name, "defect-detector");
    assert_eq!(
        v1_staging.tags.get("status").map(String::as_str),
        Some("baseline")
    );
    let prod = desired
        .placements
        .iter()
        .find(|p| p.destination_account == "prod" && p.promotion == "defect-detector")
        .unwrap();
    assert_eq!(
        prod.output_config.s3_key_prefix.as_deref(),
        Some("rekognition/defect-detector/")
    );
    assert_eq!(prod.output_config.s3_bucket, "acme-prod-models");
    let us = desired
        .placements
        .iter()
        .find(|p| p.region == "us-east-1")
        .unwrap();
    assert_eq!(us.kms_key_id.as_deref(), Some("alias/models-us"));
}

#[test]
fn identical_duplicates_are_copied_once_with_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    let promotion = |name: &str| {
        format!(
            "apiVersion: reko-promote/v1\nkind: Promotion\nname: {name}\nregion: eu-west-1\n\
             source: {{ account: ml, project: p }}\nversions: [{{ version: v1 }}]\n\
             destinations:\n  prod: {{ account: prod, project: p }}\n"
        )
    };
    std::fs::write(dir.path().join("a.yaml"), promotion("a")).unwrap();
    std::fs::write(dir.path().join("b.yaml"), promotion("b")).unwrap();
    let loaded = load(&[rel("tests/manifests/common"), dir.path().to_path_buf()]);
    check(
        loaded.report.valid && loaded.report.warnings == 1,
        "valid with one warning",
        &loaded,
    );
    assert_eq!(loaded.report.findings[0].code, Code::DuplicateVersion);
    assert_eq!(loaded.desired.unwrap().placements.len(), 1);
}

/// Asserts that `finding` refuses nesting: names the file, the position and the limit.
fn assert_refused_as_too_deep(finding: &Finding, file: &str, line: usize) {
    assert_eq!(finding.code, Code::YamlSyntax, "{finding:?}");
    assert!(finding.file.ends_with(file), "{finding:?}");
    assert_eq!(finding.line, Some(line), "{finding:?}");
    assert!(finding.column.is_some(), "{finding:?}");
    assert!(
        finding.message.contains("deeper than 64 levels"),
        "{finding:?}"
    );
    assert!(
        finding.allowed.as_deref().is_some_and(|a| a.contains("64")),
        "{finding:?}"
    );
}

/// Issue 10's hostile inputs: `z: [[[…` 80,000 and 400,000 levels deep, and a file of 4 MiB of
/// brackets (the size cap) — each refused by the linear pre-scan, naming the file and the limit,
/// before the YAML scanner (quadratic on such input) sees it. Times are measured in release
/// builds, not asserted here.
#[test]
fn hostile_flow_nesting_is_refused_before_parsing() {
    let header = "apiVersion: reko-promote/v1\nkind: Promotion\nname: deep\n";
    for levels in [80_000, 400_000] {
        let text = format!("{header}z: {}", "[".repeat(levels));
        let finding = single_error(text.as_bytes());
        assert_refused_as_too_deep(&finding, "input.yaml", 4);
        assert_eq!(finding.column, Some(3 + 64), "{finding:?}");
    }
    let cap = reko_promote::manifest::yaml::MAX_FILE_BYTES as usize;
    let mut text = format!("{header}z: ");
    text.push_str(&"[".repeat(cap - text.len()));
    assert_eq!(
        text.len(),
        cap,
        "exactly at the size cap, so only nesting refuses it"
    );
    assert_refused_as_too_deep(&single_error(text.as_bytes()), "input.yaml", 4);
    // Mappings too, and nesting spread over lines.
    let braces = format!("{header}z:\n{}", "{\n".repeat(100_000));
    assert_refused_as_too_deep(&single_error(braces.as_bytes()), "input.yaml", 4 + 64);
    // Compact block sequences, `- - - …`.
    let dashes = format!("{header}z:\n{}x\n", "- ".repeat(100_000));
    assert_refused_as_too_deep(&single_error(dashes.as_bytes()), "input.yaml", 5);
}

/// Brackets inside quotes, comments, block scalars and plain scalars are not nesting.
#[test]
fn brackets_that_are_not_nesting_do_not_count() {
    let deep = "[".repeat(200);
    let text = format!(
        "apiVersion: reko-promote/v1\nkind: Account\nname: a{deep}\naccountId: \"{deep}\"\n\
         # {deep}\nroleArn: '{deep}'\nexternalId: |\n  {deep}\n  {deep}\n"
    );
    let (_dir, path) = temp_manifest("input.yaml", text.as_bytes());
    let loaded = load(&[path]);
    assert!(
        loaded
            .report
            .findings
            .iter()
            .all(|f| !f.message.contains("deeper than")),
        "{}",
        render(&loaded)
    );
}

/// A directory holding a symbolic link to itself (`l1 -> .`), or two links forming loops, is
/// walked once: links to directories are not followed (a warning names each), so every
/// manifest is read exactly once.
#[test]
fn symlinked_directories_are_not_followed() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        crate::support::root().join("manifests/accounts.yaml"),
        dir.path().join("accounts.yaml"),
    )
    .unwrap();
    std::os::unix::fs::symlink(".", dir.path().join("l1")).unwrap();
    let loaded = load(&[dir.path().to_path_buf()]);
    check(loaded.report.valid, "the loop is passed over", &loaded);
    assert_eq!(loaded.report.files.len(), 1, "{}", render(&loaded));
    assert_eq!(loaded.report.warnings, 1, "{}", render(&loaded));
    assert!(loaded.report.findings[0].file.ends_with("l1"));
    assert!(loaded.report.findings[0].message.contains("not followed"));

    // Two loops: a/ links back to the root and to itself; exponential if followed.
    std::fs::create_dir(dir.path().join("a")).unwrap();
    std::os::unix::fs::symlink("..", dir.path().join("a/up")).unwrap();
    std::os::unix::fs::symlink(".", dir.path().join("a/self")).unwrap();
    std::fs::copy(
        crate::support::root().join("manifests/accounts.yaml"),
        dir.path().join("a/more.yaml"),
    )
    .unwrap();
    let loaded = load(&[dir.path().to_path_buf()]);
    assert_eq!(loaded.report.files.len(), 2, "{}", render(&loaded));
    assert_eq!(loaded.report.warnings, 3, "{}", render(&loaded));

    // A link named on the command line is the user's choice: followed.
    let loaded = load(&[dir.path().join("l1")]);
    assert_eq!(loaded.report.files.len(), 2, "{}", render(&loaded));
}

/// A device or FIFO is refused without reading it (`/dev/zero` never ends).
#[test]
fn special_files_are_refused_without_reading() {
    let loaded = load(&[PathBuf::from("/dev/zero")]);
    check(loaded.report.errors == 1, "one error", &loaded);
    assert_eq!(loaded.report.findings[0].code, Code::ReadError);
    assert!(
        loaded.report.findings[0]
            .message
            .contains("not a regular file")
    );
}

/// Found by fuzzing: a promotion whose accounts are undeclared, in a set where another
/// document failed to load (so undeclared references are not reported, the declaration may be
/// in the broken document), was resolved anyway and the loader panicked (`no entry found for
/// key`). Now the load reports the broken document and nothing else.
#[test]
fn a_promotion_of_undeclared_accounts_beside_a_broken_document_does_not_panic() {
    let text = "apiVersion: reko-promote/v1\nkind: Promotion\nname: a\nregion: eu-west-1\n\
                source: { account: ml, project: p }\nversions:\n  - version: p.v1\n\
                destinations:\n  prod: { account: prod, project: p }\n---\n\
                kind: Promotion\nname: b\n";
    let finding = single_error(text.as_bytes());
    assert_eq!(finding.code, Code::MissingApiVersion);
}
