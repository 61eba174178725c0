//! Frequent-question discovery: groups the messages the bot could not place
//! (and the questions agents answered by hand) into clusters of the same
//! question, incrementally as messages arrive or all at once, and summarises
//! each cluster (label, size, this week against last, languages, channels,
//! central examples, the agent replies most often given).
//!
//! A message becomes a sparse vector of the crate's [`crate::features`]:
//! hashed word uni/bigrams and character n-grams of the normalised text,
//! where URLs, e-mails, numbers and order or tracking codes are placeholders
//! (so "where is order 1234" and "where is order 9876" are the same text),
//! weighted by sublinear TF × IDF with document frequencies counted as
//! messages arrive, L2-normalised per block. A third block holds
//! language-independent *signals* the caller attaches to an item (for
//! example the multilingual intent pack's best guess, see
//! [`intent_signal`]); an optional [`Embedder`] adds a dense similarity.
//!
//! Clustering is single-pass leader clustering against centroids: an item
//! joins the most similar cluster when the cosine to its centroid reaches
//! [`ClusterParams::threshold`], else it starts a cluster. Candidate
//! clusters come from an inverted index (feature → clusters holding it),
//! probed with the item's heaviest features and bounded posting lengths, so
//! the cost per message does not grow with the number of clusters; only the
//! best few candidates are scored exactly. [`Clusterer::consolidate`]
//! merges clusters whose centroids are close (a second pass, smallest
//! first) and attaches clusters of a few messages to the nearest large one;
//! [`Clusterer::refine`] (batch) moves each message to its nearest large
//! cluster once the clusters have settled, one k-means step.
//!
//! Across languages: character n-grams only group languages that share
//! words (placeholders, product names, cognates). Without a model, messages
//! in different languages meet only through signals (an intent guess from a
//! classifier trained on the multilingual pack; useful when that guess is
//! right) or shared placeholders. A multilingual sentence-embedding
//! back-end behind [`Clusterer::with_embedder`] groups translations
//! directly; the crate's built-in candle back-end (all-MiniLM-L6-v2) is
//! English only and does not bridge languages. Neither model-based path was
//! measured on real traffic here; the figures in the crate README are for
//! character features and signals.
//!
//! Order: the result depends on the order in which items are added.
//! [`cluster_all`] first observes every text (document frequencies), then
//! adds the items by (timestamp, id), consolidates and refines, so a
//! [`Clusterer`] that observes the same texts, is fed the same items in
//! that order, consolidated and refined gives exactly the same clusters. Fed without observing
//! first, the earliest items are weighted with fewer statistics; the
//! clusters are then close but not identical.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::classifier::IntentModel;
use crate::embed::{Embedder, cosine};
use crate::error::NluError;
use crate::faq::FaqIndex;
use crate::features::{FeatureConfig, raw_features};
use crate::lang::LanguageDetector;
use crate::normalize::{NormalizeOptions, normalize};
use crate::tokenize::tokenize;
use crate::util::{FeatureHash, IdMap, Rng};

/// Seconds in a week, for [`ClusterSummary::this_week`].
pub const WEEK_SECS: i64 = 7 * 24 * 3600;

const GROUP_SIGNAL: u8 = 2;
const SEED_SIGNAL: u64 = 77;
const SEED_SAMPLE: u64 = 91;
const SEED_BAND: u64 = 93;
/// Language recorded when an item has none and no detector is set.
pub const UNKNOWN_LANGUAGE: &str = "und";

/// One message to cluster.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QuestionItem {
    /// Opaque id (for example the message id).
    pub id: i64,
    pub text: String,
    /// ISO 639-1 code, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lang: Option<String>,
    /// Unix seconds.
    pub timestamp: i64,
    #[serde(default)]
    pub channel: String,
    /// The agent's reply to this message, if an agent answered it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_reply: Option<String>,
    /// Language-independent keys (e.g. `intent:order_status`); items sharing
    /// a signal are pulled together by [`ClusterParams::signal_weight`].
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub signals: Vec<String>,
}

impl QuestionItem {
    pub fn new(id: i64, text: impl Into<String>, timestamp: i64) -> Self {
        Self {
            id,
            text: text.into(),
            lang: None,
            timestamp,
            channel: String::new(),
            agent_reply: None,
            signals: Vec::new(),
        }
    }

    pub fn with_lang(mut self, lang: impl Into<String>) -> Self {
        self.lang = Some(lang.into());
        self
    }

    pub fn with_channel(mut self, channel: impl Into<String>) -> Self {
        self.channel = channel.into();
        self
    }

    pub fn with_reply(mut self, reply: impl Into<String>) -> Self {
        self.agent_reply = Some(reply.into());
        self
    }

    pub fn with_signal(mut self, signal: impl Into<String>) -> Self {
        self.signals.push(signal.into());
        self
    }
}

/// Clustering settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ClusterParams {
    pub features: FeatureConfig,
    /// Cosine to a centroid from which an item joins that cluster.
    pub threshold: f32,
    /// Cosine between centroids from which [`Clusterer::consolidate`] merges.
    pub merge_threshold: f32,
    /// [`Clusterer::consolidate`] then moves each cluster smaller than
    /// `attach_below` into the most similar cluster of at least that size
    /// when their centroids are at least `attach_threshold` alike.
    pub attach_below: usize,
    pub attach_threshold: f32,
    /// Rounds of [`Clusterer::refine`] in [`cluster_all`].
    pub refine_rounds: usize,
    /// Weight of the signal block relative to the word and character blocks.
    pub signal_weight: f32,
    /// Share of the dense (embedding) cosine in the similarity, 0..1, when an
    /// embedder is set.
    pub embedding_weight: f32,
    /// Features of a query used to look up candidate clusters.
    pub probe_features: usize,
    /// Longest part of a posting list read (its most recent entries).
    pub max_posting: usize,
    /// Candidate clusters scored exactly.
    pub rerank: usize,
    /// A centroid is pruned to its heaviest features beyond this size.
    pub max_centroid_features: usize,
    /// Members kept per cluster (a hash-chosen sample) to pick central examples.
    pub sample_size: usize,
    /// Examples per summary.
    pub examples: usize,
    /// Agent replies per summary.
    pub replies: usize,
    /// Summaries leave out clusters smaller than this.
    pub min_size: usize,
}

impl Default for ClusterParams {
    fn default() -> Self {
        Self {
            features: FeatureConfig::default(),
            // Chosen on the Bitext set in shuffled order (see the README):
            // 120 clusters for 27 intents at purity 0.83.
            threshold: 0.4,
            merge_threshold: 0.45,
            attach_below: 5,
            attach_threshold: 0.15,
            refine_rounds: 1,
            signal_weight: 1.5,
            embedding_weight: 0.5,
            probe_features: 24,
            max_posting: 400,
            rerank: 8,
            max_centroid_features: 4000,
            sample_size: 24,
            examples: 5,
            replies: 3,
            min_size: 1,
        }
    }
}

