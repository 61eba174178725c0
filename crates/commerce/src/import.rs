//! Orders and products from files, for shops on platforms Ferry has no
//! connector for: CSV (one row per order line, the layout of Shopify's own
//! order and product exports and of most spreadsheets) or JSON (an array of
//! records, an object holding one under `orders` / `products`, or one record
//! per line).
//!
//! Parsing never stops at a bad row: every row is either turned into mirror
//! writes or reported with its line, column, value and reason. An order is
//! taken whole or not at all, so one bad line rejects its order (and says
//! so on each of its lines). Only a file that cannot be read as CSV or JSON
//! at all, or lacks a required column, is an [`ImportError`].
//!
//! Records get the file's `updated_at` when it has one and the import time
//! otherwise, so importing a corrected file again replaces what it names.

use crate::model::{Address, Fulfillment, InventoryLevel, LineItem, MirrorWrite, Order, Product, Variant};
use crate::money::parse_minor;
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// The location id given to stock levels read from files.
pub const IMPORT_LOCATION: &str = "import";

/// What a file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ImportKind {
    /// Orders, one row per order line.
    Orders,
    /// Products, one row per variant.
    Products,
}

impl ImportKind {
    /// Stable name.
    pub fn as_str(self) -> &'static str {
        match self {
            ImportKind::Orders => "orders",
            ImportKind::Products => "products",
        }
    }
}

/// How a file is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ImportFormat {
    /// Comma-separated with a header line.
    Csv,
    /// A JSON array, an object with the array under the kind's name, or
    /// one JSON object per line.
    Json,
}

impl ImportFormat {
    /// Guesses the format from a file name (`.csv`, `.json`, `.jsonl`,
    /// `.ndjson`).
    pub fn from_path(path: &str) -> Option<Self> {
        let lower = path.to_ascii_lowercase();
        if lower.ends_with(".csv") {
            Some(ImportFormat::Csv)
        } else if lower.ends_with(".json") || lower.ends_with(".jsonl") || lower.ends_with(".ndjson") {
            Some(ImportFormat::Json)
        } else {
            None
        }
    }

    /// Guesses the format from the first non-blank byte.
    pub fn sniff(bytes: &[u8]) -> Self {
        match bytes.iter().copied().find(|b| !b.is_ascii_whitespace() && *b != 0xEF && *b != 0xBB && *b != 0xBF) {
            Some(b'[' | b'{') => ImportFormat::Json,
            _ => ImportFormat::Csv,
        }
    }

    /// Parses a name (`csv`, `json`).
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "csv" => Some(ImportFormat::Csv),
            "json" | "jsonl" | "ndjson" => Some(ImportFormat::Json),
            _ => None,
        }
    }
}

/// Defaults for what rows leave out.
#[derive(Debug, Clone, Default)]
pub struct ImportDefaults {
    /// Currency of rows without one (ISO 4217).
    pub currency: Option<String>,
    /// Region for phone numbers written without `+` (ISO 3166 alpha-2);
    /// the shipping country is tried first.
    pub region: Option<String>,
}

/// A row that was not imported.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RejectedRow {
    /// CSV: the line of the file (the header is line 1). JSON: the
    /// record's position (1-based; with line items, the item's).
    pub line: usize,
    /// The order number or product handle / SKU the row belongs to.
    pub key: Option<String>,
    /// The column at fault, when one is.
    pub column: Option<String>,
    /// Its value (shortened).
    pub value: Option<String>,
    /// Why.
    pub reason: String,
}

/// A parsed file.
#[derive(Debug, Clone, Default)]
pub struct ImportBatch {
    /// Mirror writes of the accepted records.
    pub writes: Vec<MirrorWrite>,
    /// Data rows read.
    pub rows: usize,
    /// Orders or products accepted.
    pub accepted: usize,
    /// Rows not imported, in file order.
    pub rejected: Vec<RejectedRow>,
    /// Columns Ferry does not read.
    pub ignored_columns: Vec<String>,
}

/// A file that cannot be imported at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImportError {
    /// Not text.
    #[error("the file is not UTF-8 text")]
    NotUtf8,
    /// Nothing in it.
    #[error("the file holds no rows")]
    Empty,
    /// Broken CSV.
    #[error("the file is not valid CSV (line {line}): {message}")]
    Csv {
        /// Line.
        line: usize,
        /// What the reader said.
        message: String,
    },
    /// Broken JSON.
    #[error("the file is not valid JSON: {0}")]
    Json(String),
    /// A column every row needs is missing.
    #[error("the file has no {column} column (accepted names: {accepted})")]
    MissingColumn {
        /// The column.
        column: &'static str,
        /// Header names read as it.
        accepted: String,
    },
}

