//! Loading labelled examples from CSV (header row, other columns ignored),
//! JSON Lines, or a JSON array of objects.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::NluError;

/// One labelled training or test message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Example {
    pub text: String,
    pub label: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lang: Option<String>,
}

impl Example {
    pub fn new(text: impl Into<String>, label: impl Into<String>) -> Self {
        Self { text: text.into(), label: label.into(), lang: None }
    }
}

/// Which fields of a data file hold the text, the label and the language.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fields {
    pub text: String,
    pub label: String,
    pub lang: Option<String>,
}

impl Default for Fields {
    fn default() -> Self {
        Self { text: "text".into(), label: "intent".into(), lang: None }
    }
}

/// Load examples from `path`: `.csv`/`.tsv` by header names, `.json` as an
/// array of objects, anything else as JSON Lines.
pub fn load_examples(path: &Path, fields: &Fields) -> Result<Vec<Example>, NluError> {
    let data = std::fs::read_to_string(path).map_err(|e| NluError::io(path, e))?;
    let what = path.display().to_string();
    let ext = path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase).unwrap_or_default();
    match ext.as_str() {
        "csv" => parse_csv(&data, b',', fields, &what),
        "tsv" => parse_csv(&data, b'\t', fields, &what),
        "json" => parse_json_array(&data, fields, &what),
        _ => parse_jsonl(&data, fields, &what),
    }
}

/// Parse CSV text with a header row.
pub fn parse_csv(data: &str, delimiter: u8, fields: &Fields, what: &str) -> Result<Vec<Example>, NluError> {
    let mut reader = csv::ReaderBuilder::new().delimiter(delimiter).flexible(true).from_reader(data.as_bytes());
    let headers = reader.headers().map_err(|e| NluError::parse(what, e))?.clone();
    let col = |name: &str| headers.iter().position(|h| h.trim() == name);
    let text_col =
        col(&fields.text).ok_or_else(|| NluError::parse(what, format!("no column named {:?}", fields.text)))?;
    let label_col =
        col(&fields.label).ok_or_else(|| NluError::parse(what, format!("no column named {:?}", fields.label)))?;
    let lang_col = match &fields.lang {
        Some(l) => Some(col(l).ok_or_else(|| NluError::parse(what, format!("no column named {l:?}")))?),
        None => None,
    };
    let mut out = Vec::new();
    for (i, rec) in reader.records().enumerate() {
        let rec = rec.map_err(|e| NluError::parse(what, format!("record {}: {e}", i + 1)))?;
        let text = rec.get(text_col).unwrap_or("").to_owned();
        let label = rec.get(label_col).unwrap_or("").to_owned();
        if label.is_empty() {
            return Err(NluError::parse(what, format!("record {} has an empty label", i + 1)));
        }
        let lang = lang_col.and_then(|c| rec.get(c)).map(str::to_owned);
        out.push(Example { text, label, lang });
    }
    Ok(out)
}

fn from_value(v: &serde_json::Value, fields: &Fields, what: &str, line: usize) -> Result<Example, NluError> {
    let get = |name: &str| -> Result<String, NluError> {
        match v.get(name) {
            Some(serde_json::Value::String(s)) => Ok(s.clone()),
            Some(serde_json::Value::Null) | None => {
                Err(NluError::parse(what, format!("entry {line}: missing field {name:?}")))
            }
            Some(other) => Ok(other.to_string()),
        }
    };
    Ok(Example {
        text: get(&fields.text)?,
        label: get(&fields.label)?,
        lang: match &fields.lang {
            Some(l) => Some(get(l)?),
            None => None,
        },
    })
}

/// Parse JSON Lines (blank lines are skipped).
pub fn parse_jsonl(data: &str, fields: &Fields, what: &str) -> Result<Vec<Example>, NluError> {
    let mut out = Vec::new();
    for (i, line) in data.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let v: serde_json::Value =
            serde_json::from_str(line).map_err(|e| NluError::parse(what, format!("line {}: {e}", i + 1)))?;
        out.push(from_value(&v, fields, what, i + 1)?);
    }
    Ok(out)
}

/// Parse a JSON array of objects.
pub fn parse_json_array(data: &str, fields: &Fields, what: &str) -> Result<Vec<Example>, NluError> {
    let v: Vec<serde_json::Value> = serde_json::from_str(data).map_err(|e| NluError::parse(what, e))?;
    v.iter().enumerate().map(|(i, v)| from_value(v, fields, what, i + 1)).collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn csv_with_extra_columns_and_quotes() {
        let data = "id,text,intent,note\n1,\"hello, there\",greeting,x\n2,where is it,track_order,\n";
        let ex = parse_csv(data, b',', &Fields::default(), "t").unwrap();
        assert_eq!(ex, vec![Example::new("hello, there", "greeting"), Example::new("where is it", "track_order")]);
        let bad = Fields { text: "body".into(), ..Fields::default() };
        assert!(parse_csv(data, b',', &bad, "t").is_err());
    }

    #[test]
    fn jsonl_with_custom_fields_and_lang() {
        let data =
            "{\"q\":\"hola\",\"y\":\"greet\",\"lang\":\"es\"}\n\n{\"q\":\"adios\",\"y\":\"bye\",\"lang\":\"es\"}\n";
        let f = Fields { text: "q".into(), label: "y".into(), lang: Some("lang".into()) };
        let ex = parse_jsonl(data, &f, "t").unwrap();
        assert_eq!(ex.len(), 2);
        assert_eq!(ex[1].lang.as_deref(), Some("es"));
        assert!(parse_jsonl("{\"q\":1}\n", &f, "t").is_err());
        assert!(parse_jsonl("not json\n", &f, "t").is_err());
    }

    #[test]
    fn json_array() {
        let ex = parse_json_array(r#"[{"text":"a","intent":"x"}]"#, &Fields::default(), "t").unwrap();
        assert_eq!(ex, vec![Example::new("a", "x")]);
    }
}
