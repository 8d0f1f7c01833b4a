//! Progress of an Autotask extract: one bar per entity (records and pages, the total from
//! `query/count`) when stderr is a terminal; plain log lines (every tenth of the way) otherwise,
//! so cron mail and CI logs stay readable.

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::sync::atomic::{AtomicU64, Ordering};

/// The progress display of one extract.
pub struct Progress {
    bars: Option<MultiProgress>,
}

impl Progress {
    /// Bars when stderr is a terminal, log lines otherwise.
    pub fn new() -> Progress {
        let terminal = std::io::stderr().is_terminal();
        Progress {
            bars: terminal.then(|| MultiProgress::with_draw_target(ProgressDrawTarget::stderr())),
        }
    }

    /// No bars, log lines only.
    pub fn quiet() -> Progress {
        Progress { bars: None }
    }

    /// The progress of one entity expected to have `total` records, `done` of them already
    /// staged by an earlier session.
    pub fn entity(&self, name: &str, total: u64, done: u64) -> EntityProgress {
        let bar = self.bars.as_ref().map(|m| {
            let bar = m.add(ProgressBar::new(total.max(done)));
            bar.set_style(
                ProgressStyle::with_template(
                    "{prefix:>24} [{bar:30}] {pos:>9}/{len:9} records {msg} {elapsed_precise}",
                )
                .expect("valid template")
                .progress_chars("=> "),
            );
            bar.set_prefix(name.to_string());
            bar.set_position(done);
            bar
        });
        EntityProgress {
            name: name.to_string(),
            total,
            bar,
            records: AtomicU64::new(done),
            pages: AtomicU64::new(0),
            logged_tenth: AtomicU64::new(0),
        }
    }
}

impl Default for Progress {
    fn default() -> Self {
        Progress::new()
    }
}

/// The progress of one entity.
pub struct EntityProgress {
    name: String,
    total: u64,
    bar: Option<ProgressBar>,
    records: AtomicU64,
    pages: AtomicU64,
    logged_tenth: AtomicU64,
}

impl EntityProgress {
    /// A page of `records` arrived.
    pub fn page(&self, records: u64) {
        let n = self.records.fetch_add(records, Ordering::Relaxed) + records;
        let pages = self.pages.fetch_add(1, Ordering::Relaxed) + 1;
        match &self.bar {
            Some(bar) => {
                bar.set_position(n);
                bar.set_message(format!("{pages} pages"));
            }
            None => {
                let tenth = (n * 10).checked_div(self.total).unwrap_or(0).min(10);
                if tenth > self.logged_tenth.fetch_max(tenth, Ordering::Relaxed) {
                    tracing::info!(
                        "Autotask {}: {n} of {} records ({pages} pages)",
                        self.name,
                        self.total
                    );
                }
            }
        }
    }

    /// Pages fetched in this session.
    pub fn pages(&self) -> u64 {
        self.pages.load(Ordering::Relaxed)
    }

    pub fn finish(&self, rows: u64) {
        match &self.bar {
            Some(bar) => {
                bar.set_length(rows.max(bar.position()));
                bar.finish_with_message(format!("{} pages, done", self.pages()));
            }
            None => tracing::info!(
                "Autotask {}: {rows} records staged ({} pages this session)",
                self.name,
                self.pages()
            ),
        }
    }
}