/// Canonical columns and the header names read as each (compared after
/// lower-casing and turning every run of other characters into `_`).
const ORDER_COLUMNS: &[(&str, &[&str])] = &[
    ("number", &["number", "order_number", "order", "order_no", "name", "order_name", "order_id"]),
    ("email", &["email", "customer_email", "buyer_email"]),
    ("phone", &["phone", "customer_phone", "buyer_phone", "billing_phone"]),
    ("customer_name", &["customer_name", "customer", "buyer_name", "billing_name"]),
    ("created_at", &["created_at", "placed_at", "order_date", "date", "purchase_date"]),
    ("updated_at", &["updated_at", "modified_at", "last_updated"]),
    ("currency", &["currency", "currency_code"]),
    ("financial_status", &["financial_status", "payment_status"]),
    ("fulfillment_status", &["fulfillment_status", "fulfilment_status"]),
    ("cancelled_at", &["cancelled_at", "canceled_at"]),
    ("cancel_reason", &["cancel_reason", "cancellation_reason"]),
    ("total", &["total", "total_price", "order_total", "grand_total"]),
    ("shipping_name", &["shipping_name", "ship_to_name", "recipient"]),
    ("shipping_address1", &["shipping_address1", "shipping_street", "shipping_address", "ship_address1"]),
    ("shipping_address2", &["shipping_address2", "ship_address2"]),
    ("shipping_city", &["shipping_city", "ship_city"]),
    ("shipping_province", &["shipping_province", "shipping_state", "shipping_province_code", "ship_state"]),
    ("shipping_zip", &["shipping_zip", "shipping_postcode", "shipping_postal_code", "ship_postal_code"]),
    ("shipping_country", &["shipping_country", "shipping_country_code", "ship_country"]),
    ("shipping_phone", &["shipping_phone", "ship_phone"]),
    ("sku", &["lineitem_sku", "sku", "line_sku", "item_sku"]),
    ("title", &["lineitem_name", "product_title", "title", "item", "item_name", "product", "product_name"]),
    ("variant_title", &["variant_title", "lineitem_variant", "variant"]),
    ("quantity", &["lineitem_quantity", "quantity", "qty", "quantity_purchased"]),
    ("price", &["lineitem_price", "price", "unit_price", "item_price"]),
    ("carrier", &["carrier", "tracking_company", "shipping_carrier"]),
    ("tracking_number", &["tracking_number", "tracking", "tracking_no"]),
    ("tracking_url", &["tracking_url", "tracking_link"]),
    ("shipment_status", &["shipment_status", "delivery_status"]),
    ("shipped_at", &["shipped_at", "fulfilled_at", "ship_date"]),
    (
        "estimated_delivery_at",
        &["estimated_delivery_at", "estimated_delivery", "promised_delivery", "delivery_promise"],
    ),
];

const PRODUCT_COLUMNS: &[(&str, &[&str])] = &[
    ("handle", &["handle", "product_id", "product_handle", "parent_sku"]),
    ("title", &["title", "product_title", "name", "product_name"]),
    ("status", &["status", "product_status"]),
    ("sku", &["variant_sku", "sku", "seller_sku"]),
    ("variant_title", &["variant_title", "option1_value", "variant", "option"]),
    ("price", &["variant_price", "price"]),
    ("stock", &["variant_inventory_qty", "stock", "inventory", "inventory_quantity", "quantity", "qty", "available"]),
    ("updated_at", &["updated_at", "modified_at", "last_updated"]),
];

const FINANCIAL: &[&str] =
    &["pending", "authorized", "partially_paid", "paid", "partially_refunded", "refunded", "voided", "expired"];
const FULFILLMENT: &[&str] = &["fulfilled", "partial", "unfulfilled", "restocked"];
const SHIPMENT: &[&str] = &[
    "label_printed",
    "label_purchased",
    "attempted_delivery",
    "ready_for_pickup",
    "picked_up",
    "confirmed",
    "in_transit",
    "out_for_delivery",
    "delivered",
    "failure",
];
const PRODUCT_STATUS: &[&str] = &["active", "draft", "archived"];

/// Reads a file of `kind` in `format`; `now` stamps records without an
/// `updated_at`.
pub fn parse(
    kind: ImportKind,
    format: ImportFormat,
    bytes: &[u8],
    defaults: &ImportDefaults,
    now: DateTime<Utc>,
) -> Result<ImportBatch, ImportError> {
    let text = std::str::from_utf8(bytes).map_err(|_| ImportError::NotUtf8)?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let columns = match kind {
        ImportKind::Orders => ORDER_COLUMNS,
        ImportKind::Products => PRODUCT_COLUMNS,
    };
    let table = match format {
        ImportFormat::Csv => csv_rows(text, columns)?,
        ImportFormat::Json => json_rows(kind, text, columns)?,
    };
    if table.rows.is_empty() {
        return Err(ImportError::Empty);
    }
    let required = match kind {
        ImportKind::Orders => "number",
        ImportKind::Products => "sku",
    };
    if format == ImportFormat::Csv && !table.present.contains(required) {
        return Err(missing(columns, required));
    }
    let mut batch = match kind {
        ImportKind::Orders => orders(&table.rows, defaults, now),
        ImportKind::Products => products(&table.rows, now),
    };
    batch.rows = table.rows.len();
    batch.ignored_columns = table.ignored;
    Ok(batch)
}

