//! template.yaml is valid CloudFormation/SAM (cfn-lint works offline).

use chat_tests::process::repo_root;

#[test]
fn cfn_lint_passes() {
    let output = std::process::Command::new("cfn-lint")
        .arg("template.yaml")
        .current_dir(repo_root())
        .output()
        .expect("cfn-lint is needed for this test: run scripts/setup.sh (pip install cfn-lint)");
    assert!(
        output.status.success(),
        "cfn-lint found problems:\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}
