//! The simulator's fault plan: seeded faults drawn per request (429 with `Retry-After`, the
//! thread-threshold error, 500s, truncated and empty 200s, dropped connections, slow answers), and
//! outages that take one endpoint down until healed. A fault is drawn from the seed, the request
//! itself and how many times that same request was seen, never from arrival order, so a plan
//! replays exactly under any concurrency.

use super::wire::Call;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::{Mutex, MutexGuard};

/// Seeded faults on `query`, `query/next`, `query/count`, `{id}` and `ThresholdInformation`
/// (never zone discovery or `entityInformation`). Rates are probabilities per request; the
/// first six are exclusive, `slow_rate` is drawn independently.
#[derive(Clone, Debug, Default)]
pub struct FaultPlan {
    pub seed: u64,
    /// 429 with `Retry-After: 1`.
    pub rate_429: f64,
    /// 500 with the `Itgenatr005` thread-threshold body.
    pub rate_thread_threshold: f64,
    /// 500 `{"errors":["An unexpected error occurred"]}`.
    pub rate_500: f64,
    /// 200 with the JSON body cut in half.
    pub rate_truncated: f64,
    /// 200 with an empty body.
    pub rate_empty_body: f64,
    /// The connection closes without an answer.
    pub rate_drop: f64,
    /// Sleep `slow_ms` before answering.
    pub slow_rate: f64,
    pub slow_ms: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Fault {
    None,
    TooMany,
    Thread,
    Server,
    Truncated,
    Empty,
    Drop,
}

/// Every request to one endpoint failing with a 500 from its `after`-th request on, until healed:
/// an outage that makes a run fail part-way (the resume tests' "kill").
#[derive(Clone, Debug)]
struct Outage {
    endpoint: String,
    after: u64,
}

/// The fault plan with its bookkeeping.
pub(super) struct Faults {
    plan: FaultPlan,
    /// How many times each distinct request was seen (draws are keyed by it).
    seen: Mutex<HashMap<u64, u64>>,
    outage: Mutex<Option<Outage>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Faults {
    pub(super) fn new(plan: FaultPlan) -> Faults {
        Faults {
            plan,
            seen: Mutex::new(HashMap::new()),
            outage: Mutex::new(None),
        }
    }

    /// Every request to `endpoint` (lower-case) past its `after`-th fails until `heal`.
    pub(super) fn start_outage(&self, endpoint: String, after: u64) {
        *lock(&self.outage) = Some(Outage { endpoint, after });
    }

    pub(super) fn heal(&self) {
        *lock(&self.outage) = None;
    }

    /// Whether `endpoint`, having received `requests`, is down.
    pub(super) fn in_outage(&self, endpoint: &str, requests: u64) -> bool {
        lock(&self.outage)
            .as_ref()
            .is_some_and(|o| o.endpoint == endpoint && requests > o.after)
    }

    /// The fault of this request: drawn from the seed, the request and how many times the same
    /// request was seen before, so concurrency does not change which request fails.
    pub(super) fn draw(&self, call: &Call) -> (Fault, bool) {
        let plan = &self.plan;
        let any = [
            plan.rate_429,
            plan.rate_thread_threshold,
            plan.rate_500,
            plan.rate_truncated,
            plan.rate_empty_body,
            plan.rate_drop,
            plan.slow_rate,
        ]
        .iter()
        .any(|r| *r > 0.0);
        if !any {
            return (Fault::None, false);
        }
        let mut h = std::collections::hash_map::DefaultHasher::new();
        call.method.as_str().hash(&mut h);
        call.path_and_query.to_ascii_lowercase().hash(&mut h);
        call.body.hash(&mut h);
        let key = h.finish();
        let nth = {
            let mut seen = lock(&self.seen);
            let n = seen.entry(key).or_insert(0);
            *n += 1;
            *n
        };
        let mut rng = ChaCha8Rng::seed_from_u64(plan.seed ^ key.rotate_left(17) ^ nth);
        let (r, s) = (rng.gen::<f64>(), rng.gen::<f64>());
        let slow = s < plan.slow_rate;
        let mut edge = 0.0;
        for (rate, fault) in [
            (plan.rate_429, Fault::TooMany),
            (plan.rate_thread_threshold, Fault::Thread),
            (plan.rate_500, Fault::Server),
            (plan.rate_truncated, Fault::Truncated),
            (plan.rate_empty_body, Fault::Empty),
            (plan.rate_drop, Fault::Drop),
        ] {
            edge += rate.max(0.0);
            if r < edge {
                return (fault, slow);
            }
        }
        (Fault::None, slow)
    }
}
