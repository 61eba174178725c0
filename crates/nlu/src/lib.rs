//! Natural-language understanding for Ferry, in pure Rust with no server
//! code and no IO beyond explicit load/save functions: language detection,
//! normalisation and tokenisation, intent classification with calibrated
//! confidence and out-of-scope detection, FAQ retrieval, entity extraction,
//! an embedding back-end trait, evaluation, and the default e-commerce
//! intent pack.

pub mod classifier;
pub mod dataset;
pub mod embed;
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
pub use dataset::{Example, Fields, load_examples};
pub use embed::{Embedder, NoEmbedder};
pub use entities::{Carrier, Entity, EntityConfig, EntityExtractor, EntityValue};
pub use error::NluError;
pub use eval::{EvalOptions, EvalReport, evaluate, evaluate_examples};
pub use faq::{FaqEntry, FaqHit, FaqIndex};
pub use lang::{DetectedLanguage, DetectionMethod, LanguageDetector};
pub use pack::{IntentPack, PackIntent, ecommerce_pack};