/// A value with how many messages had it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counted {
    pub value: String,
    pub count: usize,
}

/// A message shown as an example of its cluster.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClusterExample {
    pub id: i64,
    pub text: String,
    /// Cosine to the cluster's centroid.
    pub similarity: f32,
}

/// What a cluster is about, for people.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClusterSummary {
    /// The id of the cluster's first member (kept by the larger cluster when two merge).
    pub id: i64,
    /// The most central example, shortened.
    pub label: String,
    pub size: usize,
    /// Members in `(now - 7 days, now]`.
    pub this_week: usize,
    /// Members in `(now - 14 days, now - 7 days]`.
    pub last_week: usize,
    pub first_seen: i64,
    pub last_seen: i64,
    /// Most frequent first.
    pub languages: Vec<Counted>,
    pub channels: Vec<Counted>,
    /// Most central first, distinct texts.
    pub examples: Vec<ClusterExample>,
    /// Agent replies, most frequent first; near-identical replies (same
    /// words after normalisation, numbers and links as placeholders) count
    /// together under the first wording seen.
    pub replies: Vec<Counted>,
    /// Ids of all members, in the order they were added.
    pub members: Vec<i64>,
}

type Sparse = Vec<(u32, f32)>;
/// Target slot, vector, embedding and band keys of an item being re-placed.
type Placed = (usize, Sparse, Option<Vec<f32>>, Vec<u64>);

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Sample {
    key: u64,
    id: i64,
    text: String,
    vec: Sparse,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct ReplyTally {
    text: String,
    count: usize,
    first: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Cluster {
    id: i64,
    alive: bool,
    /// Sum of member vectors, sorted by feature.
    centroid: Sparse,
    norm2: f32,
    /// Sum of member embeddings (empty without an embedder).
    dense: Vec<f32>,
    members: Vec<i64>,
    timestamps: Vec<i64>,
    langs: BTreeMap<String, usize>,
    channels: BTreeMap<String, usize>,
    replies: BTreeMap<String, ReplyTally>,
    /// The members with the smallest sample keys (a bottom-k sample).
    sample: Vec<Sample>,
    /// Band keys of member embeddings already in the dense postings.
    bands: Vec<u64>,
}

impl Cluster {
    fn empty(id: i64) -> Self {
        Self {
            id,
            alive: true,
            centroid: Vec::new(),
            norm2: 0.0,
            dense: Vec::new(),
            members: Vec::new(),
            timestamps: Vec::new(),
            langs: BTreeMap::new(),
            channels: BTreeMap::new(),
            replies: BTreeMap::new(),
            sample: Vec::new(),
            bands: Vec::new(),
        }
    }
}

/// The serialisable part of a [`Clusterer`].
/// Version of the JSON written by [`Clusterer::to_json`].
pub const STATE_VERSION: u32 = 1;

#[derive(Debug, Clone, Serialize, Deserialize)]
struct State {
    version: u32,
    params: ClusterParams,
    n_docs: u64,
    n_items: u64,
    vocab: IdMap<u32>,
    df: Vec<u32>,
    group: Vec<u8>,
    clusters: Vec<Cluster>,
    replies_seen: u64,
}

/// Incremental clusterer. See the module documentation. It forgets
/// nothing: for a sliding window (say 30 days), build a new one from the
/// window's messages with [`Clusterer::from_items`] now and then, and keep
/// adding to it as messages arrive.
pub struct Clusterer {
    state: State,
    /// feature → cluster slots whose centroid holds it (append order).
    postings: Vec<Vec<u32>>,
    /// embedding band key → cluster slots.
    band_postings: IdMap<Vec<u32>>,
    embedder: Option<Arc<dyn Embedder>>,
    planes: Vec<Vec<f32>>,
    detector: Option<LanguageDetector>,
    scores: Vec<f32>,
    touched: Vec<u32>,
    raw: Vec<(u64, u8)>,
}

impl std::fmt::Debug for Clusterer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Clusterer")
            .field("items", &self.state.n_items)
            .field("clusters", &self.cluster_count())
            .field("embedder", &self.embedder.as_ref().map(|e| e.name().to_owned()))
            .finish_non_exhaustive()
    }
}

const BANDS: usize = 8;
const BAND_BITS: usize = 10;

impl Clusterer {
    pub fn new(params: ClusterParams) -> Self {
        Self {
            state: State {
                version: STATE_VERSION,
                params,
                n_docs: 0,
                n_items: 0,
                vocab: IdMap::default(),
                df: Vec::new(),
                group: Vec::new(),
                clusters: Vec::new(),
                replies_seen: 0,
            },
            postings: Vec::new(),
            band_postings: IdMap::default(),
            embedder: None,
            planes: Vec::new(),
            detector: None,
            scores: Vec::new(),
            touched: Vec::new(),
            raw: Vec::new(),
        }
    }

    /// The clusterer [`cluster_all`] builds: every text observed, the items
    /// added by (timestamp, id), consolidated and refined
    /// ([`ClusterParams::refine_rounds`] times). Keep it to go on adding.
    pub fn from_items(items: Vec<QuestionItem>, params: &ClusterParams) -> Self {
        let mut c = Self::new(params.clone());
        // Without an embedder building cannot fail.
        let _ = c.build(items);
        c
    }

    /// The steps of [`Clusterer::from_items`] on this clusterer (with its
    /// embedder and language detector, if set), which should be empty.
    pub fn build(&mut self, mut items: Vec<QuestionItem>) -> Result<(), NluError> {
        items.sort_by_key(|i| (i.timestamp, i.id));
        for it in &items {
            self.observe(&it.text);
        }
        self.add_all(items.clone())?;
        self.consolidate();
        for _ in 0..self.state.params.refine_rounds {
            self.refine(&items)?;
        }
        Ok(())
    }

    /// Blend a sentence-embedding back-end into the similarity (see
    /// [`ClusterParams::embedding_weight`]). Set it before adding items and
    /// again after [`Clusterer::from_state`].
    pub fn with_embedder(mut self, embedder: Arc<dyn Embedder>) -> Self {
        let dim = embedder.dimension();
        let mut rng = Rng::new(SEED_BAND);
        self.planes = (0..BANDS * BAND_BITS)
            .map(|_| (0..dim).map(|_| (rng.next_u64() >> 40) as f32 / (1u64 << 23) as f32 - 1.0).collect())
            .collect();
        self.embedder = Some(embedder);
        self
    }

    /// Detect the language of items that come without one.
    pub fn with_language_detector(mut self, detector: LanguageDetector) -> Self {
        self.detector = Some(detector);
        self
    }

    pub fn params(&self) -> &ClusterParams {
        &self.state.params
    }

