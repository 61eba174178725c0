//! FAQ and knowledge-base retrieval: BM25 over normalised terms (words;
//! characters and character bigrams for Chinese, Japanese and Thai) blended
//! with a character n-gram cosine similarity that forgives typos. Each entry
//! may have several phrasings of its question; an entry scores as its best
//! phrasing.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::normalize::{NormalizeOptions, normalize};
use crate::tokenize::{TokenKind, terms, tokenize};
use crate::util::{FeatureHash, IdMap};

/// One FAQ entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FaqEntry {
    pub id: String,
    /// Ways a customer may ask it.
    pub questions: Vec<String>,
    pub answer: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lang: Option<String>,
}

/// A retrieved entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FaqHit {
    pub id: String,
    pub answer: String,
    /// Blend of `bm25` (normalised to 0..1) and `char_similarity`.
    pub score: f32,
    pub bm25: f32,
    pub char_similarity: f32,
    /// The phrasing that matched best.
    pub question: String,
}

/// Retrieval settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FaqConfig {
    pub normalize: NormalizeOptions,
    pub k1: f32,
    pub b: f32,
    /// Weight of the character similarity in the blended score (0..1).
    pub char_weight: f32,
    /// Character n-gram length for space-separated words (space-less runs use bigrams).
    pub char_n: usize,
}

impl Default for FaqConfig {
    fn default() -> Self {
        Self { normalize: NormalizeOptions::default(), k1: 1.2, b: 0.75, char_weight: 0.5, char_n: 3 }
    }
}

#[derive(Debug, Clone)]
struct Doc {
    entry: usize,
    question: String,
    len: f32,
}

/// An in-memory index over FAQ entries.
#[derive(Debug, Clone)]
pub struct FaqIndex {
    config: FaqConfig,
    entries: Vec<FaqEntry>,
    docs: Vec<Doc>,
    /// term → (doc, term frequency)
    postings: HashMap<String, Vec<(u32, f32)>>,
    avg_len: f32,
    /// char n-gram → (doc, weight); doc vectors are L2-normalised.
    char_postings: IdMap<Vec<(u32, f32)>>,
    char_idf: IdMap<f32>,
}

fn char_grams(text: &str, n: usize) -> Vec<u64> {
    let mut out = Vec::new();
    for t in tokenize(text) {
        let n = match t.kind {
            TokenKind::Word => n,
            TokenKind::Spaceless => 2,
            _ => continue,
        };
        let chars: Vec<char> = std::iter::once(' ').chain(t.text.chars()).chain(std::iter::once(' ')).collect();
        if chars.len() <= n {
            let mut h = FeatureHash::new(11);
            chars.iter().for_each(|c| h.push_char(*c));
            out.push(h.finish());
            continue;
        }
        for w in chars.windows(n) {
            let mut h = FeatureHash::new(11);
            w.iter().for_each(|c| h.push_char(*c));
            out.push(h.finish());
        }
    }
    out
}

fn counts<K: std::hash::Hash + Eq + Clone>(items: &[K]) -> Vec<(K, f32)> {
    let mut m: HashMap<K, f32> = HashMap::new();
    for k in items {
        *m.entry(k.clone()).or_default() += 1.0;
    }
    m.into_iter().collect()
}

impl FaqIndex {
    pub fn new(entries: Vec<FaqEntry>) -> Self {
        Self::with_config(entries, FaqConfig::default())
    }

    pub fn with_config(entries: Vec<FaqEntry>, config: FaqConfig) -> Self {
        let mut docs = Vec::new();
        let mut postings: HashMap<String, Vec<(u32, f32)>> = HashMap::new();
        let mut grams_per_doc: Vec<Vec<(u64, f32)>> = Vec::new();
        let mut char_df: IdMap<f32> = IdMap::default();
        for (ei, e) in entries.iter().enumerate() {
            for q in &e.questions {
                let d = docs.len() as u32;
                let norm = normalize(q, &config.normalize);
                let ts = terms(&norm);
                for (t, tf) in counts(&ts) {
                    postings.entry(t).or_default().push((d, tf));
                }
                let grams = counts(&char_grams(&norm, config.char_n));
                for (g, _) in &grams {
                    *char_df.entry(*g).or_default() += 1.0;
                }
                grams_per_doc.push(grams);
                docs.push(Doc { entry: ei, question: q.clone(), len: ts.len() as f32 });
            }
        }
        let n_docs = docs.len().max(1) as f32;
        let avg_len = docs.iter().map(|d| d.len).sum::<f32>() / n_docs;
        let char_idf: IdMap<f32> =
            char_df.into_iter().map(|(g, df)| (g, ((1.0 + n_docs) / (1.0 + df)).ln() + 1.0)).collect();
        let mut char_postings: IdMap<Vec<(u32, f32)>> = IdMap::default();
        for (d, grams) in grams_per_doc.into_iter().enumerate() {
            let weighted: Vec<(u64, f32)> = grams
                .into_iter()
                .map(|(g, tf)| (g, (1.0 + tf.ln()) * char_idf.get(&g).copied().unwrap_or(1.0)))
                .collect();
            let norm = weighted.iter().map(|(_, w)| w * w).sum::<f32>().sqrt().max(1e-9);
            for (g, w) in weighted {
                char_postings.entry(g).or_default().push((d as u32, w / norm));
            }
        }
        Self { config, entries, docs, postings, avg_len: avg_len.max(1.0), char_postings, char_idf }
    }

    pub fn entries(&self) -> &[FaqEntry] {
        &self.entries
    }

