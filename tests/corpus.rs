//! `check` output on the templates and on real documents, kept as reviewed snapshots.
//!
//! The real documents (`tests/corpus/real/`, copied from `../shared/corpus/real/`) show how projects deviate from the template;
//! every diagnostic in these snapshots was read and judged one a reviewer would agree with.
//! After a deliberate change, refresh with `UPDATE_EXPECT=1 cargo test --test corpus` and
//! review the diff.

use std::path::{Path, PathBuf};
use std::process::Command;

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/corpus")
}

/// Runs `check` on one corpus file (from inside the corpus, so paths in the output are short).
fn check(relative: &str, extra: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_joint-review-lsp"))
        .current_dir(corpus())
        .arg("check")
        .args(extra)
        .arg(relative)
        .output()
        .expect("run joint-review-lsp check");
    assert!(
        out.status.code().is_some_and(|c| c == 0 || c == 1),
        "{out:?}"
    );
    String::from_utf8(out.stdout).expect("utf-8 output")
}

fn snapshot(name: &str) -> expect_test::ExpectFile {
    expect_test::expect_file![format!(
        "{}/../tests/snapshots/{name}.txt",
        env!("CARGO_MANIFEST_DIR")
    )]
}

fn grammars() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../grammars")
}

#[test]
fn template_has_no_missing_section() {
    for template in [
        "joint-review.md",
        "joint-assessment.md",
        "self-assessment.md",
    ] {
        let path = grammars().join(template);
        let out = check(path.to_str().expect("utf-8 path"), &[]);
        assert!(!out.contains("[missing-section]"), "{template}:\n{out}");
    }
}

macro_rules! real_document {
    ($test:ident, $file:literal) => {
        #[test]
        fn $test() {
            snapshot(stringify!($test)).assert_eq(&check(concat!("real/", $file), &["--verbose"]));
        }
    };
}

real_document!(openfga_joint_assessment, "openfga-joint-assessment.md");
real_document!(flux_self_assessment, "flux-self-assessment.md");
real_document!(harbor_self_assessment, "harbor-self-assessment.md");
real_document!(in_toto_self_assessment, "in-toto-self-assessment.md");
real_document!(keycloak_self_assessment, "keycloak-self-assessment.md");
real_document!(kyverno_self_assessment, "kyverno-self-assessment.md");

#[test]
fn template_snapshot() {
    let out = check("../../grammars/joint-review.md", &[]);
    snapshot("joint_review_template").assert_eq(&out);
}