    /// Items added so far.
    pub fn len(&self) -> usize {
        self.state.n_items as usize
    }

    pub fn is_empty(&self) -> bool {
        self.state.n_items == 0
    }

    /// Live clusters (including single messages).
    pub fn cluster_count(&self) -> usize {
        self.state.clusters.iter().filter(|c| c.alive).count()
    }

    /// The state as JSON (the embedder and language detector are not part of
    /// it: attach them again after loading).
    pub fn to_json(&self) -> Result<Vec<u8>, NluError> {
        serde_json::to_vec(&self.state).map_err(|e| NluError::parse("cluster state", e))
    }

    /// Restore a state written by [`Clusterer::to_json`].
    pub fn from_json(bytes: &[u8]) -> Result<Self, NluError> {
        let state: State = serde_json::from_slice(bytes).map_err(|e| NluError::parse("cluster state", e))?;
        if state.version != STATE_VERSION {
            return Err(NluError::parse(
                "cluster state",
                format!("version {} (this build reads {STATE_VERSION})", state.version),
            ));
        }
        let mut c = Self::new(state.params.clone());
        c.postings = vec![Vec::new(); state.df.len()];
        for (slot, cl) in state.clusters.iter().enumerate() {
            if cl.alive {
                for &(f, _) in &cl.centroid {
                    if let Some(p) = c.postings.get_mut(f as usize) {
                        p.push(slot as u32);
                    }
                }
            }
        }
        c.state = state;
        c.rebuild_band_postings();
        Ok(c)
    }

    fn rebuild_band_postings(&mut self) {
        self.band_postings.clear();
        for (slot, cl) in self.state.clusters.iter().enumerate() {
            if cl.alive {
                for &k in &cl.bands {
                    self.band_postings.entry(k).or_default().push(slot as u32);
                }
            }
        }
    }

    /// Count `text` in the document frequencies without clustering it: warms
    /// up the feature weights from earlier traffic so that the first items
    /// added are weighted like later ones.
    pub fn observe(&mut self, text: &str) {
        self.vectorize(text, &[], true);
    }

    /// Add one item; returns the id of the cluster it joined or started.
    pub fn add(&mut self, item: QuestionItem) -> Result<i64, NluError> {
        let emb = match &self.embedder {
            Some(e) => e.embed(&[item.text.as_str()])?.into_iter().next(),
            None => None,
        };
        Ok(self.add_embedded(item, emb))
    }

    /// Add items in order, embedding them in one batch when an embedder is set.
    pub fn add_all(&mut self, items: Vec<QuestionItem>) -> Result<Vec<i64>, NluError> {
        let embs = self.embed_items(&items)?;
        Ok(items.into_iter().zip(embs).map(|(it, e)| self.add_embedded(it, e)).collect())
    }

    /// Embeddings of `items` in batches (all `None` without an embedder).
    fn embed_items(&self, items: &[QuestionItem]) -> Result<Vec<Option<Vec<f32>>>, NluError> {
        let Some(e) = &self.embedder else { return Ok(vec![None; items.len()]) };
        let mut out = Vec::with_capacity(items.len());
        for chunk in items.chunks(256) {
            let texts: Vec<&str> = chunk.iter().map(|i| i.text.as_str()).collect();
            let vecs = e.embed(&texts)?;
            if vecs.len() != chunk.len() {
                return Err(NluError::Config(format!("embedder {} returned the wrong number of vectors", e.name())));
            }
            out.extend(vecs.into_iter().map(Some));
        }
        Ok(out)
    }

    fn add_embedded(&mut self, item: QuestionItem, emb: Option<Vec<f32>>) -> i64 {
        let x = self.vectorize(&item.text, &item.signals, true);
        self.state.n_items += 1;
        let emb = emb.filter(|e| !e.is_empty() && e.len() == self.planes.first().map_or(0, Vec::len));
        let bands = emb.as_ref().map(|e| self.band_keys(e)).unwrap_or_default();
        let best = self.best_cluster(&x, emb.as_deref(), &bands, None, 0);
        let slot = match best {
            Some((slot, sim)) if sim >= self.state.params.threshold => slot,
            _ => {
                self.state.clusters.push(Cluster::empty(item.id));
                self.state.clusters.len() - 1
            }
        };
        self.push_member(slot, item, x, emb, bands);
        self.state.clusters[slot].id
    }

    /// Record `item` (with its vector, embedding and band keys) in a cluster.
    fn push_member(&mut self, slot: usize, item: QuestionItem, x: Sparse, emb: Option<Vec<f32>>, bands: Vec<u64>) {
        let lang = item.lang.clone().or_else(|| self.detector.as_ref().map(|d| d.detect(&item.text).code));
        self.state.replies_seen += u64::from(item.agent_reply.is_some());
        let reply_order = self.state.replies_seen;
        let sample_size = self.state.params.sample_size;
        let cl = &mut self.state.clusters[slot];
        cl.members.push(item.id);
        cl.timestamps.push(item.timestamp);
        *cl.langs.entry(lang.unwrap_or_else(|| UNKNOWN_LANGUAGE.to_owned())).or_default() += 1;
        *cl.channels.entry(item.channel.clone()).or_default() += 1;
        if let Some(reply) = &item.agent_reply {
            let key = reply_key(reply);
            if !key.is_empty() {
                let t = cl.replies.entry(key).or_insert_with(|| ReplyTally {
                    text: reply.trim().to_owned(),
                    count: 0,
                    first: reply_order,
                });
                t.count += 1;
            }
        }
        let key = sample_key(item.id);
        let keep = cl.sample.len() < sample_size || cl.sample.last().is_some_and(|s| key < s.key);
        if keep {
            let pos = cl.sample.partition_point(|s| s.key < key);
            cl.sample.insert(pos, Sample { key, id: item.id, text: item.text, vec: x.clone() });
            cl.sample.truncate(sample_size);
        }
        if let Some(e) = emb {
            if cl.dense.is_empty() {
                cl.dense = e;
            } else {
                cl.dense.iter_mut().zip(&e).for_each(|(d, v)| *d += v);
            }
            for k in bands {
                if !cl.bands.contains(&k) {
                    cl.bands.push(k);
                    self.band_postings.entry(k).or_default().push(slot as u32);
                }
            }
        }
        self.add_to_centroid(slot, &x);
    }

