//! The shipped pipeline files parse, and a mistake in one is named with its key and file.

use atpp::model::pipeline::Pipeline;
use std::path::Path;

#[test]
fn every_shipped_pipeline_parses() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("pipelines");
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "toml") {
            let p = Pipeline::load(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            assert!(!p.name.is_empty());
            seen += 1;
        }
    }
    assert!(seen >= 2, "demo.toml and migration.toml at least");
}

#[test]
fn an_unknown_key_is_refused_naming_the_key_and_file() {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("pipelines/migration.toml"),
    )
    .unwrap()
    .replace("[load]", "[load]\nconcurency = 3");
    let err = Pipeline::parse(&text, Path::new("pipelines/typo.toml")).unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("pipelines/typo.toml"), "{msg}");
    assert!(msg.contains("concurency"), "{msg}");
}

#[test]
fn out_of_range_settings_are_refused() {
    let base = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("pipelines/migration.toml"),
    )
    .unwrap();
    let bad = base.replace("page_size = 500", "page_size = 501");
    let err = Pipeline::parse(&bad, Path::new("p.toml")).unwrap_err();
    assert!(err.to_string().contains("between 1 and 500"), "{err}");
    let bad = base.replace("auto_match = 94", "auto_match = 50");
    assert!(Pipeline::parse(&bad, Path::new("p.toml")).is_err());
}

#[test]
fn a_credentials_file_readable_by_others_is_refused() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("creds.toml");
    std::fs::write(&file, "AUTOTASK_SECRET = \"s3cr3t-value\"\n").unwrap();
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("pipelines/migration.toml"),
    )
    .unwrap()
    .replace(
        "# credentials_file = \"/home/msp/.config/atpp/credentials.toml\"",
        &format!("credentials_file = {:?}", file.display().to_string()),
    );
    let p = Pipeline::parse(&text, Path::new("p.toml")).unwrap();
    let env = std::collections::BTreeMap::from([
        ("AUTOTASK_USERNAME".to_string(), "u@x".to_string()),
        ("AUTOTASK_INTEGRATION_CODE".to_string(), "c".to_string()),
    ]);
    let err = p.autotask_credentials(&env).unwrap_err().to_string();
    assert!(err.contains("chmod 600"), "{err}");
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
    let creds = p.autotask_credentials(&env).unwrap();
    assert_eq!(creds.secret.expose(), "s3cr3t-value");
    assert!(!format!("{creds:?}").contains("s3cr3t-value"));
}
