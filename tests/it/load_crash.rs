//! The crash-safe load: the real `atpp` binary loads ~5,000 new clients and is killed with
//! SIGKILL at seeded random points, over and over, each time started again, until a load
//! finishes. The simulators run inside this test process, so they outlive every killed load and
//! hold what it managed to write. Passportal is slow (a latency on every answer) and some creates
//! are applied and then answered only after a pause, so kills land between a create being
//! accepted and its outcome being recorded. In the end every approved row is in Passportal
//! exactly once and the ledger agrees.

use atpp::commands::demo::{sim_credential_values, World};
use atpp::model::entity::Entity;
use atpp::model::pipeline::Pipeline;
use atpp::sim::autotask::AutotaskSimOptions;
use atpp::sim::generator::MspSpec;
use atpp::sim::passportal::{PassportalSimOptions, WriteFaultPlan};
use atpp::store::ledger::{Ledger, WriteState};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// Loads killed before one is let finish.
const KILLS: usize = 10;
/// The simulator's answer time per request (the load's pace is `concurrency / LATENCY`).
const LATENCY_MS: u64 = 10;
/// Share of creates applied and then answered only after `HANG_MS`.
const HANG_RATE: f64 = 0.01;
const HANG_MS: u64 = 400;
/// A load running this long is stuck: the test fails instead of waiting for ever.
const STUCK: Duration = Duration::from_secs(300);

/// ~5,000 companies to create: few already in Passportal, a few planted duplicate names (two
/// Autotask companies of one name and a Passportal client of that name, all to be created).
fn spec() -> MspSpec {
    MspSpec {
        companies: 5_000,
        passportal_share: 0.02,
        passportal_only: 20,
        inactive: 10,
        ambiguous: 5,
        duplicate_names: 5,
        distractors: 5,
        resources: 0,
        contacts_per_company: 0,
        locations_per_company: 0,
        cis_per_company: 0,
        ..MspSpec::demo(4242)
    }
}

/// The demo pipeline, pointed at the simulators, staging in `staging`, companies only.
fn pipeline_text(world: &World, staging: &Path) -> String {
    pipeline_text_with(
        world,
        staging,
        &["resources", "contacts", "locations", "configuration_items"],
        &[],
    )
}

/// The demo pipeline, pointed at the simulators, staging in `staging`, with pages of 1000,
/// without extracting the entities `off`, and with the `[passportal]` keys `set`.
pub(crate) fn pipeline_text_with(
    world: &World,
    staging: &Path,
    off: &[&str],
    set_pp: &[(&str, toml::Value)],
) -> String {
    let mut doc: toml::Table = crate::harness::by_hand_pipeline()
        .parse()
        .expect("demo pipeline is TOML");
    let table = |doc: &mut toml::Table, key: &str| -> toml::Table {
        doc.get(key)
            .and_then(toml::Value::as_table)
            .cloned()
            .unwrap_or_default()
    };
    let set = |t: &mut toml::Table, key: &str, v: toml::Value| {
        t.insert(key.to_string(), v);
    };
    doc.insert(
        "staging_dir".into(),
        toml::Value::String(staging.display().to_string()),
    );
    let mut at = table(&mut doc, "autotask");
    set(
        &mut at,
        "discovery_url",
        atpp::sim::autotask::discovery_url(&world.autotask_server).into(),
    );
    doc.insert("autotask".into(), at.into());
    let mut pp = table(&mut doc, "passportal");
    set(
        &mut pp,
        "base_url",
        world.passportal_server.base_url().into(),
    );
    set(&mut pp, "page_size", 1000.into());
    for (key, value) in set_pp {
        set(&mut pp, key, value.clone());
    }
    doc.insert("passportal".into(), pp.into());
    let mut extract = table(&mut doc, "extract");
    for entity in off {
        set(&mut extract, entity, false.into());
    }
    doc.insert("extract".into(), extract.into());
    toml::to_string(&doc).expect("serialises")
}

pub(crate) struct Cli {
    pub(crate) pipeline: PathBuf,
    pub(crate) env: BTreeMap<String, String>,
}