    /// Batch refinement (one k-means step): move each of `items` (added
    /// earlier) to the most similar cluster of at least
    /// [`ClusterParams::attach_below`] members when that similarity reaches
    /// [`ClusterParams::attach_threshold`], then rebuild every cluster from
    /// its members in the order of `items`. Clusters keep their ids; a
    /// cluster whose members all leave disappears, and added items missing
    /// from `items` are dropped.
    pub fn refine(&mut self, items: &[QuestionItem]) -> Result<(), NluError> {
        let embs = self.embed_items(items)?;
        let mut home: std::collections::HashMap<i64, usize> = std::collections::HashMap::new();
        for (slot, c) in self.state.clusters.iter().enumerate() {
            if c.alive {
                for &m in &c.members {
                    home.insert(m, slot);
                }
            }
        }
        let (below, attach) = (self.state.params.attach_below, self.state.params.attach_threshold);
        let mut moves: Vec<Placed> = Vec::with_capacity(items.len());
        for (it, emb) in items.iter().zip(embs) {
            let x = self.vectorize(&it.text, &it.signals, false);
            let emb = emb.filter(|e| !e.is_empty() && e.len() == self.planes.first().map_or(0, Vec::len));
            let bands = emb.as_ref().map(|e| self.band_keys(e)).unwrap_or_default();
            let current = home.get(&it.id).copied();
            let target = match self.best_cluster(&x, emb.as_deref(), &bands, None, below) {
                Some((slot, sim)) if sim >= attach => Some(slot),
                _ => current,
            };
            moves.push((target.unwrap_or(usize::MAX), x, emb, bands));
        }
        let old = std::mem::take(&mut self.state.clusters);
        self.postings.iter_mut().for_each(Vec::clear);
        self.band_postings.clear();
        let mut new_slot: std::collections::HashMap<usize, usize> = std::collections::HashMap::new();
        self.state.n_items = 0;
        for (it, (target, x, emb, bands)) in items.iter().zip(moves) {
            let Some(old_cluster) = old.get(target) else { continue };
            self.state.n_items += 1;
            let slot = *new_slot.entry(target).or_insert_with(|| {
                self.state.clusters.push(Cluster::empty(old_cluster.id));
                self.state.clusters.len() - 1
            });
            self.push_member(slot, it.clone(), x, emb, bands);
        }
        Ok(())
    }

    /// The sparse, unit-length vector of a text. `count` updates document
    /// frequencies first (an added item counts in its own weights).
    fn vectorize(&mut self, text: &str, signals: &[String], count: bool) -> Sparse {
        let mut raw = std::mem::take(&mut self.raw);
        raw.clear();
        raw_features(text, &self.state.params.features, &mut raw);
        for s in signals {
            let mut h = FeatureHash::new(SEED_SIGNAL);
            h.push_str(s);
            raw.push((h.finish(), GROUP_SIGNAL));
        }
        let st = &mut self.state;
        let mut ids: Vec<u32> = Vec::with_capacity(raw.len());
        for &(h, g) in &raw {
            let id = match st.vocab.get(&h) {
                Some(&id) => id,
                None if count => {
                    let id = st.df.len() as u32;
                    st.vocab.insert(h, id);
                    st.df.push(0);
                    st.group.push(g);
                    self.postings.push(Vec::new());
                    id
                }
                None => continue,
            };
            ids.push(id);
        }
        self.raw = raw;
        ids.sort_unstable();
        if count {
            st.n_docs += 1;
            let mut prev = None;
            for &id in &ids {
                if prev != Some(id) {
                    st.df[id as usize] += 1;
                    prev = Some(id);
                }
            }
        }
        let n = st.n_docs.max(1) as f32;
        let mut out: Sparse = Vec::with_capacity(ids.len());
        let mut norms = [0.0f32; 3];
        let mut i = 0;
        while i < ids.len() {
            let id = ids[i];
            let mut j = i + 1;
            while j < ids.len() && ids[j] == id {
                j += 1;
            }
            let tf = (j - i) as f32;
            let tf = if st.params.features.sublinear_tf { 1.0 + tf.ln() } else { tf };
            let df = st.df[id as usize] as f32;
            let idf = (((1.0 + n) / (1.0 + df)).ln() + 1.0).powf(st.params.features.idf_power);
            let w = tf * idf;
            norms[usize::from(st.group[id as usize].min(2))] += w * w;
            out.push((id, w));
            i = j;
        }
        let weights = [st.params.features.word_weight, st.params.features.char_weight, st.params.signal_weight];
        let mut scale = [0.0f32; 3];
        for g in 0..3 {
            if norms[g] > 0.0 {
                scale[g] = weights[g] / norms[g].sqrt();
            }
        }
        let mut total = 0.0;
        for (id, w) in out.iter_mut() {
            *w *= scale[usize::from(st.group[*id as usize].min(2))];
            total += *w * *w;
        }
        if total > 0.0 {
            let inv = 1.0 / total.sqrt();
            out.iter_mut().for_each(|(_, w)| *w *= inv);
        }
        out
    }

    fn band_keys(&self, e: &[f32]) -> Vec<u64> {
        (0..BANDS)
            .map(|b| {
                let mut bits = 0u64;
                for k in 0..BAND_BITS {
                    let p = &self.planes[b * BAND_BITS + k];
                    let dot: f32 = p.iter().zip(e).map(|(a, b)| a * b).sum();
                    bits = (bits << 1) | u64::from(dot >= 0.0);
                }
                let mut h = FeatureHash::new(SEED_BAND);
                h.push_u64(b as u64);
                h.push_u64(bits);
                h.finish()
            })
            .collect()
    }

