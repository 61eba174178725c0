//! The seam for sentence-embedding back-ends. A model (for example a
//! sentence-transformers network run with candle) can implement
//! [`Embedder`] in a crate or behind a cargo feature of its own; nothing
//! here loads or downloads weights. [`NoEmbedder`] is the default and
//! reports that no back-end is configured, and [`EmbeddingIndex`] gives
//! nearest-neighbour search over any implementation.

use crate::error::NluError;

/// Turns texts into fixed-size vectors.
pub trait Embedder: Send + Sync {
    /// Short name of the back-end and model, for logs and model metadata.
    fn name(&self) -> &str;
    /// Length of every vector returned by [`Embedder::embed`].
    fn dimension(&self) -> usize;
    /// One vector per text, in order.
    fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, NluError>;
}

/// The default back-end: embedding is not configured.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoEmbedder;

impl Embedder for NoEmbedder {
    fn name(&self) -> &str {
        "none"
    }

    fn dimension(&self) -> usize {
        0
    }

    fn embed(&self, _texts: &[&str]) -> Result<Vec<Vec<f32>>, NluError> {
        Err(NluError::EmbedderNotConfigured)
    }
}

/// Cosine similarity (0 when either vector is zero or lengths differ).
pub fn cosine(a: &[f32], b: &[f32]) -> f32 {
    if a.len() != b.len() {
        return 0.0;
    }
    let dot: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let na: f32 = a.iter().map(|x| x * x).sum::<f32>().sqrt();
    let nb: f32 = b.iter().map(|x| x * x).sum::<f32>().sqrt();
    if na == 0.0 || nb == 0.0 { 0.0 } else { dot / (na * nb) }
}

/// Brute-force nearest neighbours over embedded texts.
pub struct EmbeddingIndex<E: Embedder> {
    embedder: E,
    ids: Vec<String>,
    vectors: Vec<Vec<f32>>,
}

impl<E: Embedder> EmbeddingIndex<E> {
    /// Embed `(id, text)` pairs.
    pub fn build(embedder: E, items: &[(String, String)]) -> Result<Self, NluError> {
        let texts: Vec<&str> = items.iter().map(|(_, t)| t.as_str()).collect();
        let vectors = if texts.is_empty() { Vec::new() } else { embedder.embed(&texts)? };
        if vectors.len() != items.len() || vectors.iter().any(|v| v.len() != embedder.dimension()) {
            return Err(NluError::Config(format!(
                "embedder {} returned vectors of the wrong number or size",
                embedder.name()
            )));
        }
        Ok(Self { embedder, ids: items.iter().map(|(id, _)| id.clone()).collect(), vectors })
    }

    /// The `k` most similar ids with their cosine similarity, best first.
    pub fn search(&self, query: &str, k: usize) -> Result<Vec<(String, f32)>, NluError> {
        let q = self
            .embedder
            .embed(&[query])?
            .into_iter()
            .next()
            .ok_or_else(|| NluError::Config("embedder returned nothing".into()))?;
        let mut scored: Vec<(String, f32)> =
            self.ids.iter().zip(&self.vectors).map(|(id, v)| (id.clone(), cosine(&q, v))).collect();
        scored.sort_by(|a, b| b.1.total_cmp(&a.1));
        scored.truncate(k);
        Ok(scored)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    /// A toy back-end: counts of a few letters.
    struct Letters;

    impl Embedder for Letters {
        fn name(&self) -> &str {
            "letters"
        }
        fn dimension(&self) -> usize {
            3
        }
        fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, NluError> {
            Ok(texts.iter().map(|t| ['a', 'b', 'c'].iter().map(|c| t.matches(*c).count() as f32).collect()).collect())
        }
    }

    #[test]
    fn no_embedder_reports_not_configured() {
        assert!(matches!(NoEmbedder.embed(&["x"]), Err(NluError::EmbedderNotConfigured)));
        assert!(EmbeddingIndex::build(NoEmbedder, &[("a".into(), "x".into())]).is_err());
    }

    #[test]
    fn index_over_a_custom_backend() {
        let items = vec![("aa".to_owned(), "aaaa".to_owned()), ("bb".to_owned(), "bbbb".to_owned())];
        let idx = EmbeddingIndex::build(Letters, &items).unwrap();
        let hits = idx.search("ab b", 2).unwrap();
        assert_eq!(hits[0].0, "bb");
        assert!((cosine(&[1.0, 0.0], &[2.0, 0.0]) - 1.0).abs() < 1e-6);
        assert_eq!(cosine(&[1.0], &[1.0, 2.0]), 0.0);
    }
}
