//! Feature extraction for the intent classifier: hashed word uni/bigrams and
//! character n-grams taken within word boundaries (space-less runs count as
//! one word for character n-grams and as a sequence of one-character words
//! for word n-grams), weighted by sublinear TF × IDF and L2-normalised per
//! block (words, characters) like a union of two TF-IDF vectorisers.

use serde::{Deserialize, Serialize};

use crate::normalize::{NormalizeOptions, normalize};
use crate::tokenize::{TokenKind, tokenize};
use crate::util::{FeatureHash, IdMap};

const SEED_WORD: u64 = 1;
const SEED_BIGRAM: u64 = 2;
const SEED_CHAR: u64 = 3;
const BOUNDARY: u64 = 0x2;

/// Block of a feature: word n-grams or character n-grams.
pub const GROUP_WORD: u8 = 0;
/// See [`GROUP_WORD`].
pub const GROUP_CHAR: u8 = 1;

/// Feature extraction settings, stored in the model file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FeatureConfig {
    pub normalize: NormalizeOptions,
    /// Longest word n-gram (1 = unigrams only).
    pub word_ngram_max: usize,
    pub char_ngram_min: usize,
    pub char_ngram_max: usize,
    /// Longest character n-gram inside runs of space-less scripts.
    pub spaceless_char_ngram_max: usize,
    /// Use `1 + ln(tf)` instead of raw counts.
    pub sublinear_tf: bool,
    /// Weight of the word block relative to the character block.
    pub word_weight: f32,
    pub char_weight: f32,
    /// Drop features seen in fewer training messages.
    pub min_df: u32,
    /// Exponent of the IDF weight (1: plain TF-IDF, 0: no IDF).
    pub idf_power: f32,
}

impl Default for FeatureConfig {
    fn default() -> Self {
        Self {
            normalize: NormalizeOptions::default(),
            word_ngram_max: 2,
            char_ngram_min: 2,
            char_ngram_max: 5,
            spaceless_char_ngram_max: 4,
            sublinear_tf: true,
            word_weight: 1.0,
            char_weight: 1.0,
            min_df: 1,
            idf_power: 1.0,
        }
    }
}

/// A sparse feature vector: parallel index/value arrays.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SparseVec {
    pub idx: Vec<u32>,
    pub val: Vec<f32>,
}

impl SparseVec {
    pub fn nnz(&self) -> usize {
        self.idx.len()
    }

    pub fn dot(&self, dense: &[f32]) -> f32 {
        self.idx.iter().zip(&self.val).map(|(&i, &v)| dense.get(i as usize).copied().unwrap_or(0.0) * v).sum()
    }

    pub fn squared_norm(&self) -> f32 {
        self.val.iter().map(|v| v * v).sum()
    }
}

/// Append the hashed raw features of `text` (one entry per occurrence).
pub fn raw_features(text: &str, cfg: &FeatureConfig, out: &mut Vec<(u64, u8)>) {
    let norm = normalize(text, &cfg.normalize);
    let tokens = tokenize(&norm);
    // Word units: hashes of words; space-less runs contribute one unit per char.
    let mut units: Vec<u64> = Vec::with_capacity(tokens.len() * 2);
    let mut chars: Vec<char> = Vec::with_capacity(32);
    for t in &tokens {
        match t.kind {
            TokenKind::Spaceless => {
                for c in t.text.chars() {
                    let mut h = FeatureHash::new(SEED_WORD);
                    h.push_char(c);
                    units.push(h.finish());
                }
            }
            _ => {
                let mut h = FeatureHash::new(SEED_WORD);
                h.push_str(t.text);
                units.push(h.finish());
            }
        }
        let max_n = match t.kind {
            TokenKind::Word => cfg.char_ngram_max,
            TokenKind::Spaceless => cfg.spaceless_char_ngram_max,
            TokenKind::Placeholder | TokenKind::Emoji => continue,
        };
        // Character n-grams of " word " (padded, as within word boundaries).
        chars.clear();
        chars.push(' ');
        chars.extend(t.text.chars());
        chars.push(' ');
        let min_n = cfg.char_ngram_min.max(1);
        for start in 0..chars.len() {
            let mut h = FeatureHash::new(SEED_CHAR);
            for (len, &c) in chars[start..].iter().take(max_n).enumerate() {
                h.push_char(c);
                let n = len + 1;
                if n >= min_n && !(n == 1 && c == ' ') {
                    out.push((h.finish(), GROUP_CHAR));
                }
            }
        }
    }
    for &u in &units {
        out.push((u, GROUP_WORD));
    }
    if cfg.word_ngram_max >= 2 && !units.is_empty() {
        let mut prev = BOUNDARY;
        for &u in units.iter().chain(std::iter::once(&BOUNDARY)) {
            let mut h = FeatureHash::new(SEED_BIGRAM);
            h.push_u64(prev);
            h.push_u64(u);
            out.push((h.finish(), GROUP_WORD));
            prev = u;
        }
    }
}

