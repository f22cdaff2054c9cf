//! The statements that fetch rows, each with the row type it is decoded into, and the
//! comparison of a query's `DESCRIBE` with its row type: `tests/api/describe.rs` runs it
//! on ClickHouse 18.16, `reports::compat` on current ClickHouse (chdb).
//!
//! The clickhouse crate runs with validation off (18.16 has no
//! `RowBinaryWithNamesAndTypes`), so rows are decoded by position: a query whose columns
//! are reordered would fill the wrong fields without any error. So every query's column
//! names equal its row type's field names, in order, and each column's type is one its
//! field decodes ([`Fetching::mismatch`]); the tests check both for every entry of
//! [`fetching`] (store's statements) and `reports::describe::fetching` (the reports').
//!
//! [`Fetching::of`] reads the field names from `clickhouse::Row::COLUMN_NAMES` and the
//! field types from the row type's own `Deserialize` (a recording deserializer), so
//! neither list is kept by hand.

use clickhouse::query::Query;
use clickhouse::Row;
use serde::de::{self, DeserializeOwned, DeserializeSeed, Deserializer, SeqAccess, Visitor};

use super::content::{PublishTime, RegisteredPage, PAGES_PUBLISHED_IN, PUBLISH_TIMES};
use super::day_keys::{DayKeyRow, DAYS_BEFORE, SELECT_DAY_KEYS};
use super::events::STORED_EVENT_IDS;
use super::goals::{ListedFunnel, ListedGoal, LIST_FUNNELS, LIST_GOALS};
use super::migrate::{AppliedMigration, APPLIED_MIGRATIONS, LEDGER_EXISTS};
use super::retention::{for_table, COUNT_OLDER, OLD_MONTHS, SERVER_VERSION, VISITOR_TABLES};
use super::sites::{ListedSite, LIST_SITES};
use super::tokens::{ListedToken, LIST_TOKENS};
use super::{keys_database, render_statement, Topology, PING};

/// What a Rust field decodes from RowBinary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Wire {
    Bool,
    U8,
    U16,
    U32,
    U64,
    F64,
    String,
    /// `[u8; N]`.
    Bytes(usize),
    /// `Vec<T>`.
    Array(Box<Wire>),
    /// `Option<T>`.
    Nullable(Box<Wire>),
}

impl Wire {
    /// Whether a column of ClickHouse type `column` (as `DESCRIBE` names it) decodes into
    /// this field.
    pub fn accepts(&self, column: &str) -> bool {
        let column = unwrap_type(column, "LowCardinality").unwrap_or(column);
        match self {
            Wire::Bool | Wire::U8 => column == "UInt8" || column == "Bool",
            Wire::U16 => column == "UInt16" || column == "Date",
            Wire::U32 => column == "UInt32" || column == "DateTime" || column.starts_with("DateTime('"),
            Wire::U64 => column == "UInt64",
            Wire::F64 => column == "Float64",
            Wire::String => column == "String",
            Wire::Bytes(n) => column == format!("FixedString({n})"),
            Wire::Array(inner) => unwrap_type(column, "Array").is_some_and(|column| inner.accepts(column)),
            Wire::Nullable(inner) => unwrap_type(column, "Nullable").is_some_and(|column| inner.accepts(column)),
        }
    }
}

/// `T` of `wrapper(T)`.
fn unwrap_type<'a>(column: &'a str, wrapper: &str) -> Option<&'a str> {
    column.strip_prefix(wrapper)?.strip_prefix('(')?.strip_suffix(')')
}

/// A statement that fetches rows, with sample values bound as the code binds them.
#[derive(Debug, Clone)]
pub struct Fetching {
    /// Where it is defined: the constant or the `.sql` file(s).
    pub name: String,
    /// The database it runs in (footfall's, the keys database, or `None`: any).
    pub database: Option<String>,
    /// The statement, values bound.
    pub sql: String,
    /// The row type's field names in order; `None` for a one-column (scalar) row.
    pub columns: Option<Vec<&'static str>>,
    /// What each field decodes.
    pub wires: Vec<Wire>,
    /// The Rust row type, for messages.
    pub row_type: &'static str,
}

