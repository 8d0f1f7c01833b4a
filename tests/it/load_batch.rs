//! Batch creates of documents (`passportal.batch_size`), asserted from the simulator's own
//! state: batches whose outcome is unknown (applied then 5xx, applied then the answer dropped)
//! are settled row by row without a duplicate or a loss; an instance refusing arrays gets one
//! document per request after one refusal, and the load says so; the wrapped shape works where
//! it is the one taken; a batched load killed with SIGKILL and started again makes every
//! document exactly once; and the creates cost about a tenth of a request per document, counted
//! by the simulator's per-route counters.

use super::load_crash::{pipeline_text_with, Cli};
use super::load_trust::assert_exactly_once;
use atpp::api::passportal::fields;
use atpp::api::passportal::routes::{CREATE_DOCUMENT, LIST_DOCUMENTS};
use atpp::commands::app::App;
use atpp::commands::demo::{sim_credential_values, World};
use atpp::model::entity::Entity;
use atpp::model::ids::AutotaskId;
use atpp::model::pipeline::{BatchShape, Pipeline};
use atpp::sim::autotask::AutotaskSimOptions;
use atpp::sim::generator::{DocType, MspSpec, PassportalInstance};
use atpp::sim::passportal::{BatchBodies, PassportalSimOptions, WriteFaultPlan};
use atpp::stages::load::{render_summary, LoadSummary};
use atpp::stages::plan::Plan;
use atpp::store::ledger::Ledger;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::collections::{BTreeSet, HashMap};
use std::path::Path;
use std::time::Duration;

/// A dozen companies, each with users, locations, many contacts and assets to create.
fn spec(seed: u64) -> MspSpec {
    MspSpec {
        companies: 12,
        passportal_share: 0.5,
        passportal_only: 2,
        inactive: 0,
        ambiguous: 0,
        duplicate_names: 0,
        distractors: 0,
        resources: 6,
        contacts_per_company: 24,
        locations_per_company: 2,
        cis_per_company: 8,
        ..MspSpec::demo(seed)
    }
}

/// Companies all in Passportal already (matched by name), each with `contacts` contacts to
/// create as documents, nothing else.
fn contacts_only(seed: u64, companies: usize, contacts: usize) -> MspSpec {
    MspSpec {
        companies,
        passportal_share: 1.0,
        variant_share: 0.0,
        passportal_only: 0,
        inactive: 0,
        ambiguous: 0,
        duplicate_names: 0,
        distractors: 0,
        resources: 0,
        contacts_per_company: contacts,
        locations_per_company: 0,
        cis_per_company: 0,
        passportal_child_share: 0.0,
        ..MspSpec::demo(seed)
    }
}

async fn world(spec: &MspSpec, options: PassportalSimOptions) -> World {
    World::start(spec, 0, 0, AutotaskSimOptions::default(), options)
        .await
        .expect("simulators start")
}

/// An app on `staging`: a 1 s request timeout, two attempts per request, `tweak` applied.
fn app(world: &World, staging: &Path, tweak: impl FnOnce(&mut Pipeline)) -> App {
    let mut pipeline = world
        .pipeline(&crate::harness::by_hand_pipeline(), staging)
        .expect("pipeline");
    pipeline.passportal.timeout_secs = 1;
    pipeline.passportal.max_attempts = 2;
    pipeline.passportal.requests_per_sec = 5_000;
    tweak(&mut pipeline);
    let creds = sim_credential_values(&pipeline);
    App::new(pipeline, None, Box::new(creds)).expect("app")
}

/// Extract, match, plan and load: (plan, instance before the load, load summary).
async fn load(app: &App, world: &World) -> (Plan, PassportalInstance, LoadSummary) {
    let (run, _) = app.extract().await.expect("extract");
    app.match_run(Some(&run.id)).expect("match");
    let (_, plan) = app.plan(Some(&run.id)).expect("plan");
    let before = world.passportal.with_instance(|i| i.clone());
    let (_, summary) = app.load(Some(&run.id)).await.expect("load");
    (plan, before, summary)
}