    /// The most similar live cluster (other than `exclude`) with its similarity.
    fn best_cluster(
        &mut self,
        x: &Sparse,
        emb: Option<&[f32]>,
        bands: &[u64],
        exclude: Option<usize>,
        min_members: usize,
    ) -> Option<(usize, f32)> {
        let p = &self.state.params;
        if self.scores.len() < self.state.clusters.len() {
            self.scores.resize(self.state.clusters.len(), 0.0);
        }
        // Probe with the heaviest features that some cluster holds.
        let mut probe: Vec<(u32, f32)> =
            x.iter().copied().filter(|(f, _)| self.postings.get(*f as usize).is_some_and(|l| !l.is_empty())).collect();
        probe.sort_unstable_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        probe.truncate(p.probe_features);
        for (f, w) in probe {
            let list = &self.postings[f as usize];
            let start = list.len().saturating_sub(p.max_posting);
            for &c in &list[start..] {
                let s = &mut self.scores[c as usize];
                if *s == 0.0 {
                    self.touched.push(c);
                }
                *s += w;
            }
        }
        for k in bands {
            if let Some(list) = self.band_postings.get(k) {
                let start = list.len().saturating_sub(p.max_posting);
                for &c in &list[start..] {
                    let s = &mut self.scores[c as usize];
                    if *s == 0.0 {
                        self.touched.push(c);
                    }
                    *s += 0.1;
                }
            }
        }
        let mut cands: Vec<(u32, f32)> = Vec::with_capacity(self.touched.len());
        for &c in &self.touched {
            let s = std::mem::take(&mut self.scores[c as usize]);
            let cl = &self.state.clusters[c as usize];
            if cl.alive && Some(c as usize) != exclude && cl.members.len() >= min_members {
                cands.push((c, s));
            }
        }
        self.touched.clear();
        if cands.len() > p.rerank {
            cands.select_nth_unstable_by(p.rerank, |a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
            cands.truncate(p.rerank);
        }
        let mut best: Option<(usize, f32)> = None;
        for (c, _) in cands {
            let sim = self.similarity(c as usize, x, emb);
            if best.is_none_or(|(bc, bs)| sim > bs || (sim == bs && (c as usize) < bc)) {
                best = Some((c as usize, sim));
            }
        }
        best
    }

    fn similarity(&self, slot: usize, x: &Sparse, emb: Option<&[f32]>) -> f32 {
        let cl = &self.state.clusters[slot];
        let sparse = if cl.norm2 > 0.0 { dot(x, &cl.centroid) / cl.norm2.sqrt() } else { 0.0 };
        match emb {
            Some(e) if !cl.dense.is_empty() && self.embedder.is_some() => {
                let w = self.state.params.embedding_weight.clamp(0.0, 1.0);
                (1.0 - w) * sparse + w * cosine(e, &cl.dense)
            }
            _ => sparse,
        }
    }

    fn add_to_centroid(&mut self, slot: usize, x: &Sparse) {
        let cl = &mut self.state.clusters[slot];
        if cl.centroid.len() > 8 * x.len() {
            // A large centroid usually holds every feature already: update in place.
            let pos: Vec<Option<usize>> =
                x.iter().map(|&(f, _)| cl.centroid.binary_search_by_key(&f, |e| e.0).ok()).collect();
            if pos.iter().all(Option::is_some) {
                for (k, &(_, w)) in pos.into_iter().flatten().zip(x) {
                    let c = &mut cl.centroid[k].1;
                    cl.norm2 += 2.0 * *c * w + w * w;
                    *c += w;
                }
                return;
            }
        }
        let mut merged: Sparse = Vec::with_capacity(cl.centroid.len() + x.len());
        let (mut i, mut j) = (0, 0);
        let a = &cl.centroid;
        while i < a.len() || j < x.len() {
            match (a.get(i), x.get(j)) {
                (Some(&(fa, wa)), Some(&(fx, wx))) if fa == fx => {
                    merged.push((fa, wa + wx));
                    i += 1;
                    j += 1;
                }
                (Some(&(fa, wa)), Some(&(fx, _))) if fa < fx => {
                    merged.push((fa, wa));
                    i += 1;
                }
                (Some(&(fa, wa)), None) => {
                    merged.push((fa, wa));
                    i += 1;
                }
                (_, Some(&(fx, wx))) => {
                    merged.push((fx, wx));
                    self.postings[fx as usize].push(slot as u32);
                    j += 1;
                }
                (None, None) => break,
            }
        }
        let max = self.state.params.max_centroid_features.max(16);
        if merged.len() > max {
            // Keep the heaviest three quarters; postings of dropped features
            // go stale and are ignored by the exact score.
            let keep = max * 3 / 4;
            merged.select_nth_unstable_by(keep, |a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
            merged.truncate(keep);
            merged.sort_unstable_by_key(|e| e.0);
        }
        cl.norm2 = merged.iter().map(|(_, w)| w * w).sum();
        cl.centroid = merged;
    }

    /// Merge clusters whose centroids are at least
    /// [`ClusterParams::merge_threshold`] alike, smallest clusters first,
    /// then attach small clusters (see [`ClusterParams::attach_below`]).
    /// Returns the number of merges.
    pub fn consolidate(&mut self) -> usize {
        let (merge, attach, below) =
            (self.state.params.merge_threshold, self.state.params.attach_threshold, self.state.params.attach_below);
        self.merge_pass(merge, 0, 0) + self.merge_pass(attach, below, below)
    }

    /// One pass over the live clusters smaller than `max_size` (all when 0),
    /// smallest first: each merges with its most similar cluster of at least
    /// `min_members` when they are `threshold` alike.
    fn merge_pass(&mut self, threshold: f32, max_size: usize, min_members: usize) -> usize {
        let mut order: Vec<usize> = (0..self.state.clusters.len())
            .filter(|&s| {
                let c = &self.state.clusters[s];
                c.alive && (max_size == 0 || c.members.len() < max_size)
            })
            .collect();
        order.sort_by_key(|&s| (self.state.clusters[s].members.len(), s));
        let mut merges = 0;
        for slot in order {
            let cl = &self.state.clusters[slot];
            if !cl.alive || (max_size > 0 && cl.members.len() >= max_size) {
                continue;
            }
            let norm = cl.norm2.sqrt();
            if norm == 0.0 {
                continue;
            }
            let x: Sparse = cl.centroid.iter().map(|&(f, w)| (f, w / norm)).collect();
            let emb = (!cl.dense.is_empty()).then(|| cl.dense.clone());
            let bands = cl.bands.clone();
            let Some((other, sim)) = self.best_cluster(&x, emb.as_deref(), &bands, Some(slot), min_members) else {
                continue;
            };
            if sim < threshold {
                continue;
            }
            let (a, b) = (&self.state.clusters[slot], &self.state.clusters[other]);
            let other_wins = (b.members.len(), std::cmp::Reverse(other)) >= (a.members.len(), std::cmp::Reverse(slot));
            let (into, from) = if other_wins { (other, slot) } else { (slot, other) };
            self.merge(into, from);
            merges += 1;
        }
        merges
    }

    fn merge(&mut self, into: usize, from: usize) {
        let src = std::mem::replace(&mut self.state.clusters[from], Cluster::empty(0));
        self.state.clusters[from].alive = false;
        let sample_size = self.state.params.sample_size;
        {
            let dst = &mut self.state.clusters[into];
            dst.members.extend(&src.members);
            dst.timestamps.extend(&src.timestamps);
            for (k, v) in src.langs {
                *dst.langs.entry(k).or_default() += v;
            }
            for (k, v) in src.channels {
                *dst.channels.entry(k).or_default() += v;
            }
            for (k, t) in src.replies {
                let e = dst.replies.entry(k).or_insert_with(|| ReplyTally {
                    text: t.text.clone(),
                    count: 0,
                    first: t.first,
                });
                if t.first < e.first {
                    e.text = t.text;
                    e.first = t.first;
                }
                e.count += t.count;
            }
            dst.sample.extend(src.sample);
            dst.sample.sort_by_key(|s| (s.key, s.id));
            dst.sample.truncate(sample_size);
            if dst.dense.is_empty() {
                dst.dense = src.dense;
            } else if dst.dense.len() == src.dense.len() {
                dst.dense.iter_mut().zip(&src.dense).for_each(|(d, v)| *d += v);
            }
            for k in src.bands {
                if !dst.bands.contains(&k) {
                    dst.bands.push(k);
                    self.band_postings.entry(k).or_default().push(into as u32);
                }
            }
        }
        self.add_to_centroid(into, &src.centroid);
    }

    /// Summaries of the live clusters of at least [`ClusterParams::min_size`]
    /// messages, largest first (ties: smaller id first).
    pub fn summaries(&self, now: i64) -> Vec<ClusterSummary> {
        let p = &self.state.params;
        let mut out: Vec<ClusterSummary> = self
            .state
            .clusters
            .iter()
            .enumerate()
            .filter(|(_, c)| c.alive && c.members.len() >= p.min_size.max(1))
            .map(|(slot, c)| self.summarise(slot, c, now))
            .collect();
        out.sort_by(|a, b| b.size.cmp(&a.size).then(a.id.cmp(&b.id)));
        out
    }

    fn summarise(&self, slot: usize, c: &Cluster, now: i64) -> ClusterSummary {
        let p = &self.state.params;
        let mut ranked: Vec<(f32, &Sample)> =
            c.sample.iter().map(|s| (self.similarity(slot, &s.vec, None), s)).collect();
        ranked.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.id.cmp(&b.1.id)));
        let mut examples: Vec<ClusterExample> = Vec::new();
        let mut seen_texts: Vec<String> = Vec::new();
        for (sim, s) in ranked {
            let key = reply_key(&s.text);
            if seen_texts.contains(&key) {
                continue;
            }
            seen_texts.push(key);
            examples.push(ClusterExample { id: s.id, text: s.text.clone(), similarity: sim });
            if examples.len() >= p.examples.max(1) {
                break;
            }
        }
        let label = examples.first().map(|e| shorten(&e.text, 80)).unwrap_or_default();
        let mut replies: Vec<&ReplyTally> = c.replies.values().collect();
        replies.sort_by(|a, b| b.count.cmp(&a.count).then(a.first.cmp(&b.first)));
        let (this_week, last_week) = c.timestamps.iter().fold((0, 0), |(t, l), &ts| {
            if ts > now - WEEK_SECS && ts <= now {
                (t + 1, l)
            } else if ts > now - 2 * WEEK_SECS && ts <= now - WEEK_SECS {
                (t, l + 1)
            } else {
                (t, l)
            }
        });
        ClusterSummary {
            id: c.id,
            label,
            size: c.members.len(),
            this_week,
            last_week,
            first_seen: c.timestamps.iter().copied().min().unwrap_or(0),
            last_seen: c.timestamps.iter().copied().max().unwrap_or(0),
            languages: ranked_counts(&c.langs),
            channels: ranked_counts(&c.channels),
            examples,
            replies: replies
                .into_iter()
                .take(p.replies)
                .map(|t| Counted { value: t.text.clone(), count: t.count })
                .collect(),
            members: c.members.clone(),
        }
    }
}