fn missing(columns: &[(&'static str, &[&str])], column: &'static str) -> ImportError {
    let accepted = columns.iter().find(|(c, _)| *c == column).map(|(_, a)| a.join(", ")).unwrap_or_default();
    ImportError::MissingColumn { column, accepted }
}

/// One data row: its line and its cells under canonical names (blank cells
/// left out).
#[derive(Debug, Clone)]
struct Row {
    line: usize,
    cells: HashMap<&'static str, String>,
}

impl Row {
    fn get(&self, column: &str) -> Option<&str> {
        self.cells.get(column).map(String::as_str)
    }
}

struct Table {
    rows: Vec<Row>,
    present: BTreeSet<&'static str>,
    ignored: Vec<String>,
}

fn header_key(h: &str) -> String {
    let mut out = String::new();
    for c in h.trim().chars() {
        if c.is_alphanumeric() {
            out.extend(c.to_lowercase());
        } else if !out.ends_with('_') {
            out.push('_');
        }
    }
    out.trim_matches('_').to_owned()
}

fn canonical(columns: &[(&'static str, &[&str])], key: &str) -> Option<&'static str> {
    columns.iter().find(|(_, names)| names.contains(&key)).map(|(c, _)| *c)
}

fn csv_rows(text: &str, columns: &[(&'static str, &[&str])]) -> Result<Table, ImportError> {
    let mut reader = csv::ReaderBuilder::new().flexible(true).trim(csv::Trim::All).from_reader(text.as_bytes());
    let headers = reader.headers().map_err(|e| csv_error(&e))?.clone();
    let mut map: Vec<Option<&'static str>> = Vec::new();
    let mut present = BTreeSet::new();
    let mut ignored = Vec::new();
    for h in headers.iter() {
        let c = canonical(columns, &header_key(h)).filter(|c| present.insert(*c));
        if c.is_none() && !h.trim().is_empty() {
            ignored.push(h.trim().to_owned());
        }
        map.push(c);
    }
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| csv_error(&e))?;
        let line = record.position().map_or(0, |p| p.line() as usize);
        if record.len() > headers.len() {
            // An unquoted comma would shift every later column: refuse
            // rather than guess. (Fewer cells are blanks at the end.)
            let reason = format!(
                "has {} fields where the header has {} (quote values that contain commas)",
                record.len(),
                headers.len()
            );
            rows.push(Row { line, cells: HashMap::from([("__invalid", reason)]) });
            continue;
        }
        let mut cells = HashMap::new();
        for (i, v) in record.iter().enumerate() {
            if let Some(Some(c)) = map.get(i)
                && !v.is_empty()
            {
                cells.insert(*c, v.to_owned());
            }
        }
        if !cells.is_empty() {
            rows.push(Row { line, cells });
        }
    }
    Ok(Table { rows, present, ignored })
}

fn csv_error(e: &csv::Error) -> ImportError {
    let line = e.position().map_or(0, |p| p.line() as usize);
    let message = match e.kind() {
        csv::ErrorKind::UnequalLengths { expected_len, len, .. } => {
            format!("{len} fields where the header has {expected_len}")
        }
        csv::ErrorKind::Utf8 { .. } => "not UTF-8 text".to_owned(),
        _ => e.to_string(),
    };
    ImportError::Csv { line, message }
}

fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.trim().to_owned()).filter(|s| !s.is_empty()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn json_rows(kind: ImportKind, text: &str, columns: &[(&'static str, &[&str])]) -> Result<Table, ImportError> {
    let records: Vec<Value> = match serde_json::from_str::<Value>(text) {
        Ok(Value::Array(items)) => items,
        Ok(Value::Object(mut o)) => match o.remove(kind.as_str()) {
            Some(Value::Array(items)) => items,
            Some(_) => return Err(ImportError::Json(format!("`{}` is not an array", kind.as_str()))),
            None => vec![Value::Object(o)],
        },
        Ok(_) => return Err(ImportError::Json(format!("expected an array of {}", kind.as_str()))),
        Err(whole) => {
            // One record per line.
            let mut items = Vec::new();
            for (i, l) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
                items.push(serde_json::from_str(l).map_err(|e| {
                    if i == 0 {
                        ImportError::Json(whole.to_string())
                    } else {
                        ImportError::Json(format!("line {}: {e}", i + 1))
                    }
                })?);
            }
            items
        }
    };
    let mut rows = Vec::new();
    let mut present = BTreeSet::new();
    let mut ignored = BTreeSet::new();
    for (i, record) in records.iter().enumerate() {
        let line = i + 1;
        let Value::Object(fields) = record else {
            rows.push(Row { line, cells: HashMap::from([("__invalid", "not an object".to_owned())]) });
            continue;
        };
        let mut base = HashMap::new();
        let mut items: Vec<&serde_json::Map<String, Value>> = Vec::new();
        for (k, v) in fields {
            let key = header_key(k);
            match (key.as_str(), v) {
                ("line_items" | "items" | "lines" | "variants", Value::Array(list)) => {
                    items.extend(list.iter().filter_map(Value::as_object));
                }
                ("shipping_address" | "shipping", Value::Object(addr)) => {
                    for (ak, av) in addr {
                        let name = format!("shipping_{}", header_key(ak));
                        match canonical(columns, &name).or_else(|| canonical(columns, &header_key(ak))) {
                            Some(c) if c.starts_with("shipping_") => {
                                if let Some(s) = scalar(av) {
                                    base.insert(c, s);
                                }
                            }
                            _ => {
                                ignored.insert(format!("shipping_address.{ak}"));
                            }
                        }
                    }
                }
                ("fulfillment" | "shipment", Value::Object(f)) => {
                    for (fk, fv) in f {
                        match canonical(columns, &header_key(fk)) {
                            Some(c) => {
                                if let Some(s) = scalar(fv) {
                                    base.insert(c, s);
                                }
                            }
                            None => {
                                ignored.insert(format!("{k}.{fk}"));
                            }
                        }
                    }
                }
                _ => match canonical(columns, &key) {
                    Some(c) => {
                        present.insert(c);
                        if let Some(s) = scalar(v) {
                            base.insert(c, s);
                        }
                    }
                    None => {
                        ignored.insert(k.clone());
                    }
                },
            }
        }
        if items.is_empty() {
            rows.push(Row { line, cells: base });
            continue;
        }
        for item in items {
            let mut cells = base.clone();
            for (k, v) in item {
                match canonical(columns, &header_key(k)) {
                    Some(c) => {
                        if let Some(s) = scalar(v) {
                            cells.insert(c, s);
                        }
                    }
                    None => {
                        ignored.insert(format!("line_items.{k}"));
                    }
                }
            }
            rows.push(Row { line, cells });
        }
    }
    Ok(Table { rows, present, ignored: ignored.into_iter().collect() })
}

fn short(v: &str) -> String {
    if v.chars().count() <= 60 { v.to_owned() } else { format!("{}…", v.chars().take(60).collect::<String>()) }
}

/// A problem found in one cell.
struct Fault {
    column: Option<&'static str>,
    value: Option<String>,
    reason: String,
}

fn fault(column: &'static str, value: &str, reason: impl Into<String>) -> Fault {
    Fault { column: Some(column), value: Some(short(value)), reason: reason.into() }
}

/// Reads times written as RFC 3339, `2024-03-01 10:20:30 +0800` (Shopify's
/// exports), `2024-03-01 10:20:30` / `2024-03-01T10:20:30` (UTC) or
/// `2024-03-01`.
pub fn parse_time(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.with_timezone(&Utc));
    }
    for f in ["%Y-%m-%d %H:%M:%S %z", "%Y-%m-%d %H:%M %z", "%Y-%m-%dT%H:%M:%S%z"] {
        if let Ok(t) = DateTime::parse_from_str(s, f) {
            return Some(t.with_timezone(&Utc));
        }
    }
    for f in ["%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"] {
        if let Ok(t) = NaiveDateTime::parse_from_str(s, f) {
            return Some(t.and_utc());
        }
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d").ok().and_then(|d| d.and_hms_opt(0, 0, 0)).map(|t| t.and_utc())
}

fn time_cell(row: &Row, column: &'static str) -> Result<Option<DateTime<Utc>>, Fault> {
    match row.get(column) {
        None => Ok(None),
        Some(v) => parse_time(v)
            .map(Some)
            .ok_or_else(|| fault(column, v, "is not a date (use 2024-03-01, 2024-03-01 10:20:30 +0800 or RFC 3339)")),
    }
}

fn one_of(row: &Row, column: &'static str, allowed: &[&str]) -> Result<Option<String>, Fault> {
    match row.get(column) {
        None => Ok(None),
        Some(v) => {
            let norm = header_key(v);
            if allowed.contains(&norm.as_str()) {
                Ok(Some(norm))
            } else {
                Err(fault(column, v, format!("must be one of {}", allowed.join(", "))))
            }
        }
    }
}

/// Order-level cells: every line of an order may repeat them, but not
/// contradict them.
const ORDER_LEVEL: &[&str] = &[
    "email",
    "phone",
    "customer_name",
    "created_at",
    "updated_at",
    "currency",
    "financial_status",
    "fulfillment_status",
    "cancelled_at",
    "cancel_reason",
    "total",
    "shipping_name",
    "shipping_address1",
    "shipping_address2",
    "shipping_city",
    "shipping_province",
    "shipping_zip",
    "shipping_country",
    "shipping_phone",
    "carrier",
    "tracking_number",
    "tracking_url",
    "shipment_status",
    "shipped_at",
    "estimated_delivery_at",
];

fn orders(rows: &[Row], defaults: &ImportDefaults, now: DateTime<Utc>) -> ImportBatch {
    let mut batch = ImportBatch::default();
    // Orders in the order of their first row.
    let mut groups = Groups::default();
    for row in rows {
        if batch.unreadable(row) {
            continue;
        }
        let Some(number) = row.get("number").map(|n| n.trim_start_matches('#').trim().to_owned()) else {
            batch.rejected.push(RejectedRow {
                line: row.line,
                key: None,
                column: Some("number".into()),
                value: None,
                reason: "the order number is missing".into(),
            });
            continue;
        };
        if number.is_empty() || number.chars().count() > 64 {
            batch.rejected.push(RejectedRow {
                line: row.line,
                key: None,
                column: Some("number".into()),
                value: row.get("number").map(short),
                reason: "an order number has 1 to 64 characters".into(),
            });
            continue;
        }
        groups.add(number, row);
    }
    for (number, lines) in groups.list {
        batch.take(&number, "order", &lines, order(&number, &lines, defaults, now));
    }
    batch.rejected.sort_by_key(|r| r.line);
    batch
}

/// Rows grouped by record, records in the order of their first row.
#[derive(Default)]
struct Groups<'a> {
    list: Vec<(String, Vec<&'a Row>)>,
    index: HashMap<String, usize>,
}

impl<'a> Groups<'a> {
    fn add(&mut self, key: String, row: &'a Row) {
        match self.index.get(&key) {
            Some(&i) => self.list[i].1.push(row),
            None => {
                self.index.insert(key.clone(), self.list.len());
                self.list.push((key, vec![row]));
            }
        }
    }
}

impl ImportBatch {
    /// Rejects a row that was not read at all (a JSON value that is not an
    /// object, a CSV line with too many cells); true when it was one.
    fn unreadable(&mut self, row: &Row) -> bool {
        let Some(reason) = row.get("__invalid") else { return false };
        self.rejected.push(RejectedRow {
            line: row.line,
            key: None,
            column: None,
            value: None,
            reason: reason.to_owned(),
        });
        true
    }

    /// Keeps the writes of a whole record, or rejects every row of it:
    /// the faulty one with its column and reason, the others pointing at it.
    fn take(&mut self, key: &str, what: &str, rows: &[&Row], result: Result<Vec<MirrorWrite>, (usize, Fault)>) {
        match result {
            Ok(writes) => {
                self.accepted += 1;
                self.writes.extend(writes);
            }
            Err((line, f)) => {
                for row in rows {
                    let own = row.line == line;
                    self.rejected.push(RejectedRow {
                        line: row.line,
                        key: Some(key.to_owned()),
                        column: if own { f.column.map(str::to_owned) } else { None },
                        value: if own { f.value.clone() } else { None },
                        reason: if own {
                            f.reason.clone()
                        } else {
                            format!("{what} {key} was rejected because of line {line}")
                        },
                    });
                }
            }
        }
    }
}

fn order(
    number: &str,
    lines: &[&Row],
    defaults: &ImportDefaults,
    now: DateTime<Utc>,
) -> Result<Vec<MirrorWrite>, (usize, Fault)> {
    // Order-level cells from the first line that has each; a different
    // value later is a contradiction.
    let mut head: HashMap<&'static str, String> = HashMap::new();
    for row in lines {
        for (&c, v) in &row.cells {
            if !ORDER_LEVEL.contains(&c) {
                continue;
            }
            match head.get(c) {
                Some(first) if first != v => {
                    let reason =
                        format!("says {} where an earlier line of order {number} says {}", short(v), short(first));
                    return Err((row.line, fault(c, v, reason)));
                }
                Some(_) => {}
                None => {
                    head.insert(c, v.clone());
                }
            }
        }
    }
    let first_line = lines.first().map_or(0, |r| r.line);
    let line_of = |c: &str| lines.iter().find(|r| r.get(c).is_some()).map_or(first_line, |r| r.line);
    let h = Row { line: first_line, cells: head };
    let at = |c: &'static str| move |f: Fault| (line_of(c), f);

    let currency = match h.get("currency").map(str::to_owned).or_else(|| defaults.currency.clone()) {
        Some(c) if c.len() == 3 && c.chars().all(|ch| ch.is_ascii_alphabetic()) => c.to_ascii_uppercase(),
        Some(c) => return Err((line_of("currency"), fault("currency", &c, "is not an ISO 4217 code such as USD"))),
        None => {
            return Err((
                first_line,
                Fault {
                    column: Some("currency"),
                    value: None,
                    reason: "no currency (add a currency column or give a default currency)".into(),
                },
            ));
        }
    };
    let created_at = time_cell(&h, "created_at").map_err(at("created_at"))?.ok_or_else(|| {
        (first_line, Fault { column: Some("created_at"), value: None, reason: "the order date is missing".into() })
    })?;
    let updated_at = time_cell(&h, "updated_at").map_err(at("updated_at"))?.unwrap_or(now).max(created_at);
    let cancelled_at = time_cell(&h, "cancelled_at").map_err(at("cancelled_at"))?;
    let financial_status =
        one_of(&h, "financial_status", FINANCIAL).map_err(at("financial_status"))?.unwrap_or_else(|| "paid".into());
    let fulfillment_status =
        one_of(&h, "fulfillment_status", FULFILLMENT).map_err(at("fulfillment_status"))?.filter(|s| s != "unfulfilled");
    let email = match h.get("email") {
        Some(e) => match ferry_core::account::normalize_email(e) {
            Some(e) => Some(e),
            None => return Err((line_of("email"), fault("email", e, "is not an e-mail address"))),
        },
        None => None,
    };
    let country = match h.get("shipping_country") {
        Some(c) if c.len() == 2 && c.chars().all(|ch| ch.is_ascii_alphabetic()) => Some(c.to_ascii_uppercase()),
        Some(c) => {
            return Err((
                line_of("shipping_country"),
                fault("shipping_country", c, "use the two-letter country code (US, DE, FR)"),
            ));
        }
        None => None,
    };
    let region = country.clone().or_else(|| defaults.region.clone());
    let phone = match h.get("phone").or_else(|| h.get("shipping_phone")) {
        Some(p) => Some(ferry_core::contact::normalize_phone(p, region.as_deref()).map_err(|_| {
            let c = if h.get("phone").is_some() { "phone" } else { "shipping_phone" };
            (line_of(c), fault(c, p, "is not a phone number (write it with its country code, +44 …)"))
        })?),
        None => None,
    };
    let mut line_items = Vec::new();
    for (i, row) in lines.iter().enumerate() {
        let has_item = ["sku", "title", "quantity", "price"].iter().any(|c| row.get(c).is_some());
        if !has_item {
            continue;
        }
        let line = row.line;
        let quantity = match row.get("quantity") {
            None => 1,
            Some(q) => match q.parse::<i64>() {
                Ok(n) if (1..=1_000_000).contains(&n) => n,
                _ => return Err((line, fault("quantity", q, "must be a whole number from 1"))),
            },
        };
        let price_minor = match row.get("price") {
            None => 0,
            Some(p) => match parse_minor(p, &currency) {
                Some(m) if m >= 0 => m,
                _ => return Err((line, fault("price", p, format!("is not an amount in {currency}")))),
            },
        };
        let sku = row.get("sku").map(str::to_owned);
        let title = row.get("title").map(str::to_owned).or_else(|| sku.clone()).ok_or_else(|| {
            (line, Fault { column: Some("title"), value: None, reason: "a line needs a product title or SKU".into() })
        })?;
        line_items.push(LineItem {
            external_id: format!("{number}-{}", i + 1),
            product_external_id: None,
            variant_external_id: sku.clone(),
            sku,
            title,
            variant_title: row.get("variant_title").map(str::to_owned),
            quantity,
            price_minor,
        });
    }
    let total_minor = match h.get("total") {
        Some(t) => match parse_minor(t, &currency) {
            Some(m) if m >= 0 => m,
            _ => return Err((line_of("total"), fault("total", t, format!("is not an amount in {currency}")))),
        },
        None if line_items.is_empty() => {
            return Err((
                first_line,
                Fault { column: None, value: None, reason: "an order needs line items or a total".into() },
            ));
        }
        None => {
            match line_items.iter().try_fold(0i64, |sum, l| sum.checked_add(l.price_minor.checked_mul(l.quantity)?)) {
                Some(total) => total,
                None => {
                    return Err((
                        first_line,
                        Fault {
                            column: Some("price"),
                            value: None,
                            reason: "the order's lines add up to more than can be stored".into(),
                        },
                    ));
                }
            }
        }
    };
    let text = |c: &str| h.get(c).map(str::to_owned).unwrap_or_default();
    let shipping_address = (h.get("shipping_address1").is_some()
        || h.get("shipping_city").is_some()
        || country.is_some())
    .then(|| Address {
        name: text("shipping_name"),
        address1: text("shipping_address1"),
        address2: text("shipping_address2"),
        city: text("shipping_city"),
        province: text("shipping_province"),
        zip: text("shipping_zip"),
        country_code: country.clone().unwrap_or_default(),
        phone: text("shipping_phone"),
    });
    let shipment_status = one_of(&h, "shipment_status", SHIPMENT).map_err(at("shipment_status"))?;
    let shipped_at = time_cell(&h, "shipped_at").map_err(at("shipped_at"))?;
    let estimated = time_cell(&h, "estimated_delivery_at").map_err(at("estimated_delivery_at"))?;
    let tracking_url = match h.get("tracking_url") {
        Some(u) if u.starts_with("https://") || u.starts_with("http://") => Some(u.to_owned()),
        Some(u) => return Err((line_of("tracking_url"), fault("tracking_url", u, "is not an http(s) link"))),
        None => None,
    };
    let shipped = h.get("tracking_number").is_some()
        || h.get("carrier").is_some()
        || shipped_at.is_some()
        || shipment_status.is_some()
        || tracking_url.is_some();
    let o = Order {
        external_id: number.to_owned(),
        number: number.to_owned(),
        name: format!("#{number}"),
        email,
        phone,
        customer_external_id: None,
        customer_name: h.get("customer_name").map(str::to_owned).or_else(|| h.get("shipping_name").map(str::to_owned)),
        financial_status,
        fulfillment_status: fulfillment_status.or_else(|| shipped.then(|| "fulfilled".to_owned())),
        cancelled_at,
        cancel_reason: h.get("cancel_reason").map(str::to_owned),
        currency,
        total_minor,
        line_items,
        shipping_address,
        created_at,
        updated_at,
    };
    let mut writes = vec![MirrorWrite::Order(Box::new(o))];
    if shipped {
        writes.push(MirrorWrite::Fulfillment(Fulfillment {
            external_id: format!("{number}-shipment"),
            order_external_id: number.to_owned(),
            status: "success".into(),
            shipment_status,
            carrier: h.get("carrier").map(str::to_owned),
            tracking_number: h.get("tracking_number").map(str::to_owned),
            tracking_url,
            estimated_delivery_at: estimated,
            created_at: shipped_at.unwrap_or(created_at),
            updated_at,
        }));
    }
    Ok(writes)
}

fn products(rows: &[Row], now: DateTime<Utc>) -> ImportBatch {
    let mut batch = ImportBatch::default();
    // Products in the order of their first row; rows without a handle are
    // a product of their own, keyed by SKU.
    let mut groups = Groups::default();
    let mut skus: BTreeMap<String, usize> = BTreeMap::new();
    for row in rows {
        if batch.unreadable(row) {
            continue;
        }
        let Some(sku) = row.get("sku") else {
            batch.rejected.push(RejectedRow {
                line: row.line,
                key: row.get("handle").map(str::to_owned),
                column: Some("sku".into()),
                value: None,
                reason: "the SKU is missing".into(),
            });
            continue;
        };
        if let Some(first) = skus.get(sku) {
            batch.rejected.push(RejectedRow {
                line: row.line,
                key: Some(sku.to_owned()),
                column: Some("sku".into()),
                value: Some(short(sku)),
                reason: format!("SKU {} is already on line {first}", short(sku)),
            });
            continue;
        }
        skus.insert(sku.to_owned(), row.line);
        let key = row.get("handle").unwrap_or(sku).to_owned();
        groups.add(key, row);
    }
    for (handle, lines) in groups.list {
        batch.take(&handle, "product", &lines, product(&handle, &lines, now));
    }
    batch.rejected.sort_by_key(|r| r.line);
    batch
}

fn product(handle: &str, lines: &[&Row], now: DateTime<Utc>) -> Result<Vec<MirrorWrite>, (usize, Fault)> {
    let first = lines.first().map_or(0, |r| r.line);
    let title = lines.iter().find_map(|r| r.get("title")).unwrap_or(handle).to_owned();
    let mut status = None;
    let mut updated_at = now;
    for row in lines {
        if let Some(s) = one_of(row, "status", PRODUCT_STATUS).map_err(|f| (row.line, f))? {
            status.get_or_insert(s);
        }
        if let Some(t) = time_cell(row, "updated_at").map_err(|f| (row.line, f))? {
            updated_at = t;
        }
    }
    let mut variants = Vec::new();
    let mut levels = Vec::new();
    for row in lines {
        let sku = row.get("sku").unwrap_or_default().to_owned();
        let price = match row.get("price") {
            Some(p) => match parse_minor(p, "USD") {
                Some(m) if m >= 0 => p.to_owned(),
                _ => return Err((row.line, fault("price", p, "is not an amount"))),
            },
            None => String::new(),
        };
        let stock = match row.get("stock") {
            Some(s) => match s.parse::<i64>() {
                Ok(n) if n.abs() <= 1_000_000_000 => Some(n),
                _ => return Err((row.line, fault("stock", s, "must be a whole number"))),
            },
            None => None,
        };
        if let Some(n) = stock {
            levels.push(MirrorWrite::Inventory(InventoryLevel {
                inventory_item_id: sku.clone(),
                location_id: IMPORT_LOCATION.into(),
                available: n,
                updated_at,
            }));
        }
        variants.push(Variant {
            external_id: sku.clone(),
            sku: Some(sku.clone()),
            title: row.get("variant_title").unwrap_or("Default").to_owned(),
            price,
            inventory_item_id: Some(sku),
            inventory_quantity: stock,
        });
    }
    if variants.is_empty() {
        return Err((first, Fault { column: None, value: None, reason: "a product needs a variant".into() }));
    }
    let mut writes = vec![MirrorWrite::Product(Product {
        external_id: handle.to_owned(),
        title,
        status: status.unwrap_or_else(|| "active".into()),
        variants,
        updated_at,
    })];
    writes.extend(levels);
    Ok(writes)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use crate::Mirror;
    use chrono::TimeZone;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap()
    }

    fn orders_csv(text: &str) -> ImportBatch {
        parse(ImportKind::Orders, ImportFormat::Csv, text.as_bytes(), &ImportDefaults::default(), now()).unwrap()
    }

    fn only_orders(b: &ImportBatch) -> Vec<&Order> {
        b.writes
            .iter()
            .filter_map(|w| match w {
                MirrorWrite::Order(o) => Some(o.as_ref()),
                _ => None,
            })
            .collect()
    }

    /// Shopify's order export: order fields on the first line only, one
    /// line per item, `Name` is the order name.
    const SHOPIFY_EXPORT: &str = "\
Name,Email,Financial Status,Fulfillment Status,Currency,Total,Lineitem quantity,Lineitem name,Lineitem price,Lineitem sku,Created at,Shipping Name,Shipping Address1,Shipping City,Shipping Zip,Shipping Country,Phone,Notes
#1001,Ana@Example.com,paid,fulfilled,EUR,167.90,2,Linen Dress - Blue / M,79.00,DRESS-BLU-M,2026-02-20 09:30:00 +0100,Ana García,Calle Mayor 1,Madrid,28013,ES,612 345 678,gift
#1001,,,,,,1,Gift wrap,9.90,WRAP,,,,,,,,
#1002,bob@example.com,pending,,USD,25.00,1,Socks,25.00,SOCK-1,2026-02-21,Bob,1 Main St,Springfield,12345,US,,
";

    #[test]
    fn a_shopify_export_becomes_orders_with_their_lines() {
        let b = orders_csv(SHOPIFY_EXPORT);
        assert!(b.rejected.is_empty(), "{:?}", b.rejected);
        assert_eq!((b.rows, b.accepted), (3, 2));
        assert_eq!(b.ignored_columns, vec!["Notes".to_owned()]);
        let o = only_orders(&b);
        let first = o[0];
        assert_eq!((first.number.as_str(), first.name.as_str()), ("1001", "#1001"));
        assert_eq!(first.email.as_deref(), Some("ana@example.com"));
        assert_eq!(first.phone.as_deref(), Some("+34612345678"), "read in the shipping country");
        assert_eq!(first.total_minor, 16790);
        assert_eq!(first.line_items.len(), 2);
        assert_eq!(first.line_items[1].sku.as_deref(), Some("WRAP"));
        assert_eq!(first.line_items[0].quantity, 2);
        assert_eq!(first.created_at, Utc.with_ymd_and_hms(2026, 2, 20, 8, 30, 0).unwrap());
        assert_eq!(first.updated_at, now(), "no updated_at: the import time");
        assert_eq!(first.shipping_address.as_ref().unwrap().city, "Madrid");
        assert_eq!(o[1].fulfillment_status, None);
        assert_eq!(o[1].financial_status, "pending");
    }

    #[test]
    fn a_bad_line_rejects_its_whole_order_and_says_where() {
        let text = "\
order_number,email,currency,created_at,sku,quantity,price
1,a@example.com,USD,2026-01-01,A,1,10.00
2,b@example.com,USD,2026-01-02,B,two,10.00
2,,,,C,1,5.00
3,not-an-email,USD,2026-01-03,D,1,1
4,d@example.com,USD,yesterday,E,1,1
5,e@example.com,US Dollar,2026-01-04,F,1,1
6,f@example.com,USD,2026-01-05,G,1,1.234
7,g@example.com,EUR,2026-01-05,H,1,1
7,,USD,,I,1,1
";
        let b = orders_csv(text);
        assert_eq!(b.accepted, 1);
        let got: Vec<(usize, Option<&str>, Option<&str>)> =
            b.rejected.iter().map(|r| (r.line, r.key.as_deref(), r.column.as_deref())).collect();
        assert_eq!(
            got,
            vec![
                (3, Some("2"), Some("quantity")),
                (4, Some("2"), None),
                (5, Some("3"), Some("email")),
                (6, Some("4"), Some("created_at")),
                (7, Some("5"), Some("currency")),
                (8, Some("6"), Some("price")),
                (9, Some("7"), None),
                (10, Some("7"), Some("currency")),
            ]
        );
        assert_eq!(b.rejected[0].value.as_deref(), Some("two"));
        assert!(b.rejected[1].reason.contains("line 3"), "{}", b.rejected[1].reason);
        assert!(b.rejected[7].reason.contains("EUR"), "{}", b.rejected[7].reason);
        assert_eq!(only_orders(&b)[0].number, "1");
    }

    #[test]
    fn shipments_carry_tracking_and_the_delivery_promise() {
        let text = "\
number,email,currency,created_at,sku,title,quantity,price,carrier,tracking_number,tracking_url,shipped_at,estimated_delivery_at,shipment_status
88,c@example.com,GBP,2026-02-01,MUG,Mug,1,12.5,Royal Mail,RM123,https://track.example/RM123,2026-02-02,2026-02-09,in_transit
";
        let b = orders_csv(text);
        assert!(b.rejected.is_empty(), "{:?}", b.rejected);
        let mut m = Mirror::default();
        for w in b.writes.clone() {
            m.apply(w);
        }
        let d = m.order("88").unwrap();
        assert_eq!(d.state(), crate::OrderState::Shipped);
        let f = d.latest_fulfillment().unwrap();
        assert_eq!(f.tracking_number.as_deref(), Some("RM123"));
        assert_eq!(f.carrier.as_deref(), Some("Royal Mail"));
        assert_eq!(f.estimated_delivery_at, Some(Utc.with_ymd_and_hms(2026, 2, 9, 0, 0, 0).unwrap()));
        assert_eq!(d.order.total_minor, 1250);
    }

    #[test]
    fn json_records_nest_their_lines_and_address() {
        let text = r#"{"orders": [
            {"number": 5001, "email": "x@example.com", "currency": "jpy", "created_at": "2026-02-01T10:00:00Z",
             "shipping_address": {"name": "X", "city": "Osaka", "country_code": "JP", "zip": "530-0001"},
             "line_items": [{"sku": "TEA", "title": "Tea", "quantity": 3, "price": 1200}],
             "fulfillment": {"carrier": "Yamato", "tracking_number": "Y1"}},
            {"number": "5002", "currency": "JPY", "created_at": "2026-02-02", "line_items": [{"sku": "TEA", "quantity": 0}]},
            7
        ]}"#;
        let b =
            parse(ImportKind::Orders, ImportFormat::Json, text.as_bytes(), &ImportDefaults::default(), now()).unwrap();
        assert_eq!(b.accepted, 1);
        let o = only_orders(&b)[0];
        assert_eq!((o.currency.as_str(), o.total_minor), ("JPY", 3600));
        assert_eq!(o.shipping_address.as_ref().unwrap().country_code, "JP");
        let rejected: Vec<(usize, Option<&str>)> = b.rejected.iter().map(|r| (r.line, r.column.as_deref())).collect();
        assert_eq!(rejected, vec![(2, Some("quantity")), (3, None)]);
        assert!(
            b.writes
                .iter()
                .any(|w| matches!(w, MirrorWrite::Fulfillment(f) if f.tracking_number.as_deref() == Some("Y1")))
        );
    }

    #[test]
    fn json_lines_are_read_one_record_per_line() {
        let text = "{\"number\":\"1\",\"currency\":\"USD\",\"created_at\":\"2026-01-01\",\"total\":\"3.00\"}\n\n{\"number\":\"2\",\"currency\":\"USD\",\"created_at\":\"2026-01-01\",\"total\":\"4\"}\n";
        let b =
            parse(ImportKind::Orders, ImportFormat::Json, text.as_bytes(), &ImportDefaults::default(), now()).unwrap();
        assert_eq!((b.accepted, b.rejected.len()), (2, 0));
    }

    #[test]
    fn a_default_currency_fills_rows_without_one() {
        let text = "number,created_at,total\n9,2026-01-01,10\n";
        let d = ImportDefaults { currency: Some("CAD".into()), region: None };
        let b = parse(ImportKind::Orders, ImportFormat::Csv, text.as_bytes(), &d, now()).unwrap();
        assert_eq!(only_orders(&b)[0].currency, "CAD");
        let b = orders_csv(text);
        assert_eq!(b.accepted, 0);
        assert!(b.rejected[0].reason.contains("default currency"));
    }

    #[test]
    fn unreadable_files_are_errors_not_empty_imports() {
        let d = ImportDefaults::default();
        let e = |text: &[u8], f| parse(ImportKind::Orders, f, text, &d, now()).unwrap_err();
        assert_eq!(e(b"\xff\xfe", ImportFormat::Csv), ImportError::NotUtf8);
        assert_eq!(e(b"number,total\n", ImportFormat::Csv), ImportError::Empty);
        assert!(matches!(
            e(b"sku,total\nA,1\n", ImportFormat::Csv),
            ImportError::MissingColumn { column: "number", .. }
        ));
        assert!(matches!(e(b"[{\"number\": 1", ImportFormat::Json), ImportError::Json(_)));
        // A row with more cells than the header is refused on its own.
        let b = parse(
            ImportKind::Orders,
            ImportFormat::Csv,
            b"number,total,currency,created_at\n1,2,USD,2026-01-01\n3,4,5,USD,2026-01-01\n4,1,USD\n",
            &d,
            now(),
        )
        .unwrap();
        assert_eq!(b.accepted, 1);
        assert_eq!(b.rejected[0].line, 3);
        assert!(b.rejected[0].reason.contains("5 fields where the header has 4"), "{}", b.rejected[0].reason);
        assert_eq!((b.rejected[1].line, b.rejected[1].column.as_deref()), (4, Some("created_at")));
        assert!(matches!(e(b"[{\"number\": 1", ImportFormat::Json), ImportError::Json(_)));
    }

    #[test]
    fn products_group_variants_by_handle_and_keep_stock() {
        let text = "\
Handle,Title,Status,Option1 Value,Variant SKU,Variant Price,Variant Inventory Qty
linen-dress,Linen Dress,active,Blue / M,DRESS-BLU-M,79.00,0
linen-dress,,,Blue / S,DRESS-BLU-S,79.00,6
mug,Mug,draft,,MUG,12,x
,Socks,,,SOCK,5,3
,Socks again,,,SOCK,5,3
";
        let b =
            parse(ImportKind::Products, ImportFormat::Csv, text.as_bytes(), &ImportDefaults::default(), now()).unwrap();
        assert_eq!((b.rows, b.accepted), (5, 2));
        let rejected: Vec<(usize, Option<&str>)> = b.rejected.iter().map(|r| (r.line, r.column.as_deref())).collect();
        assert_eq!(rejected, vec![(4, Some("stock")), (6, Some("sku"))]);
        let mut m = Mirror::default();
        for w in b.writes.clone() {
            m.apply(w);
        }
        let p = &m.products["linen-dress"];
        assert_eq!((p.title.as_str(), p.variants.len()), ("Linen Dress", 2));
        assert_eq!(p.variants[0].title, "Blue / M");
        assert_eq!(m.available("DRESS-BLU-M"), Some(0));
        assert_eq!(m.available("DRESS-BLU-S"), Some(6));
        assert_eq!(m.available("SOCK"), Some(3));
    }

    #[test]
    fn times_in_the_usual_export_forms() {
        let t = Utc.with_ymd_and_hms(2026, 3, 1, 2, 20, 30).unwrap();
        assert_eq!(parse_time("2026-03-01 10:20:30 +0800"), Some(t));
        assert_eq!(parse_time("2026-03-01T02:20:30Z"), Some(t));
        assert_eq!(parse_time("2026-03-01 02:20:30"), Some(t));
        assert_eq!(parse_time("2026-03-01"), Some(Utc.with_ymd_and_hms(2026, 3, 1, 0, 0, 0).unwrap()));
        assert_eq!(parse_time("01/03/2026"), None);
    }

    #[test]
    fn format_is_told_by_name_or_content() {
        assert_eq!(ImportFormat::from_path("Orders.CSV"), Some(ImportFormat::Csv));
        assert_eq!(ImportFormat::from_path("x.ndjson"), Some(ImportFormat::Json));
        assert_eq!(ImportFormat::from_path("x.xlsx"), None);
        assert_eq!(ImportFormat::sniff(b"  [{}]"), ImportFormat::Json);
        assert_eq!(ImportFormat::sniff(b"\xEF\xBB\xBFnumber,total"), ImportFormat::Csv);
    }
}
