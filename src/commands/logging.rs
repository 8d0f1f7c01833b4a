//! Where log events go. A nightly run happens when no one watches, so besides the
//! human-readable lines on stderr (what `-v` shows, as before) every event of a command that
//! acts on a run is kept as JSON lines in that run's folder, `staging/runs/<run>/log.jsonl`,
//! for reading the morning after or feeding a log collector.
//!
//! The run folder is known only once a stage has picked (or `extract` has created) it, so the
//! JSON layer writes into a buffer until `App` points it at the run's log file; commands that
//! never act on a run (`status`, `query`, `check`, ...) leave no file. Nothing secret is logged:
//! credentials are `credentials::Secret`, which prints `***`, and no header value is logged.

use std::fs::{File, OpenOptions};
use std::io::{self, IsTerminal, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::sync::{Mutex, OnceLock};
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

/// A run's log file, relative to the run folder.
pub const RUN_LOG_FILE: &str = "log.jsonl";

/// Events that go to the run's log only, not to the terminal (the terminal gets the command's
/// own output and error message instead).
pub const RUN_LOG_ONLY: &str = "atpp_run_log";

/// What is kept before the run folder is known; beyond it, early events are dropped.
const BUFFER_LIMIT: usize = 4 << 20;

enum Sink {
    /// Lines waiting for the run folder.
    Buffer(Vec<u8>),
    File(File),
}

static SINK: OnceLock<Mutex<Sink>> = OnceLock::new();

/// The JSON layer's writer: whatever the sink is at the moment of the event.
#[derive(Clone, Copy)]
struct RunLogWriter;

impl Write for RunLogWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let Some(sink) = SINK.get() else {
            return Ok(buf.len());
        };
        match &mut *sink.lock().unwrap_or_else(|e| e.into_inner()) {
            Sink::Buffer(lines) => {
                if lines.len() + buf.len() <= BUFFER_LIMIT {
                    lines.extend_from_slice(buf);
                }
                Ok(buf.len())
            }
            Sink::File(file) => file.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match SINK
            .get()
            .map(|s| s.lock().unwrap_or_else(|e| e.into_inner()))
        {
            Some(mut guard) => match &mut *guard {
                Sink::File(file) => file.flush(),
                Sink::Buffer(_) => Ok(()),
            },
            None => Ok(()),
        }
    }
}

impl<'a> MakeWriter<'a> for RunLogWriter {
    type Writer = RunLogWriter;

    fn make_writer(&'a self) -> Self::Writer {
        *self
    }
}

/// Install the two layers: human-readable to stderr at the level `verbose` asks (0: warnings,
/// 1: info, 2+: debug; `ATPP_LOG` overrides), and JSON lines for the run's log at info (atpp's
/// own debug events too with `-vv`; `ATPP_LOG` overrides).
pub fn init(verbose: u8) {
    let level = match verbose {
        0 => "warn",
        1 => "info",
        _ => "debug",
    };
    let run_log_off = format!("{RUN_LOG_ONLY}=off")
        .parse()
        .expect("valid directive");
    let terminal_filter = EnvFilter::try_from_env("ATPP_LOG")
        .unwrap_or_else(|_| EnvFilter::new(level))
        .add_directive(run_log_off);
    let file_level = if verbose >= 2 {
        "atpp=debug,info"
    } else {
        "info"
    };
    let file_filter =
        EnvFilter::try_from_env("ATPP_LOG").unwrap_or_else(|_| EnvFilter::new(file_level));
    let _ = SINK.set(Mutex::new(Sink::Buffer(Vec::new())));
    let terminal = tracing_subscriber::fmt::layer()
        .with_writer(io::stderr)
        .with_ansi(io::stderr().is_terminal())
        .with_filter(terminal_filter);
    let json = tracing_subscriber::fmt::layer()
        .json()
        .with_current_span(false)
        .with_span_list(false)
        .with_writer(RunLogWriter)
        .with_filter(file_filter);
    let _ = tracing_subscriber::registry()
        .with(terminal)
        .with(json)
        .try_init();
}

/// Send the JSON lines to the log of the run in `run_dir` (appending; lines buffered so far go
/// first). Does nothing when `init` was not called (the library used from tests or the demo).
pub fn log_to_run(run_dir: &Path) {
    let Some(sink) = SINK.get() else {
        return;
    };
    let path = run_dir.join(RUN_LOG_FILE);
    let opened = OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .open(&path);
    let mut file = match opened {
        Ok(f) => f,
        Err(e) => {
            tracing::warn!("cannot write the run log {}: {e}", path.display());
            return;
        }
    };
    {
        let mut guard = sink.lock().unwrap_or_else(|e| e.into_inner());
        if let Sink::Buffer(lines) = &*guard {
            let _ = file.write_all(lines);
        }
        *guard = Sink::File(file);
    }
    tracing::info!("logging to {}", path.display());
}