/// The bodies of the document creates the simulator received, in order.
fn document_posts(world: &World) -> Vec<String> {
    world
        .passportal
        .writes_received()
        .into_iter()
        .filter(|w| w.method == "POST" && w.path == CREATE_DOCUMENT.path)
        .map(|w| String::from_utf8_lossy(&w.body).into_owned())
        .collect()
}

/// From the simulator's state: each planned create of `entity` (a document type) is held
/// exactly once, under the client its company is linked to, and linked to that document; and
/// nothing else of that type is new.
fn assert_documents_once(
    world: &World,
    plan: &Plan,
    before: &PassportalInstance,
    staging: &Path,
    entity: Entity,
    doc_type: DocType,
) {
    let now = world.passportal.with_instance(|i| i.clone());
    let ledger = Ledger::open(&staging.join("state.duckdb")).expect("ledger");
    let links = ledger.links(entity).expect("links");
    let company_links = ledger.links(Entity::Companies).expect("links");
    let old: BTreeSet<i64> = before.documents.iter().map(|d| d.id).collect();
    let mut carrying: HashMap<i64, Vec<(i64, i64)>> = HashMap::new();
    for d in now.documents.iter().filter(|d| d.doc_type == doc_type) {
        if let Some(at) = d
            .field(fields::AUTOTASK_ID)
            .and_then(|v| v.trim().parse().ok())
        {
            carrying.entry(at).or_default().push((d.id, d.client_id));
        }
    }
    let companies: HashMap<i64, i64> = world
        .msp
        .autotask
        .contacts
        .iter()
        .map(|c| (c.id, c.company_id))
        .collect();
    let rows = &plan.entities[&entity].create;
    let mut wrong = Vec::new();
    for at in rows {
        let id = &at.0;
        let docs = carrying.get(id).cloned().unwrap_or_default();
        if docs.len() != 1 {
            wrong.push(format!("{entity} {id}: {} documents", docs.len()));
            continue;
        }
        let (doc, client) = docs[0];
        let company = companies[id];
        if company_links
            .get(&AutotaskId(company))
            .map(|l| l.passportal_id.0)
            != Some(client)
        {
            wrong.push(format!(
                "{entity} {id} under client {client}, not its company's"
            ));
        }
        if links.get(at).map(|l| l.passportal_id.0) != Some(doc) {
            wrong.push(format!("{entity} {id}: not linked to document {doc}"));
        }
    }
    assert!(wrong.is_empty(), "{} wrong: {wrong:?}", wrong.len());
    let new = now
        .documents
        .iter()
        .filter(|d| d.doc_type == doc_type && !old.contains(&d.id))
        .count();
    assert_eq!(
        new,
        rows.len(),
        "{entity}: one new document per row, nothing else"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batches_applied_then_failed_or_unanswered_are_settled_row_by_row_exactly_once() {
    let faults = WriteFaultPlan {
        seed: 3,
        rate_applied_then_500: 0.2,
        rate_applied_then_drop: 0.2,
        ..WriteFaultPlan::default()
    };
    let options = PassportalSimOptions {
        faults,
        ..PassportalSimOptions::default()
    };
    let world = world(&spec(61), options).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let staging = dir.path().join("staging");
    let app = app(&world, &staging, |p| p.passportal.batch_size = 8);
    let (plan, before, summary) = load(&app, &world).await;

    let posts = document_posts(&world);
    let batches = posts.iter().filter(|b| b.starts_with('[')).count();
    let settled: u64 = [
        Entity::Locations,
        Entity::Contacts,
        Entity::ConfigurationItems,
    ]
    .iter()
    .map(|e| summary.entities[e].settled)
    .sum();
    eprintln!(
        "batch faults: {} document POSTs ({batches} batches), {settled} document rows settled",
        posts.len()
    );
    assert!(batches >= 10, "{batches} batches");
    assert!(
        settled >= 8,
        "some batches' outcomes were unknown: {settled}"
    );
    assert_eq!(summary.failed(), 0, "{:?}", summary.errors);
    assert_eq!(summary.problems(), 0, "{}", render_summary(&summary));
    assert_exactly_once(&world, &plan, &before, &staging);
    assert!(summary.notes.is_empty(), "{:?}", summary.notes);
    assert_eq!(world.passportal.unexpected().take(), Vec::<String>::new());
    world.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_instance_refusing_arrays_gets_single_creates_after_one_refusal_and_is_told_so() {
    let options = PassportalSimOptions {
        batch_bodies: BatchBodies::None,
        ..PassportalSimOptions::default()
    };
    let world = world(&spec(62), options).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let staging = dir.path().join("staging");
    let mut concurrency = 0;
    let app = app(&world, &staging, |p| concurrency = p.load.concurrency);
    let (plan, before, summary) = load(&app, &world).await;

    let posts = document_posts(&world);
    let refused = posts.iter().filter(|b| b.starts_with('[')).count();
    assert!(
        (1..=concurrency).contains(&refused),
        "{refused} arrays sent; at most the {concurrency} in flight when the first was refused"
    );
    // After the refusals every document went alone: the arrays are only those in flight then.
    assert!(posts.len() > 10 * refused, "{} POSTs", posts.len());
    assert_eq!(summary.notes.len(), 1, "said once: {:?}", summary.notes);
    let text = render_summary(&summary);
    assert!(
        text.contains("note: Passportal refused a batch")
            && text.contains("one document per request"),
        "{text}"
    );
    assert_eq!(summary.problems(), 0, "{text}");
    assert_exactly_once(&world, &plan, &before, &staging);
    world.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_wrapped_shape_is_sent_where_the_instance_takes_only_it() {
    let options = PassportalSimOptions {
        batch_bodies: BatchBodies::Wrapped,
        ..PassportalSimOptions::default()
    };
    let world = world(&spec(63), options).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let staging = dir.path().join("staging");
    let app = app(&world, &staging, |p| {
        p.passportal.batch_shape = BatchShape::Wrapped;
    });
    let (plan, before, summary) = load(&app, &world).await;
    let posts = document_posts(&world);
    assert!(posts.iter().any(|b| b.starts_with(r#"{"documents":["#)));
    assert!(!posts.iter().any(|b| b.starts_with('[')));
    assert!(summary.notes.is_empty(), "{:?}", summary.notes);
    assert_eq!(summary.problems(), 0, "{}", render_summary(&summary));
    assert_exactly_once(&world, &plan, &before, &staging);
    world.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batched_creates_cost_at_most_a_tenth_of_a_request_per_document() {
    let world = world(&contacts_only(64, 5, 150), PassportalSimOptions::default()).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let staging = dir.path().join("staging");
    // The default batch size and page size of the pipeline; contacts only.
    let app = app(&world, &staging, |p| {
        p.extract.resources = false;
        p.extract.locations = false;
        p.extract.configuration_items = false;
    });
    let (run, _) = app.extract().await.expect("extract");
    app.match_run(Some(&run.id)).expect("match");
    let (_, plan) = app.plan(Some(&run.id)).expect("plan");
    let before = world.passportal.with_instance(|i| i.clone());
    let gets_before = world.passportal.gets_by_path();
    let (_, summary) = app.load(Some(&run.id)).await.expect("load");
    assert_eq!(summary.problems(), 0, "{}", render_summary(&summary));
    assert_documents_once(
        &world,
        &plan,
        &before,
        &staging,
        Entity::Contacts,
        DocType::Contact,
    );

    let created = world.passportal.documents().len() - before.documents.len();
    assert!(created >= 300, "{created} documents");
    let gets = world.passportal.gets_by_path();
    let delta = |path: &str| {
        gets.get(path).copied().unwrap_or(0) - gets_before.get(path).copied().unwrap_or(0)
    };
    let listings = delta(LIST_DOCUMENTS.path);
    let details: u64 = gets
        .keys()
        .filter(|p| p.starts_with("/api/v2/documents/") && *p != "/api/v2/documents/clients")
        .map(|p| delta(p))
        .sum();
    let posts = document_posts(&world).len() as u64;
    let per_doc = (posts + listings) as f64 / created as f64;
    eprintln!(
        "batched creates: {created} documents, {posts} POSTs, {listings} listing pages \
         (reconcile, read-back, verify): {per_doc:.3} per document; {details} detail reads \
         ({:.2} per document: read-back and verify)",
        details as f64 / created as f64
    );
    assert!(
        per_doc <= 0.1,
        "{per_doc:.3} create and listing requests per document"
    );
    world.stop().await;
}

/// Loads killed before one is let finish.
const KILLS: usize = 6;

#[test]
fn a_batched_load_killed_at_random_points_then_run_again_makes_every_document_once() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let options = PassportalSimOptions {
        latency_ms: 10,
        faults: WriteFaultPlan {
            seed: 17,
            rate_applied_then_hang_ms: 0.05,
            hang_ms: 300,
            rate_applied_then_500: 0.05,
            ..WriteFaultPlan::default()
        },
        ..PassportalSimOptions::default()
    };
    let world = rt.block_on(world(&contacts_only(65, 20, 60), options));
    let dir = tempfile::tempdir().expect("temp dir");
    let staging = dir.path().join("staging");
    let pipeline_file = dir.path().join("batch-crash.toml");
    let text = pipeline_text_with(
        &world,
        &staging,
        &["resources", "locations", "configuration_items"],
        &[("batch_size", 20.into()), ("timeout_secs", 2.into())],
    );
    std::fs::write(&pipeline_file, text).expect("pipeline written");
    let pipeline = Pipeline::load(&pipeline_file).expect("pipeline parses");
    let cli = Cli {
        pipeline: pipeline_file,
        env: sim_credential_values(&pipeline),
    };
    cli.run("extract");
    cli.run("match");
    cli.run("plan");
    let run = atpp::store::staging::Staging::open(&staging)
        .and_then(|s| s.run(None))
        .expect("run");
    let plan = atpp::stages::plan::read_frozen(&run).expect("frozen plan");
    let rows = plan.entities[&Entity::Contacts].create.len() as u64;
    assert!(rows >= 1_000, "{rows} contacts to create");
    let before = world.passportal.with_instance(|i| i.clone());

    let mut rng = ChaCha8Rng::seed_from_u64(20_261_202);
    let mut kills = 0;
    let mut finished = None;
    while kills < KILLS {
        let left = rows.saturating_sub(world.passportal.creates());
        let step = rng.gen_range(1..=(2 * left / (KILLS - kills + 1) as u64).max(1));
        let target = world.passportal.creates() + step;
        let extra = Duration::from_millis(rng.gen_range(0..40));
        let mut reached: Option<Duration> = None;
        let status = cli.load_killed_when(|t| {
            if reached.is_none() && world.passportal.creates() >= target {
                reached = Some(t);
            }
            reached.is_some_and(|r| t >= r + extra)
        });
        if let Some(status) = status {
            finished = Some(status);
            break;
        }
        kills += 1;
    }
    let out = cli.command("load").output().expect("final load runs");
    assert!(
        out.status.success(),
        "the last load exits 0 (after {kills} kills, finished: {finished:?}): {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    eprintln!(
        "batched crash test: {rows} contacts, {kills} kills, {} document POSTs",
        document_posts(&world).len()
    );
    assert!(
        kills >= 3,
        "only {kills} loads were killed before one finished"
    );
    assert_documents_once(
        &world,
        &plan,
        &before,
        &staging,
        Entity::Contacts,
        DocType::Contact,
    );
    assert_eq!(
        world.passportal.creates(),
        rows,
        "each document applied once"
    );
    assert_eq!(world.passportal.unexpected().take(), Vec::<String>::new());
    rt.block_on(world.stop());
}