/// Cluster `items` in one go ([`Clusterer::from_items`]) and summarise
/// relative to `now` (unix seconds).
pub fn cluster_all(items: Vec<QuestionItem>, params: &ClusterParams, now: i64) -> Vec<ClusterSummary> {
    Clusterer::from_items(items, params).summaries(now)
}

/// A language-independent signal for an item: `intent:<label>` when
/// `model` (e.g. trained on the multilingual intent pack) names an intent
/// with at least `min_confidence`, whether or not it is out of scope.
pub fn intent_signal(model: &IntentModel, text: &str, min_confidence: f32) -> Option<String> {
    let p = model.predict(text);
    (p.confidence >= min_confidence).then(|| format!("intent:{}", p.label))
}

/// Whether the bot already answers a cluster.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Coverage {
    /// Most examples are classified as this in-scope intent with high confidence.
    Intent {
        label: String,
        share: f32,
    },
    /// Most examples retrieve this FAQ entry with a high score.
    Faq {
        id: String,
        share: f32,
    },
    NotCovered,
}

/// Thresholds of [`coverage`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CoverageParams {
    /// Calibrated confidence an example needs to count for an intent.
    pub min_confidence: f32,
    /// FAQ score an example's best hit needs to count for that entry.
    pub min_faq_score: f32,
    /// Share of the examples that must agree.
    pub min_share: f32,
}

impl Default for CoverageParams {
    fn default() -> Self {
        Self { min_confidence: 0.7, min_faq_score: 0.6, min_share: 0.6 }
    }
}

/// Does an existing intent or FAQ entry answer this cluster? The cluster's
/// examples (its most central messages) are classified and searched; an
/// intent (checked first) or entry covers the cluster when at least
/// `min_share` of them agree on it above the thresholds.
pub fn coverage(
    summary: &ClusterSummary,
    model: Option<&IntentModel>,
    faq: Option<&FaqIndex>,
    params: &CoverageParams,
) -> Coverage {
    let n = summary.examples.len();
    if n == 0 {
        return Coverage::NotCovered;
    }
    let winner = |votes: BTreeMap<String, usize>| -> Option<(String, f32)> {
        let (label, count) = votes.into_iter().max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(&a.0)))?;
        let share = count as f32 / n as f32;
        (share >= params.min_share).then_some((label, share))
    };
    if let Some(m) = model {
        let mut votes: BTreeMap<String, usize> = BTreeMap::new();
        for e in &summary.examples {
            let p = m.predict(&e.text);
            if !p.out_of_scope && p.confidence >= params.min_confidence {
                *votes.entry(p.label).or_default() += 1;
            }
        }
        if let Some((label, share)) = winner(votes) {
            return Coverage::Intent { label, share };
        }
    }
    if let Some(f) = faq {
        let mut votes: BTreeMap<String, usize> = BTreeMap::new();
        for e in &summary.examples {
            if let Some(h) = f.search(&e.text, 1).into_iter().next()
                && h.score >= params.min_faq_score
            {
                *votes.entry(h.id).or_default() += 1;
            }
        }
        if let Some((id, share)) = winner(votes) {
            return Coverage::Faq { id, share };
        }
    }
    Coverage::NotCovered
}

/// Purity of a clustering against true labels (item id → label): the share
/// of labelled items whose cluster's most common label is their own. Items
/// in no summarised cluster count as wrong.
pub fn purity(clusters: &[ClusterSummary], labels: &std::collections::HashMap<i64, String>) -> f64 {
    if labels.is_empty() {
        return 0.0;
    }
    let mut right = 0usize;
    for c in clusters {
        let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
        for id in &c.members {
            if let Some(l) = labels.get(id) {
                *counts.entry(l.as_str()).or_default() += 1;
            }
        }
        right += counts.values().copied().max().unwrap_or(0);
    }
    right as f64 / labels.len() as f64
}

fn dot(a: &Sparse, b: &Sparse) -> f32 {
    if b.len() > 8 * a.len() {
        // A short vector against a large centroid: look its features up.
        return a.iter().map(|&(f, w)| b.binary_search_by_key(&f, |e| e.0).map_or(0.0, |k| w * b[k].1)).sum();
    }
    let (mut i, mut j, mut s) = (0, 0, 0.0);
    while i < a.len() && j < b.len() {
        match a[i].0.cmp(&b[j].0) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                s += a[i].1 * b[j].1;
                i += 1;
                j += 1;
            }
        }
    }
    s
}

