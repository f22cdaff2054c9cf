//! What a report answers, and its two forms: JSON (default) and CSV (`Accept: text/csv`).
//!
//! A report is a few header fields (`report`, `site`, `from`, `to`, `tz`, ...) and one or
//! more tables. JSON gives the fields and each table as an array of objects, columns in
//! order; CSV gives the report's main table with a header line.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse};
use serde::ser::{SerializeMap, Serializer};
use serde::Serialize;
use serde_json::Value;

/// One value of a table.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Cell {
    Text(String),
    Count(u64),
    Number(f64),
    Null,
}

impl From<&str> for Cell {
    fn from(text: &str) -> Self {
        Self::Text(text.to_string())
    }
}

impl From<String> for Cell {
    fn from(text: String) -> Self {
        Self::Text(text)
    }
}

impl From<u64> for Cell {
    fn from(count: u64) -> Self {
        Self::Count(count)
    }
}

impl From<Option<f64>> for Cell {
    fn from(number: Option<f64>) -> Self {
        number.map_or(Self::Null, Self::Number)
    }
}

impl Serialize for Cell {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Text(text) => serializer.serialize_str(text),
            Self::Count(count) => serializer.serialize_u64(*count),
            Self::Number(number) => serializer.serialize_f64(*number),
            Self::Null => serializer.serialize_none(),
        }
    }
}

/// Rows under named columns.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Table {
    pub columns: &'static [&'static str],
    pub rows: Vec<Vec<Cell>>,
}

impl Table {
    pub(crate) fn new(columns: &'static [&'static str]) -> Self {
        Self { columns, rows: Vec::new() }
    }

    /// Appends a row; it must have one cell per column.
    pub(crate) fn push(&mut self, row: Vec<Cell>) {
        debug_assert_eq!(row.len(), self.columns.len());
        self.rows.push(row);
    }
}

struct JsonRow<'a>(&'a [&'static str], &'a [Cell]);

impl Serialize for JsonRow<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (column, cell) in self.0.iter().zip(self.1) {
            map.serialize_entry(column, cell)?;
        }
        map.end()
    }
}

struct JsonTable<'a>(&'a Table);

impl Serialize for JsonTable<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.0.rows.iter().map(|row| JsonRow(self.0.columns, row)))
    }
}

/// A report's answer.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Answer {
    /// Header fields, in order.
    pub fields: Vec<(&'static str, Value)>,
    /// Named tables, in order; the first is the one CSV gives...
    pub tables: Vec<(&'static str, Table)>,
    /// ...unless this is set (for answers whose JSON has no table).
    pub csv: Option<Table>,
}

impl Serialize for Answer {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.fields.len() + self.tables.len()))?;
        for (name, value) in &self.fields {
            map.serialize_entry(name, value)?;
        }
        for (name, table) in &self.tables {
            map.serialize_entry(name, &JsonTable(table))?;
        }
        map.end()
    }
}

impl Answer {
    /// JSON, or CSV when the request's `Accept` asks for `text/csv`.
    pub(crate) fn respond(&self, req: &HttpRequest) -> HttpResponse {
        let wants_csv = req.headers().get(header::ACCEPT).and_then(|value| value.to_str().ok()).is_some_and(|accept| {
            accept.split(',').any(|part| part.split(';').next().unwrap_or("").trim() == "text/csv")
        });
        if wants_csv {
            HttpResponse::Ok().content_type("text/csv; charset=utf-8").body(self.csv())
        } else {
            HttpResponse::Ok().json(self)
        }
    }

    /// The first table as CSV (RFC 4180, `\r\n` line ends, header line first).
    pub(crate) fn csv(&self) -> String {
        let Some(table) = self.csv.as_ref().or(self.tables.first().map(|(_, table)| table)) else {
            return String::new();
        };
        let mut out = String::new();
        push_line(&mut out, table.columns.iter().map(|column| csv_text(column)));
        for row in &table.rows {
            push_line(&mut out, row.iter().map(csv_cell));
        }
        out
    }
}

fn push_line(out: &mut String, cells: impl Iterator<Item = String>) {
    let line: Vec<String> = cells.collect();
    out.push_str(&line.join(","));
    out.push_str("\r\n");
}

fn csv_cell(cell: &Cell) -> String {
    match cell {
        Cell::Text(text) => csv_text(text),
        Cell::Count(count) => count.to_string(),
        Cell::Number(number) => number.to_string(),
        Cell::Null => String::new(),
    }
}

/// Quotes text that needs it, and defuses text a spreadsheet would run as a formula
/// (leading `=`, `+`, `-`, `@`, tab or carriage return) by prefixing `'`.
fn csv_text(text: &str) -> String {
    let defused =
        if text.starts_with(['=', '+', '-', '@', '\t', '\r']) { format!("'{text}") } else { text.to_string() };
    if defused.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", defused.replace('"', "\"\""))
    } else {
        defused
    }
}

/// `value` rounded to `decimals` places (answers are rounded so they compare exactly).
pub(crate) fn round(value: f64, decimals: i32) -> f64 {
    let scale = 10f64.powi(decimals);
    (value * scale).round() / scale
}

/// `part / whole` rounded to 4 places, `None` when `whole` is 0.
pub(crate) fn share(part: u64, whole: u64) -> Option<f64> {
    (whole > 0).then(|| round(part as f64 / whole as f64, 4))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_keeps_column_order_and_csv_quotes() {
        let mut table = Table::new(&["path", "views", "share"]);
        table.push(vec!["/a,b".into(), 3.into(), Some(0.5).into()]);
        table.push(vec!["=HYPERLINK(\"x\")".into(), 1.into(), None.into()]);
        let answer =
            Answer { fields: vec![("report", "top-content".into())], tables: vec![("rows", table)], csv: None };
        assert_eq!(
            serde_json::to_string(&answer).unwrap(),
            r#"{"report":"top-content","rows":[{"path":"/a,b","views":3,"share":0.5},{"path":"=HYPERLINK(\"x\")","views":1,"share":null}]}"#
        );
        assert_eq!(answer.csv(), "path,views,share\r\n\"/a,b\",3,0.5\r\n\"'=HYPERLINK(\"\"x\"\")\",1,\r\n");
    }

    #[test]
    fn shares_and_rounding() {
        assert_eq!(share(1, 3), Some(0.3333));
        assert_eq!(share(0, 0), None);
        assert_eq!(round(2.25, 1), 2.3);
    }
}
