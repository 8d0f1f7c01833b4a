//! What atpp promises about the files it leaves and the locks it takes, driven through the real
//! stages and the real binary: staging (the ledger's WAL included) is owner-only, `atpp query`
//! writes nothing anywhere, and the staging lock never sticks — a signal empties it, and a lock
//! left by a killed process is recognised as dead even when its pid now belongs to another.

use crate::harness::{files_under, TestWorld};
use crate::operations::{atpp, pipeline_file, small, text};
use atpp::commands::demo::{sim_credential_values, DEMO_PIPELINE};
use atpp::model::pipeline::Pipeline;
use atpp::store::lock::{holder, LockInfo, StagingLock, LOCK_FILE};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::ExitStatusExt;
use std::path::Path;

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staging_and_the_ledgers_wal_are_owner_only() {
    // The mask a login shell usually has: files anyone may read unless atpp says otherwise.
    // SAFETY: umask only swaps the process's mask.
    unsafe { libc::umask(0o022) };
    let t = TestWorld::start(&small(21)).await;
    let (run, _) = t.app.extract().await.unwrap();
    t.app.match_run(Some(&run.id)).unwrap();
    t.app.plan(Some(&run.id)).unwrap();
    t.app.load(Some(&run.id)).await.unwrap();
    // A ledger in use has its write-ahead log beside it (until DuckDB checkpoints on close).
    let ledger = t.app.ledger().unwrap();
    ledger.begin_run("hardening-check", "demo").unwrap();
    let root = t.app.staging.root();
    let wal = root.join("state.duckdb.wal");
    assert!(wal.is_file(), "the ledger in use has its WAL");

    let files = files_under(root);
    assert!(files.len() > 10, "{files:?}");
    for file in files.iter().chain([&wal]) {
        assert_eq!(mode(file), 0o600, "{} is owner-only", file.display());
    }
    let mut dirs = vec![root.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        assert_eq!(mode(&dir), 0o700, "{} is owner-only", dir.display());
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            if entry.path().is_dir() {
                dirs.push(entry.path());
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn query_through_the_binary_writes_nothing_and_says_why() {
    let t = TestWorld::start(&small(22)).await;
    let pipeline = pipeline_file(&t).display().to_string();
    let (run, _) = t.app.extract().await.unwrap();
    let out_dir = tempfile::tempdir().unwrap();
    let target = |name: &str| out_dir.path().join(name).display().to_string();
    let staged = run.path("extract/autotask/companies.parquet");
    let staged_before = std::fs::read(&staged).unwrap();
    let ledger_before = std::fs::read(t.app.staging.ledger_path()).unwrap();
    for sql in [
        format!("COPY (SELECT 1) TO '{}'", target("x.csv")),
        format!("COPY (SELECT 1 AS a) TO '{}'", staged.display()),
        format!("SELECT 1; COPY (SELECT 1) TO '{}'", target("y.csv")),
        format!("COPY (SELECT 1) TO '{}'; SELECT 1", target("z.csv")),
        format!("EXPORT DATABASE '{}'", target("export")),
        format!("ATTACH '{}' AS other", target("other.duckdb")),
        "INSTALL httpfs".to_string(),
        "CREATE TABLE kept AS SELECT 1 AS a".to_string(),
        "INSERT INTO atpp_ledger.main.runs VALUES ('x', 'y', now(), NULL, NULL, NULL)".to_string(),
        format!(
            "SELECT * FROM read_csv('{}')",
            staged.with_extension("csv").display()
        ),
    ] {
        let out = atpp(&t, &["query", "--pipeline", &pipeline, &sql], &[]).await;
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{sql}: {stderr}");
        assert!(
            stderr.contains("atpp query only reads") || stderr.contains("read-only"),
            "{sql}: {stderr}"
        );
    }
    let left: Vec<_> = std::fs::read_dir(out_dir.path())
        .unwrap()
        .flatten()
        .collect();
    assert!(left.is_empty(), "nothing written: {left:?}");
    assert_eq!(std::fs::read(&staged).unwrap(), staged_before);
    assert_eq!(
        std::fs::read(t.app.staging.ledger_path()).unwrap(),
        ledger_before
    );
    // Reading still answers, the ledger's tables included.
    let sql = "SELECT count(*) AS n FROM runs";
    let out = atpp(&t, &["query", "--pipeline", &pipeline, sql], &[]).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("(1 row)"),
        "{}",
        text(&out.stdout)
    );
}

/// The demo pipeline pointed at a port that takes connections and never answers: `atpp extract`
/// takes the lock and then waits on Autotask for as long as the test needs.
fn stalled_pipeline(dir: &Path, silent: &std::net::TcpListener) -> (std::path::PathBuf, Pipeline) {
    let addr = silent.local_addr().unwrap();
    let text = DEMO_PIPELINE
        .replace(
            "http://127.0.0.1:8081/atservicesrest/",
            &format!("http://{addr}/atservicesrest/"),
        )
        .replace("http://127.0.0.1:8082", &format!("http://{addr}"))
        .replace("staging/demo", &dir.join("staging").display().to_string());
    let path = dir.join("pipeline.toml");
    std::fs::write(&path, &text).unwrap();
    let pipeline = Pipeline::parse(&text, &path).unwrap();
    (path, pipeline)
}

/// The binary running `command` with this pipeline and its (simulated) credentials.
fn binary(command: &[&str], pipeline_path: &Path, pipeline: &Pipeline) -> std::process::Command {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_atpp"));
    cmd.args(command)
        .args(["--pipeline", &pipeline_path.display().to_string()])
        .env_remove("ATPP_LOG");
    for (name, value) in sim_credential_values(pipeline) {
        cmd.env(name, value);
    }
    cmd
}

/// Start `atpp extract` and wait until its lock file names it.
fn extract_holding_the_lock(pipeline_path: &Path, pipeline: &Pipeline) -> std::process::Child {
    let mut child = binary(&["extract"], pipeline_path, pipeline)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let lock = pipeline.staging_dir.join(LOCK_FILE);
    loop {
        let info: Option<LockInfo> = std::fs::read(&lock)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok());
        if info.is_some_and(|i| i.pid == child.id()) {
            return child;
        }
        if let Some(status) = child.try_wait().unwrap() {
            let out = child.wait_with_output().unwrap();
            panic!(
                "atpp extract ended ({status}) before it held the lock: {}",
                text(&out.stderr)
            );
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

#[test]
fn ctrl_c_and_sigterm_release_the_lock_and_a_killed_holder_is_recognised() {
    let dir = tempfile::tempdir().unwrap();
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let (path, pipeline) = stalled_pipeline(dir.path(), &silent);
    let root = pipeline.staging_dir.clone();
    let lock_file = root.join(LOCK_FILE);
    let run_atpp = |args: &[&str]| binary(args, &path, &pipeline).output().unwrap();

    // A command that fails after taking the lock leaves it empty.
    let out = run_atpp(&["plan"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("no runs"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(std::fs::read(&lock_file).unwrap(), b"", "emptied on error");

    for signal in [libc::SIGINT, libc::SIGTERM] {
        let child = extract_holding_the_lock(&path, &pipeline);
        // SAFETY: signalling the child this test started.
        assert_eq!(unsafe { libc::kill(child.id() as libc::pid_t, signal) }, 0);
        let out = child.wait_with_output().unwrap();
        assert_eq!(out.status.signal(), Some(signal), "{}", text(&out.stderr));
        assert_eq!(
            std::fs::read(&lock_file).unwrap(),
            b"",
            "emptied on signal {signal}"
        );
        assert_eq!(holder(&root), None);
        let next = StagingLock::acquire(&root, "atpp test").expect("free at once");
        assert!(
            next.taken_over.is_none(),
            "nothing stale after signal {signal}"
        );
    }

    // Killed outright, the holder leaves its details; they are recognised as a dead process's.
    let mut child = extract_holding_the_lock(&path, &pipeline);
    child.kill().unwrap();
    child.wait().unwrap();
    let left: LockInfo = serde_json::from_slice(&std::fs::read(&lock_file).unwrap()).unwrap();
    assert_eq!(left.pid, child.id());
    assert!(
        left.process_start.is_some() && left.boot_id.is_some(),
        "{left:?}"
    );
    assert_eq!(holder(&root), None);

    // Its pid reused by a live process (this test's, standing in): still not a holder.
    let reused = LockInfo {
        pid: std::process::id(),
        ..left
    };
    assert_eq!(reused.is_alive(), Some(false));
    std::fs::write(&lock_file, serde_json::to_vec(&reused).unwrap()).unwrap();
    assert_eq!(
        holder(&root),
        None,
        "a live pid that started later is not the holder"
    );
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_atpp"));
    cmd.args([
        "prune",
        "--pipeline",
        &path.display().to_string(),
        "--keep",
        "3",
    ])
    .env_remove("ATPP_LOG");
    for (name, value) in sim_credential_values(&pipeline) {
        cmd.env(name, value);
    }
    let out = cmd.output().unwrap();
    let stderr = text(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("taking over the lock"), "{stderr}");
    assert!(
        stderr.contains("pid now belongs to another process"),
        "{stderr}"
    );
    assert_eq!(
        std::fs::read(&lock_file).unwrap(),
        b"",
        "released when done"
    );
    drop(silent);
}