impl Fetching {
    /// `query` decoded into `R`.
    ///
    /// # Panics
    /// When `R` has a field type [`Wire`] does not know.
    pub fn of<R: Row + DeserializeOwned>(name: impl Into<String>, database: Option<String>, query: Query) -> Self {
        let mut wires = Vec::new();
        R::deserialize(Top(&mut wires)).unwrap_or_else(|error| panic!("{}: {error}", std::any::type_name::<R>()));
        let columns = (!R::COLUMN_NAMES.is_empty()).then(|| R::COLUMN_NAMES.to_vec());
        Self {
            name: name.into(),
            database,
            sql: query.sql_display().to_string(),
            columns,
            wires,
            row_type: std::any::type_name::<R>(),
        }
    }
}

impl Fetching {
    /// The statement that describes this one's result columns. (A newline before `)`: a
    /// statement may end with a comment.)
    pub fn describe_sql(&self) -> String {
        format!("DESCRIBE (\n{}\n)", self.sql)
    }

    /// What is wrong with this statement given its result `columns` (name and type, as
    /// [`described`] reads them), if anything: names other than the row type's fields, in
    /// order, or a column type its field does not decode.
    pub fn mismatch(&self, columns: &[(String, String)]) -> Option<String> {
        let names: Vec<&str> = columns.iter().map(|(name, _)| name.as_str()).collect();
        let what = format!("{} (into {}) returns {columns:?}", self.name, self.row_type);
        match &self.columns {
            Some(fields) if names != *fields => return Some(format!("{what}; the fields are {fields:?}")),
            None if columns.len() != 1 => return Some(format!("{what}; the row is one column")),
            _ => {}
        }
        let wrong: Vec<String> = self
            .wires
            .iter()
            .zip(columns)
            .filter(|(wire, (_, kind))| !wire.accepts(kind))
            .map(|(wire, (name, kind))| format!("column {name} is {kind}, the field decodes {wire:?}"))
            .collect();
        (!wrong.is_empty()).then(|| format!("{what}: {}", wrong.join("; ")))
    }
}

/// Name and type of each column in the `TabSeparated` output of a `DESCRIBE`.
pub fn described(tab_separated: &str) -> Vec<(String, String)> {
    // TabSeparated escapes quotes and backslashes: `DateTime(\'UTC\')`.
    let unescape = |field: &str| field.replace("\\'", "'").replace("\\\\", "\\");
    tab_separated
        .lines()
        .map(|line| {
            let mut fields = line.split('\t');
            let mut next = || unescape(fields.next().expect("DESCRIBE gives name and type"));
            (next(), next())
        })
        .collect()
}

