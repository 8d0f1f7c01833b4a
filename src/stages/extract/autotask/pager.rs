//! Keyset paging of one entity with up to three requests in flight. Keyset paging is sequential
//! (each page asks for ids after the last one seen), so the id space is cut into disjoint
//! segments that page independently: the first page shows how densely ids are spaced, the rest
//! of the range (up to where `query/count` says the ids should end) is split evenly between the
//! pagers, and a pager that runs dry takes half of the largest remaining segment. Every segment
//! costs at most one partly filled page, so an entity of N records costs ceil(N/500) pages plus
//! one per segment; segments are few (see `Pager::workers` and `Checkpoint::splits_left`).

use super::checkpoint::{Checkpoint, Part, Segment};
use super::progress::EntityProgress;
use super::ExtractError;
use crate::api::autotask::{AutotaskClient, AutotaskError, Filter};
use serde::de::DeserializeOwned;
use std::future::Future;
use std::path::Path;
use std::sync::Mutex;
use tokio::sync::watch;

/// A record with an id (what paging needs to know of it).
pub trait HasId: DeserializeOwned + Send + 'static {
    fn id(&self) -> i64;
}

impl<T: super::frames::Staged> HasId for T {
    fn id(&self) -> i64 {
        super::frames::Staged::id(self)
    }
}

impl HasId for crate::api::autotask::models::IdOnly {
    fn id(&self) -> i64 {
        self.id
    }
}

/// What a segment's pages are handed to.
pub trait Sink<T>: Send {
    /// A page of ascending records; `done` = the segment's last page, after which everything
    /// taken must be durable. Returns what became durable since the last call, in id order:
    /// batches may be written while the next pages are fetched.
    fn take(
        &mut self,
        items: Vec<T>,
        done: bool,
    ) -> impl Future<Output = Result<Vec<Commit>, ExtractError>> + Send;
}

/// Progress made durable by a sink.
pub struct Commit {
    pub last_id: i64,
    pub part: Option<Part>,
}

/// The requests spent by the tenant's integrations must stay under an allowance of ours.
pub struct Budget {
    /// Requests this run may still spend (from the start of the session), if limited.
    pub allowance: Option<u64>,
    /// The client's request total when the allowance was set.
    pub base: u64,
    /// For the message: the share, the threshold, the use at the start.
    pub share: f64,
    pub threshold: u64,
    pub used_at_start: u64,
}

impl Budget {
    pub fn unlimited() -> Budget {
        Budget {
            allowance: None,
            base: 0,
            share: 1.0,
            threshold: 0,
            used_at_start: 0,
        }
    }

    pub fn check(&self, client: &AutotaskClient, entity: &str) -> Result<(), ExtractError> {
        let Some(allowance) = self.allowance else {
            return Ok(());
        };
        let spent = client.total_requests().saturating_sub(self.base);
        if spent >= allowance {
            return Err(ExtractError::ThresholdGuard {
                message: format!(
                    "stopped while extracting {entity}: this run has spent {spent} requests and the \
                     tenant had used {} of its {} hourly requests at the start; one more would pass \
                     extract.max_threshold_share = {}. Committed batches are kept: run \
                     `atpp extract --resume` when the hour has freed up",
                    self.used_at_start, self.threshold, self.share
                ),
            });
        }
        Ok(())
    }
}

/// How one entity is paged.
pub struct Pager<'a> {
    pub client: &'a AutotaskClient,
    /// Endpoint name (`ConfigurationItems`).
    pub endpoint: &'static str,
    pub filters: Vec<Filter>,
    pub include: Vec<String>,
    /// Pagers (and so requests in flight) for this entity.
    pub workers: usize,
    /// Records expected (`query/count`), for splitting.
    pub total: u64,
    pub budget: &'a Budget,
    pub progress: &'a EntityProgress,
    /// Where to save the checkpoint after each commit (`None`: nothing to resume, e.g. sweeps).
    pub run_dir: Option<&'a Path>,
}

struct Shared {
    cp: Checkpoint,
    /// Per segment: the last id fetched (ahead of the committed one while a batch fills).
    fetched_to: Vec<Option<i64>>,
    busy: Vec<bool>,
    fetched: u64,
    /// Pages fetched by this session, against [`page_bound`].
    pages: u64,
}

