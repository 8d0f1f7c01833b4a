//! The shipped pipeline files parse, and a mistake in one is named with its key and file —
//! never with its value, which could be a secret pasted in the wrong place.

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

const PASTED: &str = "sk-live-9f8e7d6c5b4a3210";

/// Each bad value is refused when the file is read, naming the file and the key, and the error
/// never repeats what was written there.
#[test]
fn bad_values_are_refused_naming_the_key_never_the_value() {
    let base = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("pipelines/migration.toml"),
    )
    .unwrap();
    let cases: &[(&str, &str, &str, &str)] = &[
        // (line in migration.toml, replaced by, key named, rule said)
        (
            "max_attempts = 6",
            "max_attempts = 0",
            "autotask.max_attempts",
            "at least 1",
        ),
        (
            "max_attempts = 5",
            "max_attempts = 0",
            "passportal.max_attempts",
            "at least 1",
        ),
        (
            "page_size = 500",
            "page_size = 0",
            "autotask.page_size",
            "between 1 and 500",
        ),
        (
            "page_size = 100",
            "page_size = 1001",
            "passportal.page_size",
            "between 1 and 1000",
        ),
        (
            "timeout_secs = 60\nmax_attempts = 6",
            "timeout_secs = 0\nmax_attempts = 6",
            "autotask.timeout_secs",
            "at least 1",
        ),
        (
            "requests_per_sec = 5",
            "requests_per_sec = 0",
            "passportal.requests_per_sec",
            "at least 1",
        ),
        (
            "concurrency = 4\n# Renew",
            "concurrency = 0\n# Renew",
            "passportal.concurrency",
            "at least 1",
        ),
        (
            "batch_size = 100",
            "batch_size = 0",
            "passportal.batch_size",
            "between 1 and 500",
        ),
        (
            "batch_size = 100",
            "batch_size = 501",
            "passportal.batch_size",
            "between 1 and 500",
        ),
        (
            "[load]\nconcurrency = 4",
            "[load]\nconcurrency = 0",
            "load.concurrency",
            "at least 1",
        ),
        (
            "max_deleted_share = 0.1",
            "max_deleted_share = -0.1",
            "extract.max_deleted_share",
            "between 0 and 1",
        ),
        (
            "max_threshold_share = 0.8",
            "max_threshold_share = 1.5",
            "extract.max_threshold_share",
            "between 0 and 1",
        ),
        (
            "ambiguity_margin = 3",
            "ambiguity_margin = -3",
            "matching.companies.ambiguity_margin",
            "between 0 and 100",
        ),
        (
            "suggest = 75",
            "suggest = 99",
            "matching.companies.suggest",
            "auto_match",
        ),
        (
            "overlap_secs = 120",
            "overlap_secs = 2592000",
            "extract.overlap_secs",
            "7 days",
        ),
        (
            "id_field = \"Autotask ID\"",
            "id_field = \" \"",
            "passportal.templates.id_field",
            "label of a template field",
        ),
        (
            "max_in_flight_per_endpoint = 3",
            "max_in_flight_per_endpoint = 4",
            "extract.max_in_flight_per_endpoint",
            "1 to 3",
        ),
        // A secret pasted where the variable's name belongs, in each `*_env` key.
        (
            "username_env = \"AUTOTASK_USERNAME\"",
            "username_env = \"PASTED\"",
            "autotask.username_env",
            "looks like a secret, not a variable name",
        ),
        (
            "secret_env = \"AUTOTASK_SECRET\"",
            "secret_env = \"PASTED\"",
            "autotask.secret_env",
            "looks like a secret, not a variable name",
        ),
        (
            "integration_code_env = \"AUTOTASK_INTEGRATION_CODE\"",
            "integration_code_env = \"PASTED\"",
            "autotask.integration_code_env",
            "looks like a secret, not a variable name",
        ),
        (
            "key_id_env = \"PASSPORTAL_KEY_ID\"",
            "key_id_env = \"PASTED\"",
            "passportal.key_id_env",
            "looks like a secret, not a variable name",
        ),
        (
            "secret_env = \"PASSPORTAL_SECRET\"",
            "secret_env = \"PASTED\"",
            "passportal.secret_env",
            "looks like a secret, not a variable name",
        ),
        // ... pasted without quotes (not TOML), or where a number belongs: the parser's own
        // message is reduced to the key and line.
        (
            "secret_env = \"PASSPORTAL_SECRET\"",
            "secret_env = PASTED",
            "`secret_env`",
            "(line 23, column 14)",
        ),
        (
            "max_attempts = 5",
            "max_attempts = \"PASTED\"",
            "passportal.max_attempts",
            "invalid type, expected",
        ),
        (
            "approval = \"manual\"",
            "approval = \"PASTED\"",
            "run.approval",
            "unknown variant, expected",
        ),
        // A password in a URL.
        (
            "base_url = \"https://us-clover",
            "base_url = \"https://me:PASTED@us-clover",
            "passportal.base_url",
            "user name or password",
        ),
    ];
    for (from, to, key, rule) in cases {
        assert!(base.contains(from), "migration.toml has {from:?}");
        let text = base.replacen(from, &to.replace("PASTED", PASTED), 1);
        let err = Pipeline::parse(&text, Path::new("pipelines/bad.toml"))
            .expect_err(to)
            .to_string();
        assert!(err.contains("pipelines/bad.toml"), "{to}: {err}");
        assert!(err.contains(key), "{to}: {key} not named in: {err}");
        assert!(err.contains(rule), "{to}: {rule:?} not in: {err}");
        assert!(!err.contains(PASTED), "{to}: the value is echoed: {err}");
        assert!(
            !err.contains("sk-live"),
            "{to}: part of the value is echoed: {err}"
        );
    }
}