/// Store's statements that fetch rows, on footfall database `database`.
pub fn fetching(database: &str) -> Vec<Fetching> {
    let query = |sql: &str| clickhouse::Client::default().query(sql);
    let footfall = Some(database.to_string());
    let keys = Some(keys_database(database));
    let mut all = vec![
        Fetching::of::<u8>("PING", None, query(PING)),
        Fetching::of::<u64>("LEDGER_EXISTS", None, query(LEDGER_EXISTS).bind(database)),
        Fetching::of::<AppliedMigration>("APPLIED_MIGRATIONS", footfall.clone(), query(APPLIED_MIGRATIONS)),
        Fetching::of::<ListedSite>("LIST_SITES", footfall.clone(), query(LIST_SITES)),
        Fetching::of::<ListedGoal>(
            "LIST_GOALS",
            footfall.clone(),
            query(LIST_GOALS).bind("example.com").bind("example.com"),
        ),
        Fetching::of::<ListedFunnel>(
            "LIST_FUNNELS",
            footfall.clone(),
            query(LIST_FUNNELS).bind("example.com").bind("example.com"),
        ),
        Fetching::of::<u64>(
            "STORED_EVENT_IDS",
            footfall.clone(),
            query(STORED_EVENT_IDS)
                .bind(1u64)
                .bind(1u64 << 20)
                .bind(1_764_000_000u32)
                .bind(1_764_000_100u32)
                .bind(1_764_000_000u32)
                .bind(1_764_000_100u32),
        ),
        Fetching::of::<ListedToken>("LIST_TOKENS", footfall.clone(), query(LIST_TOKENS)),
        Fetching::of::<DayKeyRow>(
            "SELECT_DAY_KEYS",
            keys.clone(),
            query(SELECT_DAY_KEYS).bind(20_000u16).bind(20_001u16),
        ),
        Fetching::of::<String>("DAYS_BEFORE", keys, query(DAYS_BEFORE).bind(20_000u16)),
        Fetching::of::<String>("SERVER_VERSION", None, query(SERVER_VERSION)),
        Fetching::of::<PublishTime>("PUBLISH_TIMES", footfall.clone(), query(PUBLISH_TIMES).bind("example.com")),
        Fetching::of::<RegisteredPage>(
            "PAGES_PUBLISHED_IN",
            footfall.clone(),
            query(PAGES_PUBLISHED_IN).bind("example.com").bind(1_764_000_000u32).bind(1_764_604_800u32),
        ),
    ];
    for table in VISITOR_TABLES {
        let render = |template: &str| render_statement(&for_table(template, table), database, &Topology::Single);
        all.push(Fetching::of::<u32>(
            format!("OLD_MONTHS ({table})"),
            footfall.clone(),
            query(&render(OLD_MONTHS)).bind(1_764_547_200u32),
        ));
        all.push(Fetching::of::<u64>(
            format!("COUNT_OLDER ({table})"),
            footfall.clone(),
            query(&render(COUNT_OLDER)).bind(202_511u32).bind(1_764_000_000u32),
        ));
    }
    all
}

/// The row: a struct's fields in order, or one scalar.
struct Top<'a>(&'a mut Vec<Wire>);

/// One field: records what it decodes into its slot and yields a sample value.
struct Field<'a>(&'a mut Option<Wire>);

/// `len` fields of a struct or tuple, or (`len` 1) an array's element type.
struct Fields<'a> {
    wires: &'a mut Vec<Wire>,
    len: usize,
}

impl<'de> SeqAccess<'de> for Fields<'_> {
    type Error = de::value::Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<Option<T::Value>, Self::Error> {
        if self.wires.len() == self.len {
            return Ok(None);
        }
        let mut slot = None;
        let value = seed.deserialize(Field(&mut slot))?;
        self.wires.push(slot.expect("a field records its type"));
        Ok(Some(value))
    }
}

macro_rules! record {
    ($($method:ident => $wire:expr, $visit:ident($value:expr);)*) => {
        $(fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
            *self.0 = Some($wire);
            visitor.$visit($value)
        })*
    };
}

impl<'de> Deserializer<'de> for Field<'_> {
    type Error = de::value::Error;

    fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Self::Error> {
        Err(de::Error::custom("a field type footfall does not read from ClickHouse; add it to store::describe::Wire"))
    }

    record! {
        deserialize_bool => Wire::Bool, visit_bool(false);
        deserialize_u8 => Wire::U8, visit_u8(0);
        deserialize_u16 => Wire::U16, visit_u16(0);
        deserialize_u32 => Wire::U32, visit_u32(0);
        deserialize_u64 => Wire::U64, visit_u64(0);
        deserialize_f64 => Wire::F64, visit_f64(0.0);
        deserialize_str => Wire::String, visit_str("");
        deserialize_string => Wire::String, visit_string(String::new());
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        let mut element = Vec::new();
        let value = visitor.visit_seq(Fields { wires: &mut element, len: 1 })?;
        *self.0 = Some(Wire::Array(Box::new(element.pop().expect("an array reads one element"))));
        Ok(value)
    }

    fn deserialize_tuple<V: Visitor<'de>>(self, len: usize, visitor: V) -> Result<V::Value, Self::Error> {
        let mut elements = Vec::new();
        let value = visitor.visit_seq(Fields { wires: &mut elements, len })?;
        if elements.iter().any(|wire| *wire != Wire::U8) {
            return Err(de::Error::custom("only byte arrays ([u8; N], FixedString(N)) are read as tuples"));
        }
        *self.0 = Some(Wire::Bytes(len));
        Ok(value)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        let mut inner = None;
        let value = visitor.visit_some(Field(&mut inner))?;
        *self.0 = Some(Wire::Nullable(Box::new(inner.expect("an option records its type"))));
        Ok(value)
    }

    serde::forward_to_deserialize_any! {
        i8 i16 i32 i64 i128 u128 f32 char bytes byte_buf unit unit_struct newtype_struct
        tuple_struct map struct enum identifier ignored_any
    }
}

