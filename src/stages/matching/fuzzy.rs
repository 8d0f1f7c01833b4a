//! Fuzzy name matching that scales: an inverted index on name words and word prefixes (blocking,
//! so no record is scored against every other), rare words weighing more than common ones
//! ("Solutions", "Group" say little), word order ignored, typos and common abbreviations
//! tolerated. Never an N×M matrix: each query touches only the postings of its own words.

use super::normalize::company_words;
use std::collections::HashMap;

/// Abbreviations folded to one form before comparing words.
const ABBREVIATIONS: &[(&str, &str)] = &[
    ("intl", "international"),
    ("mgmt", "management"),
    ("svcs", "services"),
    ("svc", "services"),
    ("service", "services"),
    ("assoc", "associates"),
    ("assocs", "associates"),
    ("bros", "brothers"),
    ("mfg", "manufacturing"),
    ("ctr", "center"),
    ("centre", "center"),
    ("dept", "department"),
    ("natl", "national"),
    ("univ", "university"),
    ("hosp", "hospital"),
    ("acct", "accounting"),
    ("accts", "accounting"),
    ("eng", "engineering"),
    ("engr", "engineering"),
    ("grp", "group"),
    ("sys", "systems"),
    ("solns", "solutions"),
    ("ins", "insurance"),
    ("props", "properties"),
    ("mktg", "marketing"),
    ("dist", "distribution"),
    ("hldgs", "holdings"),
    ("mtn", "mountain"),
    ("mt", "mount"),
    ("ft", "fort"),
    ("med", "medical"),
    ("vet", "veterinary"),
    ("phys", "physicians"),
    ("ortho", "orthodontics"),
];

fn canonical(word: &str) -> String {
    ABBREVIATIONS
        .iter()
        .find(|(abbr, _)| *abbr == word)
        .map_or_else(|| word.to_string(), |(_, full)| full.to_string())
}

/// The canonical words of a company name.
pub fn name_tokens(name: &str) -> Vec<String> {
    let mut words: Vec<String> = company_words(name).iter().map(|w| canonical(w)).collect();
    words.sort();
    words.dedup();
    words
}

/// A name prepared for scoring: its words and their weights.
#[derive(Debug, Clone)]
struct Profile {
    tokens: Vec<String>,
    weights: Vec<f32>,
    total: f32,
    /// The words joined without spaces ("northstar" finds "north star").
    joined: String,
}

/// Inverse document frequencies of words over a corpus of names.
#[derive(Debug, Clone, Default)]
struct Idf {
    df: HashMap<String, u32>,
    n: f32,
}

impl Idf {
    fn weight(&self, token: &str) -> f32 {
        let df = self.df.get(token).copied().unwrap_or(0) as f32;
        (1.0 + self.n / (1.0 + df)).ln() + 0.5
    }
}

/// Similarity of two words in 0..=1: equal, or close enough to be a typo of each other.
fn word_similarity(a: &str, b: &str) -> f32 {
    if a == b {
        return 1.0;
    }
    if a.len() < 4 || b.len() < 4 {
        return 0.0;
    }
    let jw = strsim::jaro_winkler(a, b) as f32;
    // Optimal string alignment: a transposition ("Sutdio") is one edit, as people type.
    let edits = strsim::osa_distance(a, b);
    let longest = a.chars().count().max(b.chars().count());
    // One edit in a word of five letters or more is a typo; two only in a long word that
    // still reads alike. A different word sharing letters is neither.
    match edits {
        1 if longest >= 5 => jw.max(0.9),
        2 if longest >= 8 && jw >= 0.9 => jw,
        _ => 0.0,
    }
}

/// A one-deletion key with more postings than this is a common word's own form: skipped.
const RARE_KEY: usize = 64;

/// Scores a name against a set of names, found through an inverted index.
pub struct NameIndex {
    profiles: Vec<Profile>,
    postings: HashMap<String, Vec<u32>>,
    idf: Idf,
}

