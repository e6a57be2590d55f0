//! The selected member clusters of one reconcile, indexed for stage planning.
//!
//! Planning recomputes every stage's clusters on every reconcile (that is how KubeFleet detects
//! a relabelled cluster). With 31 stages over 10,000 clusters, evaluating each selector on each
//! cluster's label map would dominate a step; instead each label key a selector mentions becomes
//! a column of interned values with posting lists, so an `env=prod` stage visits only the
//! clusters labelled `env=prod`.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};

use crate::api::{Binding, Requirement, RequirementOperator};

/// A small, fast, deterministic hash for short string keys (label values) and addresses: eight
/// bytes per multiply, then a final avalanche so that the low bits hashbrown indexes by are
/// well mixed. Only lookups use it; no iteration order of a hashed map ever reaches the
/// engine's output. It is not collision-resistant against chosen keys; the keys are label
/// values the fleet's administrators chose, and addresses.
#[derive(Default)]
pub(crate) struct WordHash(u64);

/// An odd 64-bit constant with well-spread bits (2⁶⁴ divided by the golden ratio).
const SEED: u64 = 0x9e37_79b9_7f4a_7c15;

impl WordHash {
    fn mix(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(SEED);
    }
}

impl Hasher for WordHash {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            self.mix(u64::from_le_bytes(word));
        }
        // The last bytes shifted in one by one (a copy of a variable length would call memcpy);
        // the length keeps "a" and "a\0" apart.
        let tail = chunks.remainder().iter().rev().fold(0u64, |w, &b| (w << 8) | u64::from(b));
        self.mix(tail ^ ((bytes.len() as u64) << 56));
    }

    fn write_u8(&mut self, byte: u8) {
        self.mix(u64::from(byte));
    }

    fn write_usize(&mut self, word: usize) {
        self.mix(word as u64);
    }

    fn finish(&self) -> u64 {
        // SplitMix64's finalizer.
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

/// A hash map keyed through [`WordHash`].
pub(crate) type FastMap<K, V> = HashMap<K, V, BuildHasherDefault<WordHash>>;

/// A hash set of [`WordHash`]ed values.
pub(crate) type FastSet<T> = HashSet<T, BuildHasherDefault<WordHash>>;

/// A label value as a hash key: hashed in one `write` (which folds in the length), without the
/// terminator byte `str`'s own `Hash` adds — one mixing round fewer per cluster.
#[derive(PartialEq, Eq)]
struct LabelValue<'w>(&'w str);

impl std::hash::Hash for LabelValue<'_> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write(self.0.as_bytes());
    }
}

/// A selected member cluster: its name, labels and binding.
pub(crate) struct Candidate<'w> {
    pub(crate) name: &'w str,
    pub(crate) labels: &'w BTreeMap<String, String>,
    pub(crate) binding: &'w Binding,
}

/// One label key across all candidates: an interned value per candidate (0 = absent) and, per
/// value, the candidates holding it in name order.
struct Column<'w> {
    ids: Vec<u32>,
    values: Vec<&'w str>,
    postings: Vec<Vec<u32>>,
}

/// The candidates in name order, with columns built on demand.
pub(crate) struct ClusterIndex<'w> {
    pub(crate) candidates: Vec<Candidate<'w>>,
    columns: BTreeMap<String, Column<'w>>,
}

impl<'w> ClusterIndex<'w> {
    pub(crate) fn new(candidates: Vec<Candidate<'w>>) -> Self {
        ClusterIndex { candidates, columns: BTreeMap::new() }
    }