/// Pages one session may fetch for an entity of `total` records: twice what the count implies,
/// plus one partly filled page per segment and a margin for records added meanwhile. A server
/// that never ends a listing fails the entity instead of paging for ever.
fn page_bound(total: u64, page_size: u64, workers: usize) -> u64 {
    (total / page_size.max(1) + 1) * 2 + 2 * workers as u64 + 10
}

/// A segment needs at least this many pages left before half of it is taken by an idle pager.
const MIN_STEAL_PAGES: f64 = 4.0;

impl Shared {
    /// An idle segment, or half of the busiest one; `None` when nothing is left to do.
    fn claim(&mut self, total: u64, page: f64) -> Option<usize> {
        let n = self.cp.segments.len();
        if let Some(i) = (0..n).find(|i| !self.cp.segments[*i].done && !self.busy[*i]) {
            self.busy[i] = true;
            return Some(i);
        }
        let density = self.cp.density?;
        if self.cp.splits_left == 0 {
            return None;
        }
        let est_max = self.cp.est_max.unwrap_or(i64::MIN);
        let left = total.saturating_sub(self.fetched) as f64 * density;
        let mut best: Option<(usize, i64, i64, f64)> = None;
        for (i, (seg, fetched_to)) in self.cp.segments.iter().zip(&self.fetched_to).enumerate() {
            let Some(from) = *fetched_to else {
                continue;
            };
            if seg.done {
                continue;
            }
            let hi = seg
                .upto
                .unwrap_or_else(|| est_max.max(from.saturating_add(left as i64)));
            let records = (hi.saturating_sub(from)) as f64 / density;
            if best.is_none_or(|b| records > b.3) {
                best = Some((i, from, hi, records));
            }
        }
        let (victim, from, hi, records) = best?;
        if records < MIN_STEAL_PAGES * page || hi - from < 2 {
            return None;
        }
        let mid = from + (hi - from) / 2;
        let upto = self.cp.segments[victim].upto;
        self.cp.segments[victim].upto = Some(mid);
        self.cp.segments.push(Segment {
            after: Some(mid),
            upto,
            done: false,
        });
        self.fetched_to.push(Some(mid));
        self.busy.push(true);
        self.cp.splits_left -= 1;
        Some(self.cp.segments.len() - 1)
    }

    /// After the first full page: learn the id density and split the rest of the range between
    /// the pagers.
    fn plan(&mut self, first: i64, last: i64, len: usize, total: u64, workers: usize, page: f64) {
        let density = if len > 1 {
            ((last - first) as f64 / (len - 1) as f64).max(1.0)
        } else {
            1.0
        };
        let est_max = first.saturating_add(((total.max(1) - 1) as f64 * density) as i64);
        self.cp.density = Some(density);
        self.cp.est_max = Some(est_max);
        let remaining = total.saturating_sub(len as u64) as f64;
        let segs = workers
            .min((remaining / (2.0 * page)) as usize)
            .min(self.cp.splits_left + 1);
        if segs < 2 || est_max <= last || self.cp.segments.len() != 1 {
            return;
        }
        let span = (est_max - last) as f64;
        let bounds: Vec<i64> = (1..segs)
            .map(|k| last + (span * k as f64 / segs as f64) as i64)
            .collect();
        self.cp.segments[0].upto = Some(bounds[0]);
        for (k, b) in bounds.iter().enumerate() {
            self.cp.segments.push(Segment {
                after: Some(*b),
                upto: bounds.get(k + 1).copied(),
                done: false,
            });
            self.fetched_to.push(Some(*b));
            self.busy.push(false);
        }
        self.cp.splits_left -= segs - 1;
    }
}

