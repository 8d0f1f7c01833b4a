//! The templates' Autotask-id field is what makes a created document recognisable: a template
//! without it is refused by `check` and by `plan` (and by the load, should the pipeline change
//! after the plan), and an instance that labels the field its own way is served by naming that
//! label in `[passportal.templates] id_field` — asserted from the simulator's state.

use crate::load_trust::{app, app_pipeline, prepared, spec, world};
use atpp::api::passportal::fields;
use atpp::commands::app::App;
use atpp::commands::demo::{sim_credential_values, World, DEMO_PIPELINE};
use atpp::model::entity::Entity;
use atpp::sim::autotask::AutotaskSimOptions;
use atpp::sim::generator::DocType;
use atpp::sim::passportal::{PassportalSimOptions, WriteFaultPlan};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_template_without_the_id_field_is_refused_by_check_and_by_plan() {
    let no_id = WriteFaultPlan {
        templates_without_id: vec![DocType::Asset],
        ..WriteFaultPlan::default()
    };
    let world = world(35, no_id).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let staging = dir.path().join("staging");
    let pipeline = world.pipeline(DEMO_PIPELINE, &staging).expect("pipeline");
    let creds = sim_credential_values(&pipeline);
    let checks = atpp::commands::check::run_checks(&pipeline, &creds).await;
    let uid = &pipeline.passportal.templates.asset;
    let failed: Vec<_> = checks
        .iter()
        .filter(|c| c.status != atpp::commands::check::CheckStatus::Ok)
        .collect();
    assert_eq!(failed.len(), 1, "{checks:?}");
    assert!(failed[0].name.contains(uid.as_str()), "{:?}", failed[0]);
    assert!(
        failed[0].detail.contains("\"Autotask ID\"") && failed[0].detail.contains("asset"),
        "{:?}",
        failed[0]
    );

    // `plan` refuses the assets' creates, naming the template and the field; nothing is
    // frozen, so there is nothing to load.
    let app = app(&world, &staging);
    let (run, _) = app.extract().await.expect("extract");
    app.match_run(Some(&run.id)).expect("match");
    let err = format!("{:#}", app.plan(Some(&run.id)).expect_err("plan refuses"));
    assert!(
        err.contains(uid.as_str())
            && err.contains("\"Autotask ID\"")
            && err.contains("configuration")
            && err.contains("id_field"),
        "{err}"
    );
    assert!(!run.path(atpp::stages::plan::PLAN_FILE).exists());
    assert_eq!(world.passportal.creates(), 0);
    world.stop().await;
}

/// A pipeline whose `id_field` names a field the templates lack, changed after the plan was
/// made: the load creates no document it could not find again, and does the rest.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_load_refuses_documents_whose_template_lacks_the_configured_id_field() {
    let world = world(36, WriteFaultPlan::default()).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let staging = dir.path().join("staging");
    let (run, plan, before) = prepared(&world, &staging).await;
    let mut pipeline = app_pipeline(&world, &staging);
    pipeline.passportal.templates.id_field = "Asset Tag Ref".into();
    let creds = sim_credential_values(&pipeline);
    let (_, load) = App::new(pipeline, None, Box::new(creds))
        .expect("app")
        .load(Some(&run))
        .await
        .expect("load");
    let documents: usize = Entity::ALL
        .iter()
        .filter(|e| e.doc_type().is_some())
        .map(|e| plan.entities[e].create.len())
        .sum();
    assert_eq!(load.failed() as usize, documents, "{:?}", load.errors);
    assert!(load
        .errors
        .iter()
        .all(|e| e.what == atpp::stages::load::WHAT_NO_ID_FIELD
            && e.message.contains("\"Asset Tag Ref\"")));
    let now = world.passportal.with_instance(|i| i.clone());
    assert_eq!(now.documents.len(), before.documents.len(), "no document");
    assert_eq!(
        now.clients.len(),
        before.clients.len() + plan.entities[&Entity::Companies].create.len(),
        "clients are created"
    );
    world.stop().await;
}

/// An instance whose templates hold the Autotask id in a field of its own label: with that
/// label in `[passportal.templates] id_field`, documents are created carrying it, found again
/// after the ledger is lost (0 writes), and their staged rows carry the id.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_id_field_label_is_the_instances_own() {
    const LABEL: &str = "PSA Record #";
    let mut options = PassportalSimOptions::default();
    options.templates.id_field = LABEL.into();
    let world = World::start(&spec(37), 0, 0, AutotaskSimOptions::default(), options)
        .await
        .expect("simulators start");
    let dir = tempfile::tempdir().expect("temp dir");
    let staging = dir.path().join("staging");
    let mut pipeline = app_pipeline(&world, &staging);
    pipeline.passportal.templates.id_field = LABEL.into();
    let creds = sim_credential_values(&pipeline);
    let checks = atpp::commands::check::run_checks(&pipeline, &creds).await;
    assert!(
        checks
            .iter()
            .all(|c| c.status == atpp::commands::check::CheckStatus::Ok),
        "{checks:?}"
    );
    let app = App::new(pipeline.clone(), None, Box::new(creds.clone())).expect("app");
    let (run, _) = app.extract().await.expect("extract");
    app.match_run(Some(&run.id)).expect("match");
    let (_, plan) = app.plan(Some(&run.id)).expect("plan");
    let (_, load) = app.load(Some(&run.id)).await.expect("load");
    assert_eq!(load.problems(), 0, "{:?} {:?}", load.errors, load.verify);
    let created = world.passportal.creates();
    let carrying = world
        .passportal
        .documents()
        .iter()
        .filter(|d| d.fields.iter().any(|(l, v)| l == LABEL && !v.is_empty()))
        .count();
    let planned: usize = Entity::ALL
        .iter()
        .filter(|e| e.doc_type().is_some())
        .map(|e| plan.entities[e].create.len())
        .sum();
    assert!(planned > 0 && carrying >= planned, "{carrying} < {planned}");
    assert!(world
        .passportal
        .documents()
        .iter()
        .all(|d| d.fields.iter().all(|(l, _)| l != fields::AUTOTASK_ID)));

    std::fs::remove_file(staging.join("state.duckdb")).expect("delete the ledger");
    let _ = std::fs::remove_file(staging.join("state.duckdb.wal"));
    let again = App::new(pipeline, None, Box::new(creds)).expect("app");
    let (_, reload) = again.load(Some(&run.id)).await.expect("reload");
    assert_eq!(
        world.passportal.creates(),
        created,
        "no write after the loss"
    );
    assert_eq!(
        reload.problems(),
        0,
        "{:?} {:?}",
        reload.errors,
        reload.verify
    );
    world.stop().await;
}
