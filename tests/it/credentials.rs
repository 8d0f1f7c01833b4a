//! A wrong credential fails with a message that names which one (and the variable it came
//! from), and never contains the secret itself.

use crate::harness::TestWorld;
use atpp::commands::app::App;
use atpp::commands::demo::sim_credential_values;
use atpp::sim::generator::MspSpec;

/// Run an extract with one credential replaced; return the error text. Every value but the
/// user name is secret and must not appear in it.
async fn extract_error_with(var: &str, value: &str) -> String {
    let t = TestWorld::start(&MspSpec::demo(1)).await;
    let pipeline = t.app.pipeline.clone();
    let mut creds = sim_credential_values(&pipeline);
    creds.insert(var.to_string(), value.to_string());
    let app = App::new(pipeline, None, Box::new(creds)).expect("app");
    let err = app.extract().await.expect_err("extract must fail");
    let text = format!("{err:#}");
    if var != "AUTOTASK_USERNAME" {
        assert!(!text.contains(value), "the credential value leaked: {text}");
    }
    assert_eq!(t.world.passportal.creates(), 0);
    text
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_autotask_user_is_named() {
    let err = extract_error_with("AUTOTASK_USERNAME", "nobody-zz@example.invalid").await;
    assert!(err.contains("does not know the API user"), "{err}");
    assert!(err.contains("AUTOTASK_USERNAME"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_autotask_secret_is_named() {
    let err = extract_error_with("AUTOTASK_SECRET", "wrong-secret-value-123").await;
    assert!(err.contains("rejected the secret"), "{err}");
    assert!(err.contains("AUTOTASK_SECRET"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_autotask_integration_code_is_named() {
    let err = extract_error_with("AUTOTASK_INTEGRATION_CODE", "WRONGCODE999").await;
    assert!(err.contains("rejected the integration code"), "{err}");
    assert!(err.contains("AUTOTASK_INTEGRATION_CODE"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_passportal_key_is_named() {
    let err = extract_error_with("PASSPORTAL_KEY_ID", "unknown-key-id-42").await;
    assert!(err.contains("does not know the access key id"), "{err}");
    assert!(err.contains("PASSPORTAL_KEY_ID"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_passportal_secret_is_named() {
    let err = extract_error_with("PASSPORTAL_SECRET", "not-the-secret-77").await;
    assert!(err.contains("PASSPORTAL_SECRET"), "{err}");
    assert!(err.contains("swapped"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_credential_names_its_variable() {
    let t = TestWorld::start(&MspSpec::demo(1)).await;
    let pipeline = t.app.pipeline.clone();
    let mut creds = sim_credential_values(&pipeline);
    creds.remove("PASSPORTAL_SECRET");
    let app = App::new(pipeline, None, Box::new(creds)).expect("app");
    let err = format!("{:#}", app.extract().await.expect_err("fails"));
    assert!(
        err.contains("credential Passportal secret is not set: set the environment variable PASSPORTAL_SECRET"),
        "{err}"
    );
}