    fn idf(&self, term: &str) -> f32 {
        let n = self.docs.len() as f32;
        let df = self.postings.get(term).map_or(0.0, |p| p.len() as f32);
        ((n - df + 0.5) / (df + 0.5) + 1.0).ln()
    }

    /// The `k` best entries for `query`, best first (entries with no overlap at all are left out).
    pub fn search(&self, query: &str, k: usize) -> Vec<FaqHit> {
        if self.docs.is_empty() || k == 0 {
            return Vec::new();
        }
        let norm = normalize(query, &self.config.normalize);
        let q_terms = counts(&terms(&norm));
        let (k1, b) = (self.config.k1, self.config.b);
        let mut bm25 = vec![0.0f32; self.docs.len()];
        // Upper bound: every query term matched once in a document of average length.
        let mut best_possible = 0.0f32;
        for (t, qtf) in &q_terms {
            let idf = self.idf(t);
            best_possible += qtf * idf;
            if let Some(p) = self.postings.get(t) {
                for &(d, tf) in p {
                    let len = self.docs[d as usize].len;
                    let denom = tf + k1 * (1.0 - b + b * len / self.avg_len);
                    bm25[d as usize] += qtf * idf * tf * (k1 + 1.0) / denom;
                }
            }
        }
        let q_grams: Vec<(u64, f32)> = counts(&char_grams(&norm, self.config.char_n))
            .into_iter()
            .map(|(g, tf)| (g, (1.0 + tf.ln()) * self.char_idf.get(&g).copied().unwrap_or(1.0)))
            .collect();
        // Unknown grams count in the query norm: a garbled query scores lower.
        let q_norm = q_grams
            .iter()
            .map(|(g, w)| {
                let w =
                    if self.char_idf.contains_key(g) { *w } else { w * ((1.0 + self.docs.len() as f32).ln() + 1.0) };
                w * w
            })
            .sum::<f32>()
            .sqrt()
            .max(1e-9);
        let mut cos = vec![0.0f32; self.docs.len()];
        for (g, w) in &q_grams {
            if let Some(p) = self.char_postings.get(g) {
                for &(d, dw) in p {
                    cos[d as usize] += w / q_norm * dw;
                }
            }
        }
        let best_possible = best_possible.max(1e-6);
        let cw = self.config.char_weight.clamp(0.0, 1.0);
        let mut per_entry: Vec<Option<FaqHit>> = vec![None; self.entries.len()];
        for (d, doc) in self.docs.iter().enumerate() {
            if bm25[d] <= 0.0 && cos[d] <= 0.0 {
                continue;
            }
            let bm = (bm25[d] / best_possible).min(1.0);
            let score = (1.0 - cw) * bm + cw * cos[d].min(1.0);
            let slot = &mut per_entry[doc.entry];
            if slot.as_ref().is_none_or(|h| score > h.score) {
                let e = &self.entries[doc.entry];
                *slot = Some(FaqHit {
                    id: e.id.clone(),
                    answer: e.answer.clone(),
                    score,
                    bm25: bm25[d],
                    char_similarity: cos[d],
                    question: doc.question.clone(),
                });
            }
        }
        let mut hits: Vec<FaqHit> = per_entry.into_iter().flatten().collect();
        hits.sort_by(|a, b| b.score.total_cmp(&a.score).then_with(|| a.id.cmp(&b.id)));
        hits.truncate(k);
        hits
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn entry(id: &str, questions: &[&str], answer: &str) -> FaqEntry {
        FaqEntry {
            id: id.into(),
            questions: questions.iter().map(|q| (*q).to_owned()).collect(),
            answer: answer.into(),
            lang: None,
        }
    }

    fn index() -> FaqIndex {
        FaqIndex::new(vec![
            entry(
                "returns",
                &["What is your return policy?", "Can I return an item?", "退货政策是什么？"],
                "You can return items within 30 days.",
            ),
            entry(
                "shipping",
                &["How long does shipping take?", "When will my parcel arrive?", "运费多少钱？发货要多久？"],
                "Shipping takes 5-10 business days.",
            ),
            entry(
                "payment",
                &["Which payment methods do you accept?", "Can I pay with PayPal?", "可以用支付宝付款吗？"],
                "We accept cards, PayPal and Alipay.",
            ),
        ])
    }

    #[test]
    fn exact_and_paraphrased_questions() {
        let idx = index();
        assert_eq!(idx.search("what's the return policy", 3)[0].id, "returns");
        assert_eq!(idx.search("how long will shipping take to Canada?", 3)[0].id, "shipping");
        let hits = idx.search("can i pay with paypal", 2);
        assert_eq!(hits[0].id, "payment");
        assert!(hits.len() <= 2);
        assert!(hits.windows(2).all(|w| w[0].score >= w[1].score));
    }

    #[test]
    fn typos_are_forgiven() {
        let idx = index();
        let hits = idx.search("retrun polcy", 3);
        assert_eq!(hits[0].id, "returns");
        assert!(hits[0].char_similarity > 0.2);
        assert_eq!(idx.search("payement methds", 3)[0].id, "payment");
    }

    #[test]
    fn chinese_queries() {
        let idx = index();
        assert_eq!(idx.search("你们的退货政策", 3)[0].id, "returns");
        assert_eq!(idx.search("支付宝可以付款吗", 3)[0].id, "payment");
        assert_eq!(idx.search("发货多久", 3)[0].id, "shipping");
    }

    #[test]
    fn unrelated_or_empty_queries() {
        let idx = index();
        assert!(idx.search("", 3).is_empty());
        let hits = idx.search("zzzz qqqq", 3);
        assert!(hits.iter().all(|h| h.score < 0.2), "{hits:?}");
        assert!(FaqIndex::new(vec![]).search("anything", 3).is_empty());
    }
}