/// Keys a token is indexed under: itself and, for words of five letters or more, every form
/// with one letter deleted. Two words within one typo of each other (a letter dropped, added,
/// changed or two swapped) share a key, wherever in the word the typo is.
fn keys(token: &str) -> Vec<String> {
    let chars: Vec<char> = token.chars().collect();
    let mut out = vec![token.to_string()];
    if chars.len() >= 5 {
        for i in 0..chars.len() {
            let k: String = chars[..i].iter().chain(&chars[i + 1..]).collect();
            if !out.contains(&k) {
                out.push(k);
            }
        }
    }
    out
}

impl NameIndex {
    /// Index `names` (the candidates). Word weights come from `names` and `queries` together.
    pub fn build<'a>(
        names: impl Iterator<Item = &'a str>,
        queries: impl Iterator<Item = &'a str>,
    ) -> NameIndex {
        let token_lists: Vec<Vec<String>> = names.map(name_tokens).collect();
        let mut idf = Idf::default();
        let mut count = |tokens: &[String]| {
            for t in tokens {
                *idf.df.entry(t.clone()).or_default() += 1;
            }
            idf.n += 1.0;
        };
        for tokens in &token_lists {
            count(tokens);
        }
        for q in queries {
            count(&name_tokens(q));
        }
        let mut postings: HashMap<String, Vec<u32>> = HashMap::new();
        let profiles = token_lists
            .into_iter()
            .enumerate()
            .map(|(i, tokens)| {
                for t in &tokens {
                    for k in keys(t) {
                        let list = postings.entry(k).or_default();
                        if list.last() != Some(&(i as u32)) {
                            list.push(i as u32);
                        }
                    }
                }
                Self::profile_with(&idf, tokens)
            })
            .collect();
        NameIndex {
            profiles,
            postings,
            idf,
        }
    }

    fn profile_with(idf: &Idf, tokens: Vec<String>) -> Profile {
        let weights: Vec<f32> = tokens.iter().map(|t| idf.weight(t)).collect();
        let total = weights.iter().sum();
        let joined = tokens.concat();
        Profile {
            tokens,
            weights,
            total,
            joined,
        }
    }

    /// Score 0..=100 of two profiles: weighted overlap of their words (Dice), typos forgiven.
    fn score(a: &Profile, b: &Profile) -> f64 {
        if a.total <= 0.0 || b.total <= 0.0 {
            return 0.0;
        }
        if a.joined == b.joined {
            return 100.0;
        }
        let mut used = vec![false; b.tokens.len()];
        let mut matched = 0.0f32;
        for (ta, wa) in a.tokens.iter().zip(&a.weights) {
            let mut best = (0.0f32, usize::MAX);
            for (j, tb) in b.tokens.iter().enumerate() {
                if !used[j] {
                    let s = word_similarity(ta, tb);
                    if s > best.0 {
                        best = (s, j);
                    }
                }
            }
            if best.1 != usize::MAX {
                used[best.1] = true;
                matched += best.0 * (wa + b.weights[best.1]);
            }
        }
        f64::from(100.0 * matched / (a.total + b.total))
    }

    /// The best `k` names for `name`, as (index into the indexed names, score), best first.
    pub fn search(&self, name: &str, k: usize, scratch: &mut Scratch) -> Vec<(usize, f64)> {
        let query = Self::profile_with(&self.idf, name_tokens(name));
        if query.tokens.is_empty() || self.profiles.is_empty() {
            return Vec::new();
        }
        // Blocking, rarest query word first: a word's own postings (skipped when very common,
        // once a rarer word has been used), and the rare postings of its one-deletion forms (a
        // typo on either side; the common ones are the word's own forms again). A candidate
        // gains a word's weight once, however many of the word's keys it shares.
        let mut order: Vec<usize> = (0..query.tokens.len()).collect();
        order.sort_by(|a, b| {
            query.weights[*b]
                .total_cmp(&query.weights[*a])
                .then(a.cmp(b))
        });
        let cap = (self.profiles.len() / 20).max(500);
        scratch.reset(self.profiles.len());
        for (n, &i) in order.iter().enumerate() {
            let token = &query.tokens[i];
            let w = query.weights[i];
            let mut credit = |list: &Vec<u32>| {
                for &doc in list {
                    scratch.add(doc, i as u32, w);
                }
            };
            let typo_keys = keys(token);
            if let Some(list) = self.postings.get(token) {
                if n == 0 || list.len() <= cap {
                    credit(list);
                }
            }
            for k in typo_keys.iter().skip(1) {
                if let Some(list) = self.postings.get(k).filter(|l| l.len() <= RARE_KEY) {
                    credit(list);
                }
            }
        }
        // Score the most promising few fully.
        let mut shortlist = scratch.top(k.max(1) * 16);
        let mut scored: Vec<(usize, f64)> = shortlist
            .drain(..)
            .map(|doc| {
                (
                    doc as usize,
                    Self::score(&query, &self.profiles[doc as usize]),
                )
            })
            .collect();
        scored.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        scored.truncate(k);
        scored
    }
}

