//! The command line: each subcommand parses its flags and calls one stage (or the demo, or the
//! simulators), and says how it went as an `Outcome` that `main` maps to an exit code.

use crate::commands::app::App;
use crate::commands::demo::{self, World};
use crate::model::pipeline::{Environment, Pipeline};
use crate::sim::autotask::AutotaskSimOptions;
use crate::sim::generator::MspSpec;
use crate::sim::passportal::PassportalSimOptions;
use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use std::path::{Path, PathBuf};

/// How a command ended, when it did not fail outright. See README for the exit codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Everything asked was done.
    Success,
    /// Some rows failed; the rest was done (exit 4).
    PartialFailure,
    /// Done, and rows wait for an analyst in the review tables (exit 3).
    ReviewPending,
    /// Done, but creates failed on every night they were allowed and need a person (exit 5).
    NeedsPerson,
}

impl Outcome {
    pub fn exit_code(self) -> i32 {
        match self {
            Outcome::Success => 0,
            Outcome::ReviewPending => 3,
            Outcome::PartialFailure => 4,
            Outcome::NeedsPerson => 5,
        }
    }
}

#[derive(Debug, Parser)]
#[command(
    name = "atpp",
    version,
    about = "Bring an MSP's records from Datto Autotask PSA into N-able Passportal"
)]
pub struct Cli {
    /// More detail on stderr (-v: info, -vv: debug).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
pub struct PipelineArgs {
    /// The pipeline file (e.g. pipelines/migration.toml).
    #[arg(long, short)]
    pub pipeline: PathBuf,
    /// Staging folder, overriding the pipeline's `staging_dir`.
    #[arg(long)]
    pub staging: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub pipeline: PipelineArgs,
    /// The run to act on (default: the latest).
    #[arg(long)]
    pub run: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the whole pipeline against built-in simulators of both services and print the overview.
    Demo {
        /// Seed of the generated MSP.
        #[arg(long, default_value_t = 42)]
        seed: u64,
        /// Staging folder for the demo (cleared first).
        #[arg(long, default_value = "staging/demo")]
        staging: PathBuf,
    },
    /// Start the Autotask and Passportal simulators and keep them running (Ctrl-C stops).
    Sim {
        #[arg(long, default_value_t = 8081)]
        autotask_port: u16,
        #[arg(long, default_value_t = 8082)]
        passportal_port: u16,
        #[arg(long, default_value_t = 42)]
        seed: u64,
    },
    /// Extract both sides into a new run folder.
    Extract {
        #[command(flatten)]
        args: PipelineArgs,
        /// Continue the latest run's killed or failed extract from its last committed batch.
        #[arg(long)]
        resume: bool,
        /// Read everything in full, ignoring the watermarks of incremental runs.
        #[arg(long)]
        full_refresh: bool,
    },
    /// Match a run's extract into review tables.
    Match {
        #[command(flatten)]
        args: RunArgs,
        /// Write the review tables as CSV files or as one Excel workbook (overrides the
        /// pipeline's `[review] format`).
        #[arg(long, value_parser = ["csv", "xlsx"])]
        format: Option<String>,
    },
    /// Validate the review tables, print the overview, freeze the plan.
    Plan {
        #[command(flatten)]
        args: RunArgs,
        /// Print the plan's overview as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Apply a run's frozen plan to Passportal.
    Load {
        #[command(flatten)]
        args: RunArgs,
        /// Print the requests the load would make, and make none.
        #[arg(long)]
        dry_run: bool,
    },
    /// Read Passportal back and prove each row a run's plan approved exists exactly once and
    /// points at the right Autotask record (what every load ends with); writes
    /// `load/verify.csv`.
    Verify {
        #[command(flatten)]
        args: RunArgs,
    },
    /// extract → match → plan → load.
    Run {
        #[command(flatten)]
        args: PipelineArgs,
        /// Print the summary as one JSON object (for monitoring).
        #[arg(long)]
        json: bool,
    },
    /// List the Passportal routes used, and which are assumed.
    Routes,
    /// Recent runs, rows waiting for review, orphans, ledger size, Autotask threshold use.
    Status {
        #[command(flatten)]
        args: PipelineArgs,
        /// Print the status as JSON.
        #[arg(long)]
        json: bool,
        /// How many recent runs to list.
        #[arg(long, default_value_t = 10)]
        runs: usize,
    },
    /// Run DuckDB SQL over a run's Parquet files and the ledger (read-only).
    Query {
        #[command(flatten)]
        args: RunArgs,
        /// The SQL, e.g. "SELECT count(*) FROM autotask_companies".
        sql: String,
        /// Print CSV (as the review tables are written) instead of a table.
        #[arg(long)]
        csv: bool,
    },
    /// Remove old run folders, keeping the newest N (never the ledger, the latest run, or a run
    /// with unapplied review decisions).
    Prune {
        #[command(flatten)]
        args: PipelineArgs,
        /// How many of the newest runs to keep.
        #[arg(long)]
        keep: usize,
        /// Say what would be removed, and remove nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Authenticate to both services and read one page of each kind of record; writes nothing.
    Check {
        /// The pipeline file (e.g. pipelines/migration.toml).
        #[arg(long, short)]
        pipeline: PathBuf,
        /// Print the checks as JSON.
        #[arg(long)]
        json: bool,
    },
}

fn app(args: &PipelineArgs) -> anyhow::Result<App> {
    let pipeline = Pipeline::load(&args.pipeline)?;
    App::new(pipeline, args.staging.as_deref(), Box::new(Environment))
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")
}

/// Run a parsed command line.
pub fn run(cli: Cli) -> anyhow::Result<Outcome> {
    match cli.command {
        Command::Demo { seed, staging } => runtime()?.block_on(demo_command(seed, &staging)),
        Command::Sim {
            autotask_port,
            passportal_port,
            seed,
        } => runtime()?.block_on(sim_command(autotask_port, passportal_port, seed)),
        Command::Extract {
            args,
            resume,
            full_refresh,
        } => {
            let app = app(&args)?;
            let _lock = app.lock("extract")?;
            let options = crate::commands::app::ExtractOptions {
                resume,
                full_refresh,
            };
            let (run, summary) = runtime()?.block_on(app.extract_with(options))?;
            for (file, rows) in &summary.files {
                println!("{rows:>8} rows  {file}");
            }
            println!("run {} in {}", run.id, run.dir.display());
            Ok(Outcome::Success)
        }
        Command::Match { args, format } => {
            let mut app = app(&args.pipeline)?;
            match format.as_deref() {
                Some("xlsx") => {
                    app.pipeline.review.format = crate::model::pipeline::ReviewFormat::Xlsx
                }
                Some("csv") => {
                    app.pipeline.review.format = crate::model::pipeline::ReviewFormat::Csv
                }
                _ => {}
            }
            let _lock = app.lock("match")?;
            let (run, summary) = app.match_run(args.run.as_deref())?;
            for (entity, counts) in &summary {
                let parts: Vec<String> = counts.iter().map(|(a, n)| format!("{n} {a}")).collect();
                println!("{entity}: {}", parts.join(", "));
            }
            println!("review tables in {}", run.path("review").display());
            Ok(Outcome::Success)
        }
        Command::Plan { args, json } => {
            let app = app(&args.pipeline)?;
            let _lock = app.lock("plan")?;
            let (run, plan) = app.plan(args.run.as_deref())?;
            if json {
                let value = serde_json::json!({
                    "run_id": plan.run_id,
                    "overview": plan.overview,
                    "warnings": plan.warnings,
                    "plan_file": run.path(crate::stages::plan::PLAN_FILE),
                });
                println!("{}", serde_json::to_string_pretty(&value)?);
            } else {
                print!("{}", crate::stages::plan::render_overview(&plan));
                println!(
                    "plan frozen in {}",
                    run.path(crate::stages::plan::PLAN_FILE).display()
                );
            }
            Ok(Outcome::Success)
        }
        Command::Load { args, dry_run } => {
            let app = app(&args.pipeline)?;
            let _lock = app.lock("load")?;
            let (run, summary) =
                runtime()?.block_on(app.load_with(args.run.as_deref(), dry_run))?;
            if dry_run {
                for request in &summary.dry_run_requests {
                    println!("{request}");
                }
                println!(
                    "dry run: {} create request(s) listed, none made; links are recorded only \
                     by a real load",
                    summary.dry_run_requests.len()
                );
                return Ok(Outcome::Success);
            }
            Ok(report_load(&run, &summary))
        }
        Command::Verify { args } => {
            let app = app(&args.pipeline)?;
            let _lock = app.lock("verify")?;
            let (run, report) = runtime()?.block_on(app.verify(args.run.as_deref()))?;
            print!("{}", report.render());
            if report.findings.is_empty() {
                return Ok(Outcome::Success);
            }
            eprintln!(
                "{} problem(s); see {}",
                report.findings.len(),
                run.path(crate::stages::load::VERIFY_FILE).display()
            );
            Ok(Outcome::PartialFailure)
        }
        Command::Run { args, json } => {
            let app = app(&args)?;
            let _lock = app.lock("run")?;
            let report = runtime()?.block_on(crate::commands::nightly::run(&app))?;
            if json {
                println!("{}", serde_json::to_string(&report)?);
            } else {
                print!("{}", crate::commands::nightly::render(&report));
            }
            Ok(match report.outcome {
                crate::commands::nightly::RunOutcome::Success => Outcome::Success,
                crate::commands::nightly::RunOutcome::ReviewPending => Outcome::ReviewPending,
                crate::commands::nightly::RunOutcome::PartialFailure => Outcome::PartialFailure,
                crate::commands::nightly::RunOutcome::NeedsPerson => Outcome::NeedsPerson,
            })
        }
        Command::Status { args, json, runs } => {
            let app = app(&args)?;
            let status = crate::commands::status::gather_with(
                &app.staging,
                runs,
                app.pipeline.run.max_create_attempts,
            )?;
            if json {
                println!("{}", serde_json::to_string_pretty(&status)?);
            } else {
                print!("{}", crate::commands::status::render(&status));
            }
            Ok(Outcome::Success)
        }
        Command::Query { args, sql, csv } => {
            let app = app(&args.pipeline)?;
            let run = match args.run.as_deref() {
                Some(id) => Some(app.staging.run(Some(id))?),
                None => app.staging.run(None).ok(),
            };
            let ctx = crate::commands::query::QueryContext::open(&app.staging, run.as_ref())?;
            let result = ctx.query(&sql)?;
            if csv {
                use std::io::Write;
                std::io::stdout()
                    .write_all(&crate::commands::query::render_csv(&result))
                    .context("writing the answer")?;
            } else {
                print!("{}", crate::commands::query::render_text(&result));
            }
            Ok(Outcome::Success)
        }
        Command::Prune {
            args,
            keep,
            dry_run,
        } => {
            let app = app(&args)?;
            let _lock = app.lock("prune")?;
            let ledger = app.ledger()?;
            let report = crate::commands::prune::prune(&app.staging, &ledger, keep, dry_run)?;
            print!("{}", crate::commands::prune::render(&report));
            Ok(Outcome::Success)
        }
        Command::Check { pipeline, json } => {
            let pipeline = Pipeline::load(&pipeline)?;
            let checks =
                runtime()?.block_on(crate::commands::check::run_checks(&pipeline, &Environment));
            if json {
                println!("{}", serde_json::to_string_pretty(&checks)?);
            } else {
                print!("{}", crate::commands::check::render(&checks));
            }
            let failed = checks
                .iter()
                .filter(|c| c.status != crate::commands::check::CheckStatus::Ok)
                .count();
            if failed > 0 {
                anyhow::bail!(
                    "{failed} check(s) did not pass: fix the first FAILED one and run `atpp \
                     check` again"
                );
            }
            Ok(Outcome::Success)
        }
        Command::Routes => {
            for r in crate::api::passportal::routes::ALL {
                let status = if r.confirmed { "confirmed" } else { "ASSUMED" };
                println!(
                    "{:<6} {:<32} {:<10} {}",
                    r.method, r.path, status, r.purpose
                );
            }
            Ok(Outcome::Success)
        }
    }
}

fn report_load(
    run: &crate::store::staging::Run,
    summary: &crate::stages::load::LoadSummary,
) -> Outcome {
    print!("{}", crate::stages::load::render_summary(summary));
    if summary.failed() > 0 {
        eprintln!(
            "{} row(s) failed; see {}",
            summary.failed(),
            run.path(crate::stages::load::ERRORS_FILE).display()
        );
    }
    if !summary.verify.findings.is_empty() {
        eprintln!(
            "{} problem(s) found reading Passportal back; see {}",
            summary.verify.findings.len(),
            run.path(crate::stages::load::VERIFY_FILE).display()
        );
    }
    if summary.problems() > 0 {
        Outcome::PartialFailure
    } else {
        Outcome::Success
    }
}

async fn demo_command(seed: u64, staging: &Path) -> anyhow::Result<Outcome> {
    let spec = MspSpec::demo(seed);
    let started = std::time::Instant::now();
    let report = demo::run_demo(&spec, staging).await?;
    println!(
        "Generated MSP (seed {seed}): {} Autotask companies, {} Passportal clients",
        report.msp.autotask.companies.len(),
        report.msp.passportal.clients.len()
    );
    println!();
    print!("{}", crate::stages::plan::render_overview(&report.plan));
    println!();
    print!("{}", crate::stages::load::render_summary(&report.load));
    println!();
    let stages: Vec<String> = report
        .timings
        .iter()
        .map(|(stage, at)| format!("{stage} {:.1}s", at.as_secs_f64()))
        .collect();
    println!(
        "Done in {:.1} s ({}). Run folder: {}",
        started.elapsed().as_secs_f64(),
        stages.join(", "),
        report.run_dir.display()
    );
    println!(
        "Review tables: {} ({} row(s) wait for review there)",
        report.run_dir.join("review").display(),
        report.plan.waiting_for_review()
    );
    Ok(if report.load.problems() > 0 {
        Outcome::PartialFailure
    } else {
        Outcome::Success
    })
}

async fn sim_command(
    autotask_port: u16,
    passportal_port: u16,
    seed: u64,
) -> anyhow::Result<Outcome> {
    let spec = MspSpec::demo(seed);
    let world = World::start(
        &spec,
        autotask_port,
        passportal_port,
        AutotaskSimOptions::default(),
        PassportalSimOptions::default(),
    )
    .await?;
    println!(
        "Autotask simulator:   {} (zone discovery {})",
        world.autotask_server.base_url(),
        crate::sim::autotask::discovery_url(&world.autotask_server)
    );
    println!(
        "Passportal simulator: {}",
        world.passportal_server.base_url()
    );
    println!(
        "{} companies, {} clients (seed {seed}). Point a pipeline at them \
         (pipelines/demo.toml uses ports 8081/8082) and set the simulators' credentials:",
        world.msp.autotask.companies.len(),
        world.msp.passportal.clients.len()
    );
    let pipeline = Pipeline::parse(demo::DEMO_PIPELINE, Path::new("pipelines/demo.toml"))?;
    for (name, value) in demo::sim_credential_values(&pipeline) {
        println!("  export {name}={value}");
    }
    println!("Ctrl-C stops them.");
    tokio::signal::ctrl_c()
        .await
        .context("waiting for Ctrl-C")?;
    world.stop().await;
    Ok(Outcome::Success)
}