macro_rules! scalar {
    ($($method:ident)*) => {
        $(fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
            let mut slot = None;
            let value = Field(&mut slot).$method(visitor)?;
            self.0.extend(slot);
            Ok(value)
        })*
    };
}

impl<'de> Deserializer<'de> for Top<'_> {
    type Error = de::value::Error;

    fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Self::Error> {
        Err(de::Error::custom("a row type footfall does not read from ClickHouse; add it to store::describe"))
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        visitor.visit_seq(Fields { wires: self.0, len: fields.len() })
    }

    scalar! {
        deserialize_bool deserialize_u8 deserialize_u16 deserialize_u32 deserialize_u64 deserialize_f64
        deserialize_str deserialize_string
    }

    serde::forward_to_deserialize_any! {
        i8 i16 i32 i64 i128 u128 f32 char bytes byte_buf option unit unit_struct newtype_struct seq
        tuple tuple_struct map enum identifier ignored_any
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_types_come_from_the_row_types() {
        let keys = Fetching::of::<DayKeyRow>("k", None, clickhouse::Client::default().query("SELECT 1"));
        assert_eq!(keys.columns, Some(vec!["day", "key", "created_at"]));
        assert_eq!(keys.wires, [Wire::U16, Wire::Bytes(32), Wire::U32]);
        let sites = Fetching::of::<ListedSite>("s", None, clickhouse::Client::default().query("SELECT 1"));
        assert_eq!(sites.columns, Some(vec!["domain", "timezone", "origins", "consent", "ignore_dnt", "redact"]));
        let array = Wire::Array(Box::new(Wire::String));
        assert_eq!(sites.wires, [Wire::String, Wire::String, array.clone(), Wire::Bool, Wire::Bool, array]);
        let scalar = Fetching::of::<u64>("n", None, clickhouse::Client::default().query("SELECT 1"));
        assert_eq!((scalar.columns, scalar.wires), (None, vec![Wire::U64]));
    }

    #[test]
    fn a_describe_that_disagrees_with_the_row_type_is_a_mismatch() {
        let keys = Fetching::of::<DayKeyRow>("k", None, clickhouse::Client::default().query("SELECT 1"));
        let columns = described("day\tDate\t\t\t\nkey\tFixedString(32)\t\t\t\ncreated_at\tDateTime(\\'UTC\\')\t\t\t\n");
        assert_eq!(columns[2], ("created_at".to_string(), "DateTime('UTC')".to_string()));
        assert_eq!(keys.mismatch(&columns), None);
        let mut swapped = columns.clone();
        swapped.swap(0, 2);
        assert!(keys.mismatch(&swapped).is_some_and(|problem| problem.contains("the fields are")));
        let mut retyped = columns;
        retyped[0].1 = "UInt32".into();
        assert!(keys.mismatch(&retyped).is_some_and(|problem| problem.contains("column day is UInt32")));
    }

    #[test]
    fn types_match_as_the_rowbinary_decoder_reads_them() {
        assert!(Wire::U32.accepts("DateTime('UTC')"));
        assert!(Wire::U16.accepts("Date"));
        assert!(Wire::Bool.accepts("UInt8"));
        assert!(Wire::String.accepts("LowCardinality(String)"));
        assert!(Wire::Array(Box::new(Wire::String)).accepts("Array(String)"));
        assert!(Wire::Bytes(32).accepts("FixedString(32)"));
        assert!(!Wire::U64.accepts("UInt32"));
        assert!(!Wire::U32.accepts("UInt64"));
        assert!(!Wire::Bytes(16).accepts("FixedString(32)"));
    }
}