    fn column(&mut self, key: &str) -> &Column<'w> {
        if !self.columns.contains_key(key) {
            let mut dict: FastMap<LabelValue<'w>, u32> = FastMap::default();
            let mut values = vec![""];
            let mut counts = vec![0usize];
            let ids: Vec<u32> = self
                .candidates
                .iter()
                .map(|c| {
                    let id = match c.labels.get(key) {
                        None => 0,
                        // Almost every value was seen before: a lookup, and an insert on a miss.
                        Some(v) => match dict.get(&LabelValue(v)) {
                            Some(&id) => id,
                            None => {
                                let id = values.len() as u32;
                                dict.insert(LabelValue(v), id);
                                values.push(v);
                                counts.push(0);
                                id
                            }
                        },
                    };
                    counts[id as usize] += 1;
                    id
                })
                .collect();
            let mut postings: Vec<Vec<u32>> = counts.into_iter().map(Vec::with_capacity).collect();
            for (i, &id) in ids.iter().enumerate() {
                postings[id as usize].push(i as u32);
            }
            self.columns.insert(key.to_owned(), Column { ids, values, postings });
        }
        &self.columns[key]
    }

    /// The candidates (indices, ascending) that satisfy every requirement; `None` requirements
    /// is a nil selector, which matches nothing.
    pub(crate) fn matching(&mut self, requirements: Option<&[Requirement]>) -> Vec<u32> {
        let Some(reqs) = requirements else { return Vec::new() };
        // Per requirement, which interned values it accepts (index 0: the label is absent).
        let accepted: Vec<(String, Vec<bool>)> = reqs
            .iter()
            .map(|r| {
                let col = self.column(r.key());
                let ok =
                    col.values.iter().enumerate().map(|(id, v)| r.matches_value((id != 0).then_some(*v))).collect();
                (r.key().to_owned(), ok)
            })
            .collect();
        // Start from the smallest set an equality or `in` requirement allows.
        let mut seed: Option<Vec<u32>> = None;
        for (r, (key, ok)) in reqs.iter().zip(&accepted) {
            if !matches!(r.operator(), RequirementOperator::Equals | RequirementOperator::In) {
                continue;
            }
            let col = &self.columns[key];
            let size: usize = ok.iter().zip(&col.postings).filter(|(a, _)| **a).map(|(_, p)| p.len()).sum();
            if seed.as_ref().is_none_or(|s| size < s.len()) {
                let mut s: Vec<u32> =
                    ok.iter().zip(&col.postings).filter(|(a, _)| **a).flat_map(|(_, p)| p.iter().copied()).collect();
                s.sort_unstable();
                seed = Some(s);
            }
        }
        let all = || (0..self.candidates.len() as u32).collect::<Vec<_>>();
        let mut result = seed.unwrap_or_else(all);
        for (key, ok) in &accepted {
            let ids = &self.columns[key].ids;
            result.retain(|&i| ok[ids[i as usize] as usize]);
        }
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::{LabelSelector, compile};

    fn binding() -> Binding {
        serde_json::from_value(serde_json::json!({"spec": {"state": "Scheduled"}})).unwrap()
    }

    fn hash(s: &str) -> u64 {
        let mut h = WordHash::default();
        std::hash::Hash::hash(s, &mut h);
        h.finish()
    }

    #[test]
    fn word_hash_tells_apart_lengths_and_every_byte() {
        let keys = ["", "a", "a\0", "ab", "abcdefg", "abcdefgh", "abcdefgh\0", "abcdefghi", "bbcdefgh", "abcdefgi"];
        let hashes: std::collections::BTreeSet<u64> = keys.iter().map(|k| hash(k)).collect();
        assert_eq!(hashes.len(), keys.len());
        assert_eq!(hash("stage-17"), hash(&String::from("stage-17")));
    }

    #[test]
    fn matching_agrees_with_the_selector() {
        let b = binding();
        let label_sets: Vec<BTreeMap<String, String>> = (0..40)
            .map(|i| {
                let mut m = BTreeMap::new();
                if i % 3 != 0 {
                    m.insert("env".to_owned(), ["dev", "prod", "test"][i % 3].to_owned());
                }
                if i % 4 == 0 {
                    m.insert("zone".to_owned(), format!("z{}", i % 8));
                }
                m
            })
            .collect();
        let names: Vec<String> = (0..40).map(|i| format!("c{i:02}")).collect();
        let candidates =
            names.iter().zip(&label_sets).map(|(n, l)| Candidate { name: n, labels: l, binding: &b }).collect();
        let mut index = ClusterIndex::new(candidates);
        for selector in [
            r#"{}"#,
            r#"{"matchLabels": {"env": "prod"}}"#,
            r#"{"matchLabels": {"env": "prod", "zone": "z4"}}"#,
            r#"{"matchExpressions": [{"key": "env", "operator": "In", "values": ["dev", "test"]}]}"#,
            r#"{"matchExpressions": [{"key": "env", "operator": "NotIn", "values": ["dev"]}]}"#,
            r#"{"matchExpressions": [{"key": "zone", "operator": "Exists"}, {"key": "env", "operator": "DoesNotExist"}]}"#,
            r#"{"matchLabels": {"missing": "x"}}"#,
        ] {
            let s: LabelSelector = serde_json::from_str(selector).unwrap();
            let compiled = compile(Some(&s)).unwrap();
            let expected: Vec<u32> = (0..40u32).filter(|&i| compiled.matches(&label_sets[i as usize])).collect();
            assert_eq!(index.matching(compiled.requirements()), expected, "{selector}");
        }
        assert!(index.matching(None).is_empty());
    }
}