/// A fitted vectoriser: vocabulary of feature hashes with IDF weights.
#[derive(Debug, Clone)]
pub struct Vectorizer {
    pub(crate) config: FeatureConfig,
    pub(crate) vocab: IdMap<u32>,
    /// Feature hash per index (kept for saving).
    pub(crate) hashes: Vec<u64>,
    pub(crate) idf: Vec<f32>,
    pub(crate) group: Vec<u8>,
}

impl Vectorizer {
    /// Learn the vocabulary and IDF weights from training texts.
    pub fn fit<S: AsRef<str>>(texts: &[S], config: &FeatureConfig) -> Self {
        let mut df: IdMap<(u32, u8)> = IdMap::default();
        let mut raw = Vec::new();
        for t in texts {
            raw.clear();
            raw_features(t.as_ref(), config, &mut raw);
            raw.sort_unstable();
            raw.dedup();
            for &(h, g) in &raw {
                df.entry(h).or_insert((0, g)).0 += 1;
            }
        }
        let mut kept: Vec<(u64, u32, u8)> =
            df.into_iter().filter(|(_, (n, _))| *n >= config.min_df).map(|(h, (n, g))| (h, n, g)).collect();
        kept.sort_unstable();
        let n_docs = texts.len() as f32;
        let mut v = Self {
            config: config.clone(),
            vocab: IdMap::default(),
            hashes: Vec::with_capacity(kept.len()),
            idf: Vec::with_capacity(kept.len()),
            group: Vec::with_capacity(kept.len()),
        };
        for (h, n, g) in kept {
            v.hashes.push(h);
            v.idf.push((((1.0 + n_docs) / (1.0 + n as f32)).ln() + 1.0).powf(config.idf_power));
            v.group.push(g);
        }
        v.rebuild_vocab();
        v
    }

    pub(crate) fn from_parts(config: FeatureConfig, hashes: Vec<u64>, idf: Vec<f32>, group: Vec<u8>) -> Self {
        let mut v = Self { config, vocab: IdMap::default(), hashes, idf, group };
        v.rebuild_vocab();
        v
    }

    fn rebuild_vocab(&mut self) {
        self.vocab = IdMap::with_capacity_and_hasher(self.hashes.len(), Default::default());
        for (i, &h) in self.hashes.iter().enumerate() {
            self.vocab.insert(h, i as u32);
        }
    }

    pub fn n_features(&self) -> usize {
        self.hashes.len()
    }

    pub fn config(&self) -> &FeatureConfig {
        &self.config
    }

    /// The TF-IDF vector of `text` (features unknown to the vocabulary are dropped).
    pub fn transform(&self, text: &str) -> SparseVec {
        let mut raw = Vec::with_capacity(256);
        raw_features(text, &self.config, &mut raw);
        let mut ids: Vec<u32> = raw.iter().filter_map(|(h, _)| self.vocab.get(h).copied()).collect();
        ids.sort_unstable();
        let mut out = SparseVec { idx: Vec::with_capacity(ids.len()), val: Vec::with_capacity(ids.len()) };
        let mut norms = [0.0f32; 2];
        let mut i = 0;
        while i < ids.len() {
            let id = ids[i];
            let mut j = i + 1;
            while j < ids.len() && ids[j] == id {
                j += 1;
            }
            let tf = (j - i) as f32;
            let tf = if self.config.sublinear_tf { 1.0 + tf.ln() } else { tf };
            let w = tf * self.idf[id as usize];
            norms[usize::from(self.group[id as usize] & 1)] += w * w;
            out.idx.push(id);
            out.val.push(w);
            i = j;
        }
        let scale = [
            if norms[0] > 0.0 { self.config.word_weight / norms[0].sqrt() } else { 0.0 },
            if norms[1] > 0.0 { self.config.char_weight / norms[1].sqrt() } else { 0.0 },
        ];
        for (id, v) in out.idx.iter().zip(out.val.iter_mut()) {
            *v *= scale[usize::from(self.group[*id as usize] & 1)];
        }
        out
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn similar_texts_share_features_and_blocks_are_normalised() {
        let texts = ["where is my order", "cancel my order please", "我的订单在哪里"];
        let v = Vectorizer::fit(&texts, &FeatureConfig::default());
        let a = v.transform("where is my order");
        let b = v.transform("where is my ordr");
        let c = v.transform("cancel please");
        let dot = |x: &SparseVec, y: &SparseVec| -> f32 {
            let mut dense = vec![0.0; v.n_features()];
            for (i, val) in y.idx.iter().zip(&y.val) {
                dense[*i as usize] = *val;
            }
            x.dot(&dense)
        };
        assert!((a.squared_norm() - 2.0).abs() < 1e-4);
        assert!(dot(&a, &b) > dot(&a, &c));
        let zh = v.transform("订单在哪");
        assert!(zh.nnz() > 5);
        assert!(v.transform("").nnz() == 0);
    }
}