impl Cli {
    pub(crate) fn command(&self, stage: &str) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_atpp"));
        cmd.arg(stage)
            .arg("--pipeline")
            .arg(&self.pipeline)
            .envs(&self.env)
            .env_remove("ATPP_LOG")
            .stdin(Stdio::null());
        cmd
    }

    /// Run a stage to its end; panics unless it succeeds.
    pub(crate) fn run(&self, stage: &str) {
        let out = self.command(stage).output().expect("atpp runs");
        assert!(
            out.status.success(),
            "atpp {stage}: {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Start `atpp load` and kill it when `when` says so (polled every few milliseconds; it
    /// gets the time since the start), unless it ended before; its status if it ended.
    pub(crate) fn load_killed_when(
        &self,
        mut when: impl FnMut(Duration) -> bool,
    ) -> Option<ExitStatus> {
        let mut child = self
            .command("load")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("atpp starts");
        let start = Instant::now();
        loop {
            if let Some(status) = child.try_wait().expect("wait") {
                return Some(status);
            }
            if when(start.elapsed()) {
                break;
            }
            if start.elapsed() > STUCK {
                child.kill().expect("SIGKILL");
                panic!("a load ran for {STUCK:?} without finishing or being killed");
            }
            std::thread::sleep(Duration::from_millis(3));
        }
        child.kill().expect("SIGKILL");
        child.wait().expect("reaped");
        None
    }
}

/// The ledger as a killed load left it, read from a copy (so the next load, not this test, is
/// the one that recovers the original).
fn ledger_snapshot(staging: &Path, scratch: &Path) -> Ledger {
    let _ = std::fs::remove_dir_all(scratch);
    std::fs::create_dir_all(scratch).expect("scratch dir");
    for name in ["state.duckdb", "state.duckdb.wal"] {
        let from = staging.join(name);
        if from.exists() {
            std::fs::copy(&from, scratch.join(name)).expect("copy ledger");
        }
    }
    Ledger::open(&scratch.join("state.duckdb")).expect("ledger copy opens")
}

#[test]
fn a_load_killed_at_random_points_creates_every_row_exactly_once() {
    let started = Instant::now();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let options = PassportalSimOptions {
        latency_ms: LATENCY_MS,
        faults: WriteFaultPlan {
            seed: 11,
            rate_applied_then_hang_ms: HANG_RATE,
            hang_ms: HANG_MS,
            ..WriteFaultPlan::default()
        },
        ..PassportalSimOptions::default()
    };
    let world = rt
        .block_on(World::start(
            &spec(),
            0,
            0,
            AutotaskSimOptions::default(),
            options,
        ))
        .expect("simulators start");
    let dir = tempfile::tempdir().expect("temp dir");
    let staging = dir.path().join("staging");
    let pipeline_file = dir.path().join("crash.toml");
    std::fs::write(&pipeline_file, pipeline_text(&world, &staging)).expect("pipeline written");
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
    let companies = &plan.entities[&Entity::Companies];
    assert!(
        companies.create.len() >= 4_900,
        "{} rows to create",
        companies.create.len()
    );
    let before: Vec<_> = world.passportal.clients();
    let before_ids: BTreeSet<i64> = before.iter().map(|c| c.id).collect();
    let at_names: HashMap<i64, String> = world
        .msp
        .autotask
        .companies
        .iter()
        .map(|c| (c.id, c.company_name.clone()))
        .collect();
    let setup = started.elapsed();

    // Kill loads at random points until one finishes by itself (or the kills are used up).
    let mut rng = ChaCha8Rng::seed_from_u64(20_260_401);
    let scratch = dir.path().join("ledger-copy");
    let mut kills = 0;
    let mut applied_unrecorded = Vec::new();
    let mut progress = Vec::new();
    let mut finished = None;
    while kills < KILLS {
        // Most kills land once the load has applied a random share of what is left (spread
        // over the whole load, whatever the machine's speed); some at a random moment of its
        // start (ledger recovery, reading the plan, reconciling).
        let status = if rng.gen_bool(0.25) {
            let after = Duration::from_millis(rng.gen_range(50..1_500));
            cli.load_killed_when(|t| t >= after)
        } else {
            let left = companies.create.len() as u64 - world.passportal.creates();
            let step = rng.gen_range(1..=(2 * left / (KILLS - kills + 1) as u64).max(1));
            let target = world.passportal.creates() + step;
            let extra = Duration::from_millis(rng.gen_range(0..60));
            let mut reached: Option<Duration> = None;
            cli.load_killed_when(|t| {
                if reached.is_none() && world.passportal.creates() >= target {
                    reached = Some(t);
                }
                reached.is_some_and(|r| t >= r + extra)
            })
        };
        if let Some(status) = status {
            finished = Some(status);
            break;
        }
        kills += 1;
        // Creates Passportal applied whose outcome the killed load never recorded.
        let ledger = ledger_snapshot(&staging, &scratch);
        let linked: BTreeSet<i64> = ledger
            .links(Entity::Companies)
            .expect("links")
            .values()
            .map(|l| l.passportal_id.0)
            .collect();
        let unrecorded = world
            .passportal
            .clients()
            .iter()
            .filter(|c| !before_ids.contains(&c.id) && !linked.contains(&c.id))
            .count();
        applied_unrecorded.push(unrecorded);
        progress.push(linked.len());
    }
    let killed = started.elapsed();
    match finished {
        Some(status) => assert!(status.success(), "the last load exits 0, not {status}"),
        None => {
            let out = cli.command("load").output().expect("final load runs");
            assert!(
                out.status.success(),
                "the last load exits 0, not {}: {}\n{}",
                out.status,
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
    eprintln!(
        "crash test: {} rows to create, {kills} kills; clients linked at each kill {progress:?}, \
         creates applied but unrecorded at each kill {applied_unrecorded:?}; setup {:.1}s, \
         kills done at {:.1}s, total {:.1}s",
        companies.create.len(),
        setup.as_secs_f64(),
        killed.as_secs_f64(),
        started.elapsed().as_secs_f64()
    );
    assert!(
        kills >= 5,
        "only {kills} loads were killed before one finished"
    );
    assert!(
        applied_unrecorded.iter().any(|n| *n > 0),
        "no kill landed between a create being applied and its outcome being recorded"
    );

    // Passportal: every approved row exactly once, counted by name.
    let after = world.passportal.clients();
    let count = |clients: &[atpp::sim::generator::PpClient]| {
        let mut by_name: HashMap<String, usize> = HashMap::new();
        for c in clients {
            *by_name.entry(c.name.clone()).or_default() += 1;
        }
        by_name
    };
    let (had, has) = (count(&before), count(&after));
    let mut wanted: HashMap<String, usize> = HashMap::new();
    for id in &companies.create {
        *wanted.entry(at_names[&id.0].clone()).or_default() += 1;
    }
    let mut wrong = Vec::new();
    for (name, n) in &wanted {
        let expected = had.get(name).copied().unwrap_or(0) + n;
        let found = has.get(name).copied().unwrap_or(0);
        if found != expected {
            wrong.push(format!("{name:?}: {found} clients, expected {expected}"));
        }
    }
    assert!(wrong.is_empty(), "duplicates or losses: {wrong:?}");
    assert_eq!(after.len(), before.len() + companies.create.len());
    assert_eq!(
        world.passportal.creates() as usize,
        companies.create.len(),
        "each create applied exactly once"
    );

    // The ledger agrees: every created and matched company linked, one to one, to a client
    // that exists (a created one to a new client of its name), and no create left unfinished.
    let ledger = Ledger::open(&staging.join("state.duckdb")).expect("ledger");
    let links = ledger.links(Entity::Companies).expect("links");
    let names: HashMap<i64, &str> = after.iter().map(|c| (c.id, c.name.as_str())).collect();
    for id in &companies.create {
        let link = links
            .get(id)
            .unwrap_or_else(|| panic!("created company {id} is not linked"));
        let pp = link.passportal_id.0;
        assert!(
            !before_ids.contains(&pp),
            "{id} linked to an old client {pp}"
        );
        assert_eq!(
            names.get(&pp).copied(),
            Some(at_names[&id.0].as_str()),
            "{id}"
        );
    }
    for l in &companies.link {
        let link = &links[&l.autotask_id];
        assert_eq!(link.passportal_id, l.passportal_id);
    }
    assert_eq!(links.len(), companies.create.len() + companies.link.len());
    let targets: BTreeSet<i64> = links.values().map(|l| l.passportal_id.0).collect();
    assert_eq!(targets.len(), links.len(), "links are one to one");
    assert!(targets.iter().all(|id| names.contains_key(id)));
    let writes = ledger
        .write_records(Entity::Companies, "create")
        .expect("write log");
    assert_eq!(writes.len(), companies.create.len());
    assert!(writes.values().all(|w| w.state == WriteState::Done));

    assert_eq!(world.passportal.unexpected().take(), Vec::<String>::new());
    rt.block_on(world.stop());
}