impl Pager<'_> {
    /// Page every unfinished segment of `cp` through sinks made by `sink`; returns the
    /// checkpoint with every segment done.
    pub async fn run<T: HasId, S: Sink<T>>(
        &self,
        cp: Checkpoint,
        sink: impl Fn() -> S,
    ) -> Result<Checkpoint, ExtractError> {
        let fresh = cp.density.is_none() && cp.segments.len() == 1 && !cp.segments[0].done;
        let shared = Mutex::new(Shared {
            fetched_to: cp.segments.iter().map(|s| s.after).collect(),
            busy: vec![false; cp.segments.len()],
            fetched: cp.rows(),
            pages: 0,
            cp,
        });
        let (ready_tx, ready_rx) = watch::channel(!fresh);
        let saves = tokio::sync::Mutex::new(());
        let workers = self.workers.max(1);
        let futures = (0..workers).map(|w| {
            let first = (fresh && w == 0).then(|| {
                shared.lock().expect("lock").busy[0] = true;
                0
            });
            let ready = (&ready_tx, ready_rx.clone());
            self.worker(&shared, &saves, first, ready, sink())
        });
        futures::future::try_join_all(futures).await?;
        Ok(shared.into_inner().expect("lock").cp)
    }

    async fn worker<T: HasId, S: Sink<T>>(
        &self,
        shared: &Mutex<Shared>,
        saves: &tokio::sync::Mutex<()>,
        mut current: Option<usize>,
        (ready_tx, mut ready): (&watch::Sender<bool>, watch::Receiver<bool>),
        mut sink: S,
    ) -> Result<(), ExtractError> {
        let page_size = self.client.page_size() as f64;
        loop {
            let i = match current {
                Some(i) => i,
                None => {
                    // Wait for the first page to show how the ids are spread.
                    let _ = ready.wait_for(|r| *r).await;
                    let claimed = shared.lock().expect("lock").claim(self.total, page_size);
                    match claimed {
                        Some(i) => {
                            self.save(shared, saves).await?;
                            current = Some(i);
                            i
                        }
                        None => return Ok(()),
                    }
                }
            };
            let (after, upto) = {
                let s = shared.lock().expect("lock");
                (s.fetched_to[i], s.cp.segments[i].upto)
            };
            self.budget.check(self.client, self.endpoint)?;
            let page = self
                .client
                .query_range::<T>(self.endpoint, &self.filters, after, upto, &self.include)
                .await
                .map_err(|e| self.failed(e, after))?;
            let full = page.full;
            let mut items = page.items;
            items.sort_by_key(HasId::id);
            let broken = |message: String| AutotaskError::Decode {
                route: format!("POST {}/query", self.endpoint),
                path: "items".into(),
                message,
            };
            if let Some(a) = after.filter(|a| items.first().is_some_and(|r| r.id() <= *a)) {
                // The server ignored the id filter: paging on would repeat ids for ever.
                let message = format!("the page repeats ids at or before the cursor {a}");
                return Err(self.failed(broken(message), after));
            }
            if full && items.is_empty() {
                // A full page with nothing after the cursor would page the same ids for ever.
                let message = "a full page holds no id after the cursor".to_string();
                return Err(self.failed(broken(message), after));
            }
            let bound = page_bound(self.total, page_size as u64, self.workers);
            let pages = {
                let mut s = shared.lock().expect("lock");
                s.pages += 1;
                s.pages
            };
            if full && pages >= bound {
                let message = format!(
                    "{pages} pages read where {} records were counted; the listing does not end",
                    self.total
                );
                return Err(self.failed(broken(message), after));
            }
            let (done, planned) = {
                let mut s = shared.lock().expect("lock");
                let upto_now = s.cp.segments[i].upto;
                let before = items.len();
                if let Some(u) = upto_now {
                    items.retain(|r| r.id() <= u);
                }
                let cut = items.len() < before;
                let last = items.last().map(HasId::id);
                if last.is_some() {
                    s.fetched_to[i] = last;
                }
                s.fetched += items.len() as u64;
                let done = !full || cut || (last.is_some() && last == upto_now);
                let mut planned = false;
                if s.cp.density.is_none() {
                    if let (true, Some(f), Some(l)) = (full, items.first(), items.last()) {
                        let (f, l) = (f.id(), l.id());
                        s.plan(f, l, items.len(), self.total, self.workers, page_size);
                    } else {
                        s.cp.density = Some(1.0);
                    }
                    planned = true;
                }
                (done, planned)
            };
            if planned {
                self.save(shared, saves).await?;
                let _ = ready_tx.send(true);
            }
            self.progress.page(items.len() as u64);
            let commits = sink.take(items, done).await?;
            {
                let mut s = shared.lock().expect("lock");
                for c in &commits {
                    s.cp.segments[i].after = Some(c.last_id);
                    if let Some(part) = &c.part {
                        s.cp.parts.push(part.clone());
                    }
                }
                if done {
                    s.cp.segments[i].done = true;
                    s.busy[i] = false;
                }
            }
            if !commits.is_empty() || done {
                self.save(shared, saves).await?;
            }
            if done {
                current = None;
            }
        }
    }

    fn failed(&self, e: AutotaskError, after: Option<i64>) -> ExtractError {
        ExtractError::Autotask(AutotaskError::PageFailed {
            entity: self.endpoint.to_string(),
            attempts: self.client.max_attempts(),
            last_id: after.map_or("none".into(), |id| id.to_string()),
            source: Box::new(e),
        })
    }

    /// Save the checkpoint (when this extract is resumable), with the requests spent so far:
    /// one save at a time per entity, the latest state, written off the async threads (it
    /// syncs to disk).
    async fn save(
        &self,
        shared: &Mutex<Shared>,
        saves: &tokio::sync::Mutex<()>,
    ) -> Result<(), ExtractError> {
        let Some(dir) = self.run_dir else {
            return Ok(());
        };
        let _turn = saves.lock().await;
        let mut cp = shared.lock().expect("lock").cp.clone();
        // This session's client counts from zero: everything it spent on the endpoint so far.
        cp.requests_before += self.endpoint_requests();
        let dir = dir.to_path_buf();
        tokio::task::spawn_blocking(move || cp.save(&dir))
            .await
            .map_err(|e| ExtractError::Task(e.to_string()))?
    }

    fn endpoint_requests(&self) -> u64 {
        self.client
            .requests_spent()
            .get(&self.endpoint.to_ascii_lowercase())
            .copied()
            .unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stages::extract::autotask::checkpoint::Mode;

    fn shared(splits: usize) -> Shared {
        let cp = Checkpoint::new("t", Mode::Full, splits);
        Shared {
            fetched_to: vec![None],
            busy: vec![true],
            fetched: 0,
            pages: 0,
            cp,
        }
    }

    #[test]
    fn the_first_page_splits_the_rest_evenly_and_the_last_segment_stays_open() {
        let mut s = shared(2);
        // Ids 0, 2, 4, ...: a first page of 500 ends at 998; 30,000 records end near 59,998.
        s.fetched_to[0] = Some(998);
        s.fetched = 500;
        s.plan(0, 998, 500, 30_000, 3, 500.0);
        assert_eq!(s.cp.density, Some(2.0));
        assert_eq!(s.cp.est_max, Some(59_998));
        let segs: Vec<(Option<i64>, Option<i64>)> =
            s.cp.segments.iter().map(|g| (g.after, g.upto)).collect();
        assert_eq!(
            segs,
            vec![
                (None, Some(20_664)),
                (Some(20_664), Some(40_331)),
                (Some(40_331), None)
            ]
        );
        assert_eq!(s.cp.splits_left, 0);
        // Both new segments are there for the idle pagers; nothing is left to steal after.
        assert_eq!(s.claim(30_000, 500.0), Some(1));
        assert_eq!(s.claim(30_000, 500.0), Some(2));
        assert_eq!(s.claim(30_000, 500.0), None);
    }

    #[test]
    fn an_idle_pager_takes_half_of_the_largest_segment() {
        let mut s = shared(1);
        s.cp.density = Some(1.0);
        s.cp.est_max = Some(100_000);
        s.cp.segments[0].upto = Some(100_000);
        s.fetched_to[0] = Some(20_000);
        assert_eq!(s.claim(100_000, 500.0), Some(1));
        assert_eq!(s.cp.segments[0].upto, Some(60_000));
        assert_eq!(s.cp.segments[1].after, Some(60_000));
        assert_eq!(s.cp.segments[1].upto, Some(100_000));
        // No splits left: the next idle pager stops.
        assert_eq!(s.claim(100_000, 500.0), None);
    }

    #[test]
    fn the_page_bound_leaves_room_but_ends() {
        // 30,000 records in pages of 500: 60 pages, three pagers.
        assert_eq!(page_bound(30_000, 500, 3), 61 * 2 + 6 + 10);
        assert_eq!(page_bound(0, 500, 1), 14);
    }

    #[test]
    fn a_small_remainder_is_not_split() {
        let mut s = shared(5);
        s.cp.density = Some(1.0);
        s.cp.segments[0].upto = Some(1_500);
        s.fetched_to[0] = Some(0);
        assert_eq!(
            s.claim(1_500, 500.0),
            None,
            "three pages left: not worth a split"
        );
    }

    /// A loopback Autotask whose `Companies/query` answers `page(after)` (the `gt` filter's
    /// value, if any); returns the client and the query counter.
    async fn fake_autotask(
        page: fn(Option<i64>) -> Vec<i64>,
    ) -> (AutotaskClient, std::sync::Arc<std::sync::atomic::AtomicU64>) {
        use axum::routing::{get, post};
        use serde_json::{json, Value};
        use std::sync::atomic::{AtomicU64, Ordering};
        use std::sync::Arc;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}/", listener.local_addr().unwrap());
        let queries = Arc::new(AtomicU64::new(0));
        let counter = queries.clone();
        let zone = json!({ "zoneName": "test", "url": base.clone() });
        let app = axum::Router::new()
            .route(
                "/v1.0/zoneInformation",
                get(move || async move { axum::Json(zone) }),
            )
            .route(
                "/V1.0/Companies/query",
                post(move |axum::Json(body): axum::Json<Value>| async move {
                    counter.fetch_add(1, Ordering::SeqCst);
                    let after = body["filter"]
                        .as_array()
                        .and_then(|f| f.iter().find(|c| c["op"] == "gt"))
                        .and_then(|c| c["value"].as_i64());
                    let items: Vec<Value> =
                        page(after).iter().map(|id| json!({ "id": id })).collect();
                    axum::Json(json!({ "items": items, "pageDetails": { "count": items.len() } }))
                }),
            );
        tokio::spawn(async move { axum::serve(listener, app).await });
        let settings = crate::api::autotask::Settings {
            discovery_url: base,
            username_env: "U".into(),
            integration_code_env: "I".into(),
            secret_env: "S".into(),
            page_size: 5,
            http: crate::api::http::HttpSettings {
                max_attempts: 2,
                min_backoff: std::time::Duration::from_millis(1),
                ..Default::default()
            },
        };
        let credentials = crate::model::credentials::AutotaskCredentials {
            username: "api@example.com".into(),
            integration_code: crate::model::credentials::Secret::new("code"),
            secret: crate::model::credentials::Secret::new("secret"),
        };
        let client = AutotaskClient::connect(&settings, credentials)
            .await
            .unwrap();
        (client, queries)
    }

    async fn sweep(client: &AutotaskClient, total: u64) -> Result<(), ExtractError> {
        let progress = super::super::progress::Progress::quiet();
        let entity = progress.entity("Companies", total, 0);
        let budget = Budget::unlimited();
        super::super::sweep::sweep_ids(client, "Companies", total, 1, &budget, &entity)
            .await
            .map(|_| ())
    }

    #[tokio::test]
    async fn a_server_ignoring_the_id_filter_fails_after_two_pages() {
        let (client, queries) = fake_autotask(|_| (1..=5).collect()).await;
        let err = sweep(&client, 1_000).await.unwrap_err();
        assert!(format!("{err:?}").contains("repeats ids"), "{err:?}");
        assert_eq!(queries.load(std::sync::atomic::Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn a_listing_that_never_ends_stops_at_the_page_bound() {
        let (client, queries) =
            fake_autotask(|after| (1..=5).map(|k| after.unwrap_or(0) + k).collect()).await;
        let err = sweep(&client, 10).await.unwrap_err();
        assert!(format!("{err:?}").contains("does not end"), "{err:?}");
        let bound = page_bound(10, 5, 1);
        assert_eq!(queries.load(std::sync::atomic::Ordering::SeqCst), bound);
    }
}