fn sample_key(id: i64) -> u64 {
    let mut h = FeatureHash::new(SEED_SAMPLE);
    h.push_u64(id as u64);
    h.finish()
}

/// The words of a reply after normalisation (case, accents, numbers, links
/// and e-mails as placeholders), joined by spaces.
fn reply_key(text: &str) -> String {
    let norm = normalize(text, &NormalizeOptions::default());
    tokenize(&norm).iter().map(|t| t.text).collect::<Vec<_>>().join(" ")
}

fn ranked_counts(m: &BTreeMap<String, usize>) -> Vec<Counted> {
    let mut v: Vec<Counted> = m.iter().map(|(k, &c)| Counted { value: k.clone(), count: c }).collect();
    v.sort_by(|a, b| b.count.cmp(&a.count).then(a.value.cmp(&b.value)));
    v
}

fn shorten(text: &str, max_chars: usize) -> String {
    let t = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if t.chars().count() <= max_chars {
        return t;
    }
    let mut s: String = t.chars().take(max_chars - 1).collect();
    s.push('…');
    s
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::faq::FaqEntry;

    const DAY: i64 = 24 * 3600;

    fn item(id: i64, text: &str) -> QuestionItem {
        QuestionItem::new(id, text, id * 60)
    }

    /// Questions of three kinds with varied wording, numbers and codes.
    fn traffic() -> Vec<QuestionItem> {
        let texts = [
            "where is my order 1234",
            "Where is order #9876?",
            "where is my order 5551234 please",
            "hi, where is my order 777",
            "where's my order 42 it has not arrived",
            "how do i reset my password",
            "I forgot my password, how do I reset it",
            "reset password please",
            "how can i reset the password of my account",
            "can I pay with paypal",
            "can i pay with paypal please",
            "can i pay by paypal?",
            "hello, can I pay with paypal",
        ];
        texts.iter().enumerate().map(|(i, t)| item(i as i64 + 1, t)).collect()
    }

    fn cluster_of(summaries: &[ClusterSummary], id: i64) -> i64 {
        summaries.iter().find(|s| s.members.contains(&id)).map(|s| s.id).unwrap()
    }

    #[test]
    fn order_numbers_and_codes_do_not_split_a_question() {
        let items = vec![
            item(1, "where is order 1234"),
            item(2, "where is order 9876"),
            item(3, "where is order LX123456789CN"),
            item(4, "where is order #55"),
            item(5, "how do i reset my password"),
        ];
        let s = cluster_all(items, &ClusterParams::default(), 0);
        let c = cluster_of(&s, 1);
        assert!([2, 3, 4].iter().all(|&id| cluster_of(&s, id) == c), "{s:#?}");
        assert_ne!(cluster_of(&s, 5), c);
        assert_eq!(s.len(), 2);
    }

    #[test]
    fn three_questions_make_three_clusters() {
        // Few messages: the default attaches only to clusters of five.
        let default = cluster_all(traffic(), &ClusterParams::default(), 0);
        assert!(default.len() > 3);
        let params = ClusterParams { attach_below: 2, ..ClusterParams::default() };
        let s = cluster_all(traffic(), &params, 0);
        let sizes: Vec<usize> = s.iter().map(|c| c.size).collect();
        assert_eq!(sizes, [5, 4, 4], "{s:#?}");
        assert_eq!(cluster_of(&s, 1), cluster_of(&s, 5));
        assert_eq!(cluster_of(&s, 6), cluster_of(&s, 9));
        assert_eq!(cluster_of(&s, 10), cluster_of(&s, 13));
        // The label is the most central example, and examples are distinct.
        let orders = s.iter().find(|c| c.members.contains(&1)).unwrap();
        assert!(orders.label.to_lowercase().contains("where"), "{}", orders.label);
        assert_eq!(orders.examples.len(), 5);
        assert!(orders.examples.windows(2).all(|w| w[0].similarity >= w[1].similarity));
    }

    #[test]
    fn incremental_adding_then_consolidating_equals_cluster_all() {
        let mut items = traffic();
        // Timestamps out of id order: cluster_all sorts by (timestamp, id).
        for (i, it) in items.iter_mut().enumerate() {
            it.timestamp = ((i as i64 * 7) % 5) * DAY;
        }
        let batch = cluster_all(items.clone(), &ClusterParams::default(), 5 * DAY);
        let mut sorted = items.clone();
        sorted.sort_by_key(|i| (i.timestamp, i.id));
        let mut c = Clusterer::new(ClusterParams::default());
        for it in &sorted {
            c.observe(&it.text);
        }
        for it in sorted.clone() {
            c.add(it).unwrap();
        }
        c.consolidate();
        c.refine(&sorted).unwrap();
        assert_eq!(c.summaries(5 * DAY), batch);
        assert_eq!(c.len(), items.len());
        assert_eq!(c.cluster_count(), batch.len());
    }

    #[test]
    fn state_round_trip_keeps_clustering_the_same() {
        let items = traffic();
        let (first, second) = items.split_at(7);
        let mut a = Clusterer::new(ClusterParams::default());
        a.add_all(first.to_vec()).unwrap();
        let mut b = Clusterer::from_json(&a.to_json().unwrap()).unwrap();
        let ids_a = a.add_all(second.to_vec()).unwrap();
        let ids_b = b.add_all(second.to_vec()).unwrap();
        assert_eq!(ids_a, ids_b);
        assert_eq!(a.summaries(0), b.summaries(0));
        assert!(Clusterer::from_json(b"{").is_err());
        let json = String::from_utf8(b.to_json().unwrap()).unwrap();
        let other = json.replacen(&format!("\"version\":{STATE_VERSION}"), "\"version\":999", 1);
        assert_ne!(json, other);
        assert!(Clusterer::from_json(other.as_bytes()).is_err());
    }

    #[test]
    fn a_batch_clusterer_goes_on_incrementally() {
        let params = ClusterParams { attach_below: 2, ..ClusterParams::default() };
        let mut c = Clusterer::from_items(traffic(), &params);
        let before = c.summaries(0);
        let orders = cluster_of(&before, 1);
        assert_eq!(c.add(item(100, "where is my order 31337")).unwrap(), orders);
        let passwords = cluster_of(&before, 6);
        assert_eq!(c.add(item(101, "how can I reset my password")).unwrap(), passwords);
        let new = c.add(item(102, "do you ship to iceland")).unwrap();
        assert_eq!(new, 102);
        let after = c.summaries(0);
        assert_eq!(after.len(), before.len() + 1);
        assert_eq!(c.len(), 16);
    }

    #[test]
    fn trend_counts_this_week_and_last() {
        let now = 100 * DAY;
        let times = [now, now - DAY, now - 7 * DAY + 1, now - 7 * DAY, now - 13 * DAY, now - 20 * DAY, now + DAY];
        let items: Vec<QuestionItem> = times
            .iter()
            .enumerate()
            .map(|(i, &t)| QuestionItem::new(i as i64, format!("where is my order {i}"), t))
            .collect();
        let s = cluster_all(items, &ClusterParams::default(), now);
        assert_eq!(s.len(), 1);
        assert_eq!((s[0].size, s[0].this_week, s[0].last_week), (7, 3, 2));
        assert_eq!((s[0].first_seen, s[0].last_seen), (now - 20 * DAY, now + DAY));
    }

    #[test]
    fn replies_languages_and_channels_are_ranked() {
        let replies = [
            Some("Your order 123 ships tomorrow."),
            Some("your order 456 ships tomorrow"),
            Some("Sorry, we are looking into it."),
            Some("Your  order 789 ships TOMORROW!"),
            None,
        ];
        let items: Vec<QuestionItem> = replies
            .iter()
            .enumerate()
            .map(|(i, r)| {
                let mut it = item(i as i64, &format!("where is my order {}", 100 + i))
                    .with_lang(if i < 3 { "en" } else { "es" })
                    .with_channel(if i == 0 { "email" } else { "whatsapp" });
                it.agent_reply = r.map(str::to_owned);
                it
            })
            .collect();
        let s = cluster_all(items, &ClusterParams::default(), 0);
        assert_eq!(s.len(), 1);
        let r = &s[0].replies;
        assert_eq!(r.len(), 2);
        assert_eq!((r[0].value.as_str(), r[0].count), ("Your order 123 ships tomorrow.", 3));
        assert_eq!(r[1].count, 1);
        assert_eq!(
            s[0].languages,
            [Counted { value: "en".into(), count: 3 }, Counted { value: "es".into(), count: 2 }]
        );
        assert_eq!(s[0].channels[0], Counted { value: "whatsapp".into(), count: 4 });
    }

    #[test]
    fn signals_bring_languages_together() {
        let items = || {
            vec![
                item(1, "where is my order"),
                item(2, "dónde está mi pedido"),
                item(3, "wo ist meine bestellung"),
                item(4, "how do i reset my password"),
            ]
        };
        let plain = cluster_all(items(), &ClusterParams::default(), 0);
        assert_eq!(plain.len(), 4);
        let tagged: Vec<QuestionItem> = items()
            .into_iter()
            .map(|it| {
                let sig = if it.id == 4 { "intent:account" } else { "intent:order_status" };
                it.with_signal(sig)
            })
            .collect();
        let s = cluster_all(tagged, &ClusterParams::default(), 0);
        assert_eq!(s.len(), 2, "{s:#?}");
        assert_eq!(s[0].size, 3);
    }

    /// A toy embedder that knows a few translations.
    struct Dictionary;

    impl Embedder for Dictionary {
        fn name(&self) -> &str {
            "dictionary"
        }
        fn dimension(&self) -> usize {
            3
        }
        fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, NluError> {
            Ok(texts
                .iter()
                .map(|t| {
                    let t = t.to_lowercase();
                    let has = |ws: &[&str]| f32::from(u8::from(ws.iter().any(|w| t.contains(w))));
                    vec![has(&["order", "pedido", "bestellung"]), has(&["password", "contraseña", "passwort"]), 0.01]
                })
                .collect())
        }
    }

    #[test]
    fn an_embedder_groups_translations() {
        let params = ClusterParams { embedding_weight: 0.7, ..ClusterParams::default() };
        let mut c = Clusterer::new(params).with_embedder(Arc::new(Dictionary));
        c.build(vec![
            item(1, "where is my order"),
            item(2, "dónde está mi pedido"),
            item(3, "wo ist meine bestellung"),
            item(4, "how do i reset my password"),
            item(5, "olvidé mi contraseña"),
        ])
        .unwrap();
        let s = c.summaries(0);
        assert_eq!(s.iter().map(|c| c.size).collect::<Vec<_>>(), [3, 2], "{s:#?}");
        assert_eq!(cluster_of(&s, 4), cluster_of(&s, 5));
    }

    #[test]
    fn min_size_hides_small_clusters() {
        let params = ClusterParams { min_size: 2, ..ClusterParams::default() };
        let mut items = traffic();
        items.push(item(99, "do you ship to iceland"));
        let s = cluster_all(items, &params, 0);
        assert_eq!(s.len(), 3);
        assert!(s.iter().all(|c| !c.members.contains(&99)));
    }

    #[test]
    fn purity_counts_the_majority_label() {
        let s = cluster_all(traffic(), &ClusterParams::default(), 0);
        let mut labels: std::collections::HashMap<i64, String> = (1..=13)
            .map(|i| {
                (
                    i,
                    if i <= 5 {
                        "order"
                    } else if i <= 9 {
                        "password"
                    } else {
                        "paypal"
                    }
                    .to_owned(),
                )
            })
            .collect();
        assert!((purity(&s, &labels) - 1.0).abs() < 1e-9);
        labels.insert(1, "other".into());
        assert!((purity(&s, &labels) - 12.0 / 13.0).abs() < 1e-9);
    }

    #[test]
    fn coverage_by_intent_and_faq() {
        let pack = crate::pack::ecommerce_pack().unwrap();
        let config = crate::classifier::TrainConfig { calibrate: false, ..Default::default() };
        let model = pack.train(&config).unwrap();
        let s = cluster_all(traffic(), &ClusterParams::default(), 0);
        let orders = s.iter().find(|c| c.members.contains(&1)).unwrap();
        let paypal = s.iter().find(|c| c.members.contains(&10)).unwrap();
        let lenient = CoverageParams { min_confidence: 0.0, ..CoverageParams::default() };
        match coverage(orders, Some(&model), None, &lenient) {
            Coverage::Intent { label, share } => {
                assert_eq!(label, "order_status");
                assert!(share >= 0.6);
            }
            other => panic!("{other:?}"),
        }
        let faq = FaqIndex::new(vec![FaqEntry {
            id: "payment-methods".into(),
            questions: vec!["Can I pay with PayPal?".into(), "Which payment methods do you accept?".into()],
            answer: "Yes, PayPal and cards.".into(),
            lang: None,
        }]);
        let impossible = CoverageParams { min_confidence: 1.1, ..CoverageParams::default() };
        match coverage(paypal, Some(&model), Some(&faq), &impossible) {
            Coverage::Faq { id, .. } => assert_eq!(id, "payment-methods"),
            other => panic!("{other:?}"),
        }
        let passwords = s.iter().find(|c| c.members.contains(&6)).unwrap();
        assert_eq!(coverage(passwords, None, Some(&faq), &CoverageParams::default()), Coverage::NotCovered);
    }
}