/// Reusable accumulator for `NameIndex::search` (one per thread): a dense score array and the
/// list of entries touched, so a query costs only what it touches.
#[derive(Default)]
pub struct Scratch {
    acc: Vec<f32>,
    /// The last query word (plus one) that credited each entry.
    credited: Vec<u32>,
    touched: Vec<u32>,
}

impl Scratch {
    fn reset(&mut self, n: usize) {
        if self.acc.len() != n {
            self.acc = vec![0.0; n];
            self.credited = vec![0; n];
            self.touched.clear();
        }
        for &i in &self.touched {
            self.acc[i as usize] = 0.0;
            self.credited[i as usize] = 0;
        }
        self.touched.clear();
    }

    fn add(&mut self, doc: u32, token: u32, w: f32) {
        let d = doc as usize;
        if self.credited[d] == token + 1 {
            return;
        }
        if self.credited[d] == 0 {
            self.touched.push(doc);
        }
        self.credited[d] = token + 1;
        self.acc[d] += w;
    }

    fn top(&mut self, k: usize) -> Vec<u32> {
        let acc = &self.acc;
        let mut t = self.touched.clone();
        if t.len() > k {
            t.select_nth_unstable_by(k, |a, b| {
                acc[*b as usize].total_cmp(&acc[*a as usize]).then(a.cmp(b))
            });
            t.truncate(k);
        }
        t
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn best(index: &NameIndex, q: &str) -> Option<(usize, f64)> {
        index
            .search(q, 2, &mut Scratch::default())
            .into_iter()
            .next()
    }

    #[test]
    fn typos_order_and_abbreviations_score_high_near_misses_low() {
        let names = [
            "North Star Dental",
            "North Shore Dental",
            "Summit International Logistics",
            "Blue Ridge Plumbing",
            "Harbor Family Practice",
            "Evergreen Roofing Group",
        ];
        let index = NameIndex::build(names.iter().copied(), std::iter::empty());
        let (i, s) = best(&index, "North Star Dentl").unwrap();
        assert_eq!(names[i], "North Star Dental");
        assert!(s > 90.0, "{s}");
        let (i, s) = best(&index, "Summit Intl Logistics").unwrap();
        assert_eq!(names[i], "Summit International Logistics");
        assert!(s > 95.0, "{s}");
        let (i, s) = best(&index, "Plumbing Blue Ridge").unwrap();
        assert_eq!(names[i], "Blue Ridge Plumbing");
        assert!(s > 95.0, "{s}");
        let (i, s) = best(&index, "Northstar Dental").unwrap();
        assert_eq!(names[i], "North Star Dental", "{s}");
        // A different company sharing the common words is far below.
        let scored = index.search("North Star Dental", 2, &mut Scratch::default());
        assert_eq!(names[scored[0].0], "North Star Dental");
        assert!(scored[1].1 < 75.0, "North Shore scores {}", scored[1].1);
    }

    #[test]
    fn blocking_finds_only_names_sharing_a_word() {
        let index = NameIndex::build(
            ["Acme Dental", "Zeta Roofing"].into_iter(),
            std::iter::empty(),
        );
        let found = index.search("Acme Plumbing", 5, &mut Scratch::default());
        assert_eq!(found.len(), 1);
        assert!(index
            .search("Omega Bakery", 5, &mut Scratch::default())
            .is_empty());
    }
}
