//! A report's table as CSV (`Accept: text/csv`), derived from the same row type as its
//! JSON: RFC 4180 with `\r\n` line ends, a header line of the row type's serde field
//! names (the JSON keys, in field order), then one line per row.
//!
//! A list of small structs (content-discovery's `top_referrers`, `internal_from`) is one
//! cell: its entries separated by spaces, each entry its fields' values joined by `=`
//! (`news.example.org=12 t.co=5`; paths and hosts hold no spaces: intake percent-encodes
//! them), empty for an empty list.
//!
//! With `compare`, a row's `previous` object becomes columns after the row's own: each of
//! its fields as `previous_<field>` (`previous_views`, ..., `previous_suppressed`), all
//! empty where `previous` is `null` (a timeseries hour only one side has).
//!
//! Written by a small serde serializer of flat structs rather than the `csv` crate, because
//! the answers keep the text they always had: a number prints as Rust prints it (`12`,
//! where `csv` writes `12.0`), `None` as an empty cell, and text a spreadsheet would run
//! as a formula is defused (`csv` has neither).

use serde::ser::{self, Impossible, Serialize};

use super::compare::Compared;

/// The field of a row that holds its comparison values.
const PREVIOUS: &str = "previous";

/// `rows` as CSV, the header line first (also when there are no rows); with `compared`,
/// each row's `previous` as `previous_*` columns.
///
/// # Panics
/// When `R` is not a struct of plain values (text, numbers, options of them, lists of
/// structs of text and numbers, and `previous`, a struct of plain values or `null`):
/// every report row type is, and a test serializes each.
pub(crate) fn table<R: Serialize + Default + Compared>(rows: &[R], compared: bool) -> String {
    let mut out = String::new();
    let mut names: Vec<String> = Row::of(&R::default()).names.iter().map(|name| defuse(name)).collect();
    let previous = if compared { Row::of(&R::Previous::default()).names } else { Vec::new() };
    names.extend(previous.iter().map(|name| defuse(&format!("{PREVIOUS}_{name}"))));
    push_line(&mut out, names.into_iter());
    for row in rows {
        let Row { mut cells, compared: had_previous, .. } = Row::of(row);
        if compared && !had_previous {
            cells.extend(std::iter::repeat_n(String::new(), previous.len()));
        }
        push_line(&mut out, cells.into_iter());
    }
    out
}

fn push_line(out: &mut String, cells: impl Iterator<Item = String>) {
    out.push_str(&cells.collect::<Vec<_>>().join(","));
    out.push_str("\r\n");
}

/// Quotes text that needs it, and defuses text a spreadsheet would run as a formula
/// (leading `=`, `+`, `-`, `@`, tab or carriage return) by prefixing `'`.
fn defuse(text: &str) -> String {
    let defused =
        if text.starts_with(['=', '+', '-', '@', '\t', '\r']) { format!("'{text}") } else { text.to_string() };
    if defused.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", defused.replace('"', "\"\""))
    } else {
        defused
    }
}

/// One serialized row: its field names and its cells, in field order; `previous`'s cells
/// after the others (its name not listed), `compared` when it held an object.
#[derive(Default)]
struct Row {
    names: Vec<&'static str>,
    cells: Vec<String>,
    compared: bool,
}

impl Row {
    fn of<R: Serialize>(row: &R) -> Self {
        let mut out = Self::default();
        row.serialize(&mut out).expect("report rows are structs of plain values");
        out
    }
}

/// What this serializer cannot write: anything but a flat struct of plain values.
#[derive(Debug)]
struct NotFlat(String);

impl std::fmt::Display for NotFlat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "a CSV row is a struct of plain values, not {}", self.0)
    }
}

impl std::error::Error for NotFlat {}

impl ser::Error for NotFlat {
    fn custom<T: std::fmt::Display>(msg: T) -> Self {
        Self(msg.to_string())
    }
}

/// Serializer methods that refuse their input.
macro_rules! refuse {
    ($($method:ident ( $($arg:ty),* ) -> $ok:ty;)*) => {$(
        fn $method(self, $(_: $arg),*) -> Result<$ok, NotFlat> {
            Err(NotFlat(stringify!($method).trim_start_matches("serialize_").into()))
        }
    )*};
}

/// The refusals of the wrappers every serializer here shares: newtypes and enum variants
/// with a value are never cells; with `some`, an option is refused too (where a value, not
/// a cell, is being written).
macro_rules! refuse_wrappers {
    ($ok:ty) => {
        fn serialize_newtype_struct<T: ?Sized + Serialize>(self, _: &'static str, _: &T) -> Result<$ok, NotFlat> {
            Err(NotFlat("a newtype".into()))
        }

        fn serialize_newtype_variant<T: ?Sized + Serialize>(
            self,
            _: &'static str,
            _: u32,
            _: &'static str,
            _: &T,
        ) -> Result<$ok, NotFlat> {
            Err(NotFlat("an enum".into()))
        }
    };
    ($ok:ty, some) => {
        refuse_wrappers!($ok);

        fn serialize_some<T: ?Sized + Serialize>(self, _: &T) -> Result<$ok, NotFlat> {
            Err(NotFlat("an option".into()))
        }
    };
}

/// The row: a struct, whose fields go through [`Cell`].
impl ser::Serializer for &mut Row {
    type Ok = ();
    type Error = NotFlat;
    type SerializeStruct = Self;
    type SerializeSeq = Impossible<(), NotFlat>;
    type SerializeTuple = Impossible<(), NotFlat>;
    type SerializeTupleStruct = Impossible<(), NotFlat>;
    type SerializeTupleVariant = Impossible<(), NotFlat>;
    type SerializeMap = Impossible<(), NotFlat>;
    type SerializeStructVariant = Impossible<(), NotFlat>;

    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Self, NotFlat> {
        Ok(self)
    }

    refuse! {
        serialize_bool(bool) -> (); serialize_i8(i8) -> (); serialize_i16(i16) -> (); serialize_i32(i32) -> ();
        serialize_i64(i64) -> (); serialize_u8(u8) -> (); serialize_u16(u16) -> (); serialize_u32(u32) -> ();
        serialize_u64(u64) -> (); serialize_f32(f32) -> (); serialize_f64(f64) -> (); serialize_char(char) -> ();
        serialize_str(&str) -> (); serialize_bytes(&[u8]) -> (); serialize_none() -> (); serialize_unit() -> ();
        serialize_unit_struct(&'static str) -> ();
        serialize_unit_variant(&'static str, u32, &'static str) -> ();
        serialize_seq(Option<usize>) -> Self::SerializeSeq;
        serialize_tuple(usize) -> Self::SerializeTuple;
        serialize_tuple_struct(&'static str, usize) -> Self::SerializeTupleStruct;
        serialize_tuple_variant(&'static str, u32, &'static str, usize) -> Self::SerializeTupleVariant;
        serialize_map(Option<usize>) -> Self::SerializeMap;
        serialize_struct_variant(&'static str, u32, &'static str, usize) -> Self::SerializeStructVariant;
    }

    refuse_wrappers!((), some);
}

impl ser::SerializeStruct for &mut Row {
    type Ok = ();
    type Error = NotFlat;

    fn serialize_field<T: ?Sized + Serialize>(&mut self, name: &'static str, value: &T) -> Result<(), NotFlat> {
        if name == PREVIOUS {
            if let Some(cells) = value.serialize(Nested)? {
                self.cells.extend(cells);
                self.compared = true;
            }
            return Ok(());
        }
        self.names.push(name);
        self.cells.push(value.serialize(Cell)?);
        Ok(())
    }

    fn end(self) -> Result<(), NotFlat> {
        Ok(())
    }
}

/// A row's `previous`: `null` (no cells), or a struct of plain values whose cells follow
/// the row's.
struct Nested;

impl ser::Serializer for Nested {
    type Ok = Option<Vec<String>>;
    type Error = NotFlat;
    type SerializeStruct = Row;
    type SerializeSeq = Impossible<Self::Ok, NotFlat>;
    type SerializeTuple = Impossible<Self::Ok, NotFlat>;
    type SerializeTupleStruct = Impossible<Self::Ok, NotFlat>;
    type SerializeTupleVariant = Impossible<Self::Ok, NotFlat>;
    type SerializeMap = Impossible<Self::Ok, NotFlat>;
    type SerializeStructVariant = Impossible<Self::Ok, NotFlat>;

    fn serialize_none(self) -> Result<Self::Ok, NotFlat> {
        Ok(None)
    }

    fn serialize_some<T: ?Sized + Serialize>(self, value: &T) -> Result<Self::Ok, NotFlat> {
        value.serialize(self)
    }

    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Row, NotFlat> {
        Ok(Row::default())
    }

    refuse! {
        serialize_bool(bool) -> Self::Ok; serialize_i8(i8) -> Self::Ok; serialize_i16(i16) -> Self::Ok;
        serialize_i32(i32) -> Self::Ok; serialize_i64(i64) -> Self::Ok; serialize_u8(u8) -> Self::Ok;
        serialize_u16(u16) -> Self::Ok; serialize_u32(u32) -> Self::Ok; serialize_u64(u64) -> Self::Ok;
        serialize_f32(f32) -> Self::Ok; serialize_f64(f64) -> Self::Ok; serialize_char(char) -> Self::Ok;
        serialize_str(&str) -> Self::Ok; serialize_bytes(&[u8]) -> Self::Ok; serialize_unit() -> Self::Ok;
        serialize_unit_struct(&'static str) -> Self::Ok;
        serialize_unit_variant(&'static str, u32, &'static str) -> Self::Ok;
        serialize_seq(Option<usize>) -> Self::SerializeSeq;
        serialize_tuple(usize) -> Self::SerializeTuple;
        serialize_tuple_struct(&'static str, usize) -> Self::SerializeTupleStruct;
        serialize_tuple_variant(&'static str, u32, &'static str, usize) -> Self::SerializeTupleVariant;
        serialize_map(Option<usize>) -> Self::SerializeMap;
        serialize_struct_variant(&'static str, u32, &'static str, usize) -> Self::SerializeStructVariant;
    }

    refuse_wrappers!(Self::Ok);
}

/// `previous`'s fields: plain values only (a `previous` holds no `previous`).
impl ser::SerializeStruct for Row {
    type Ok = Option<Vec<String>>;
    type Error = NotFlat;

    fn serialize_field<T: ?Sized + Serialize>(&mut self, name: &'static str, value: &T) -> Result<(), NotFlat> {
        self.names.push(name);
        self.cells.push(value.serialize(Cell)?);
        Ok(())
    }

    fn end(self) -> Result<Self::Ok, NotFlat> {
        Ok(Some(self.cells))
    }
}

/// One cell: text (defused and quoted), a number as Rust prints it, `true`/`false`, empty
/// for `None`.
struct Cell;

impl ser::Serializer for Cell {
    type Ok = String;
    type Error = NotFlat;
    type SerializeStruct = Impossible<String, NotFlat>;
    type SerializeSeq = List;
    type SerializeTuple = Impossible<String, NotFlat>;
    type SerializeTupleStruct = Impossible<String, NotFlat>;
    type SerializeTupleVariant = Impossible<String, NotFlat>;
    type SerializeMap = Impossible<String, NotFlat>;
    type SerializeStructVariant = Impossible<String, NotFlat>;

    fn serialize_str(self, text: &str) -> Result<String, NotFlat> {
        Ok(defuse(text))
    }

    fn serialize_u64(self, number: u64) -> Result<String, NotFlat> {
        Ok(number.to_string())
    }

    fn serialize_u32(self, number: u32) -> Result<String, NotFlat> {
        Ok(number.to_string())
    }

    fn serialize_i64(self, number: i64) -> Result<String, NotFlat> {
        Ok(number.to_string())
    }

    fn serialize_f64(self, number: f64) -> Result<String, NotFlat> {
        Ok(number.to_string())
    }

    fn serialize_bool(self, value: bool) -> Result<String, NotFlat> {
        Ok(value.to_string())
    }

    fn serialize_none(self) -> Result<String, NotFlat> {
        Ok(String::new())
    }

    fn serialize_some<T: ?Sized + Serialize>(self, value: &T) -> Result<String, NotFlat> {
        value.serialize(self)
    }

    fn serialize_seq(self, _: Option<usize>) -> Result<List, NotFlat> {
        Ok(List::default())
    }

    refuse! {
        serialize_i8(i8) -> String; serialize_i16(i16) -> String; serialize_i32(i32) -> String; serialize_u8(u8) -> String; serialize_u16(u16) -> String;
        serialize_f32(f32) -> String; serialize_char(char) -> String; serialize_bytes(&[u8]) -> String;
        serialize_unit() -> String; serialize_unit_struct(&'static str) -> String;
        serialize_unit_variant(&'static str, u32, &'static str) -> String;
        serialize_struct(&'static str, usize) -> Self::SerializeStruct;
        serialize_tuple(usize) -> Self::SerializeTuple;
        serialize_tuple_struct(&'static str, usize) -> Self::SerializeTupleStruct;
        serialize_tuple_variant(&'static str, u32, &'static str, usize) -> Self::SerializeTupleVariant;
        serialize_map(Option<usize>) -> Self::SerializeMap;
        serialize_struct_variant(&'static str, u32, &'static str, usize) -> Self::SerializeStructVariant;
    }

    refuse_wrappers!(String);
}

/// A list cell: its entries so far (each from [`Entry`]), then the cell, defused.
#[derive(Default)]
struct List(Vec<String>);

impl ser::SerializeSeq for List {
    type Ok = String;
    type Error = NotFlat;

    fn serialize_element<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<(), NotFlat> {
        let mut entry = Entry::default();
        value.serialize(&mut entry)?;
        self.0.push(entry.0.join("="));
        Ok(())
    }

    fn end(self) -> Result<String, NotFlat> {
        Ok(defuse(&self.0.join(" ")))
    }
}

/// One entry of a list cell: a struct of text and numbers, its values in field order.
#[derive(Default)]
struct Entry(Vec<String>);

impl ser::Serializer for &mut Entry {
    type Ok = ();
    type Error = NotFlat;
    type SerializeStruct = Self;
    type SerializeSeq = Impossible<(), NotFlat>;
    type SerializeTuple = Impossible<(), NotFlat>;
    type SerializeTupleStruct = Impossible<(), NotFlat>;
    type SerializeTupleVariant = Impossible<(), NotFlat>;
    type SerializeMap = Impossible<(), NotFlat>;
    type SerializeStructVariant = Impossible<(), NotFlat>;

    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Self, NotFlat> {
        Ok(self)
    }

    refuse! {
        serialize_bool(bool) -> (); serialize_i8(i8) -> (); serialize_i16(i16) -> (); serialize_i32(i32) -> ();
        serialize_i64(i64) -> (); serialize_u8(u8) -> (); serialize_u16(u16) -> (); serialize_u32(u32) -> ();
        serialize_u64(u64) -> (); serialize_f32(f32) -> (); serialize_f64(f64) -> (); serialize_char(char) -> ();
        serialize_str(&str) -> (); serialize_bytes(&[u8]) -> (); serialize_none() -> (); serialize_unit() -> ();
        serialize_unit_struct(&'static str) -> ();
        serialize_unit_variant(&'static str, u32, &'static str) -> ();
        serialize_seq(Option<usize>) -> Self::SerializeSeq;
        serialize_tuple(usize) -> Self::SerializeTuple;
        serialize_tuple_struct(&'static str, usize) -> Self::SerializeTupleStruct;
        serialize_tuple_variant(&'static str, u32, &'static str, usize) -> Self::SerializeTupleVariant;
        serialize_map(Option<usize>) -> Self::SerializeMap;
        serialize_struct_variant(&'static str, u32, &'static str, usize) -> Self::SerializeStructVariant;
    }

    refuse_wrappers!((), some);
}

impl ser::SerializeStruct for &mut Entry {
    type Ok = ();
    type Error = NotFlat;

    fn serialize_field<T: ?Sized + Serialize>(&mut self, _: &'static str, value: &T) -> Result<(), NotFlat> {
        // A list of lists is not a cell.
        self.0.push(value.serialize(Plain)?);
        Ok(())
    }

    fn end(self) -> Result<(), NotFlat> {
        Ok(())
    }
}

/// A value inside a list entry: text as it is (the whole cell is defused), a number as
/// Rust prints it.
struct Plain;

impl ser::Serializer for Plain {
    type Ok = String;
    type Error = NotFlat;
    type SerializeStruct = Impossible<String, NotFlat>;
    type SerializeSeq = Impossible<String, NotFlat>;
    type SerializeTuple = Impossible<String, NotFlat>;
    type SerializeTupleStruct = Impossible<String, NotFlat>;
    type SerializeTupleVariant = Impossible<String, NotFlat>;
    type SerializeMap = Impossible<String, NotFlat>;
    type SerializeStructVariant = Impossible<String, NotFlat>;

    fn serialize_str(self, text: &str) -> Result<String, NotFlat> {
        Ok(text.to_string())
    }

    fn serialize_u64(self, number: u64) -> Result<String, NotFlat> {
        Ok(number.to_string())
    }

    refuse! {
        serialize_bool(bool) -> String; serialize_i8(i8) -> String; serialize_i16(i16) -> String;
        serialize_i32(i32) -> String; serialize_i64(i64) -> String; serialize_u8(u8) -> String;
        serialize_u16(u16) -> String; serialize_u32(u32) -> String; serialize_f32(f32) -> String;
        serialize_f64(f64) -> String; serialize_char(char) -> String; serialize_bytes(&[u8]) -> String;
        serialize_none() -> String; serialize_unit() -> String; serialize_unit_struct(&'static str) -> String;
        serialize_unit_variant(&'static str, u32, &'static str) -> String;
        serialize_struct(&'static str, usize) -> Self::SerializeStruct;
        serialize_seq(Option<usize>) -> Self::SerializeSeq;
        serialize_tuple(usize) -> Self::SerializeTuple;
        serialize_tuple_struct(&'static str, usize) -> Self::SerializeTupleStruct;
        serialize_tuple_variant(&'static str, u32, &'static str, usize) -> Self::SerializeTupleVariant;
        serialize_map(Option<usize>) -> Self::SerializeMap;
        serialize_struct_variant(&'static str, u32, &'static str, usize) -> Self::SerializeStructVariant;
    }

    refuse_wrappers!(String, some);
}

#[cfg(test)]
mod tests {
    use serde::Serialize;

    use super::*;

    #[derive(Default, Serialize)]
    struct Page {
        path: String,
        views: u64,
        share: Option<f64>,
    }

    impl Compared for Page {
        type Previous = NoPrevious;
    }

    #[derive(Default, Serialize)]
    struct NoPrevious {}

    #[test]
    fn header_from_the_field_names_numbers_as_rust_prints_them_and_text_quoted_and_defused() {
        let rows = [
            Page { path: "/a,b".into(), views: 3, share: Some(0.5) },
            Page { path: "=HYPERLINK(\"x\")".into(), views: 1, share: None },
            Page { path: "/c".into(), views: 12, share: Some(12.0) },
        ];
        assert_eq!(
            table(&rows, false),
            "path,views,share\r\n\"/a,b\",3,0.5\r\n\"'=HYPERLINK(\"\"x\"\")\",1,\r\n/c,12,12\r\n"
        );
        assert_eq!(table::<Page>(&[], false), "path,views,share\r\n");
    }

    #[test]
    fn averages_print_as_numbers_and_missing_ones_as_empty_cells() {
        use crate::reports::busiest::{Amount, GridCell};
        let cell = |hour, views, visitors, occurrences| GridCell {
            weekday: 7,
            hour,
            views,
            visitors,
            occurrences,
            previous: None,
        };
        let cells = [
            cell(1, Amount::Average(Some(1.5)), Amount::Average(Some(0.33)), 2),
            cell(2, Amount::Average(None), Amount::Average(None), 0),
        ];
        assert_eq!(table(&cells, false), "weekday,hour,views,visitors,occurrences\r\n7,1,1.5,0.33,2\r\n7,2,,,0\r\n");
    }

    #[test]
    fn with_compare_previous_becomes_columns_empty_where_it_is_null() {
        use crate::reports::timeseries::{TimeseriesPrevious, TimeseriesRow};
        let row = |start: &str, previous| TimeseriesRow { start: start.into(), views: 3, visitors: 2, previous };
        let then = TimeseriesPrevious {
            start: Some("2026-03-22T00:00:00+00:00".into()),
            views: Some(1),
            visitors: Some(1),
            suppressed: false,
        };
        let rows = [row("2026-03-29T00:00:00+00:00", Some(Some(then))), row("2026-03-29T02:00:00+01:00", Some(None))];
        assert_eq!(
            table(&rows, true),
            "start,views,visitors,previous_start,previous_views,previous_visitors,previous_suppressed\r\n\
             2026-03-29T00:00:00+00:00,3,2,2026-03-22T00:00:00+00:00,1,1,false\r\n\
             2026-03-29T02:00:00+01:00,3,2,,,,\r\n"
        );
        assert_eq!(table(&rows[..0], false), "start,views,visitors\r\n", "no `compare`: no columns");
    }

    #[test]
    fn every_report_table_has_its_header_line() {
        use crate::reports::breakdowns::{CountriesRow, DevicesRow, SourcesRow};
        use crate::reports::{
            busiest, discovery, events, funnel, goals, publish_timing, realtime, timeseries, top_content,
        };
        fn header<R: Serialize + Default + Compared>() -> String {
            table(&[R::default()], false).split("\r\n").next().unwrap().to_string()
        }
        fn compared<R: Serialize + Default + Compared>() -> String {
            let header = table::<R>(&[], true);
            header.trim_end().split(',').filter(|name| name.starts_with("previous_")).collect::<Vec<_>>().join(",")
        }
        assert_eq!(
            header::<top_content::TopContentRow>(),
            "path,views,visitors,entries,avg_engaged_seconds,engaged_minutes,median_engaged_seconds,\
             engaged_view_share,read_through_share"
        );
        assert_eq!(header::<busiest::GridCell>(), "weekday,hour,views,visitors,occurrences");
        assert_eq!(header::<publish_timing::PublishCell>(), "weekday,hour,pages,median_visitors_24h");
        assert_eq!(
            header::<discovery::ContentDiscoveryRow>(),
            "path,title,published_at,first_view_at,hours_to_first_view,found,views_24h,visitors_24h,views_7d,visitors_7d,\
             internal_share,search_share,social_share,other_share,direct_share,returning_share,\
             hours_to_10_visitors,hours_to_100_visitors,vs_typical_24h,median_engaged_seconds_7d,\
             read_through_share_7d,top_referrers,internal_from,suppressed"
        );
        assert_eq!(
            header::<SourcesRow>(),
            "referrer_host,source_class,utm_source,utm_medium,utm_campaign,sessions,visitors"
        );
        assert_eq!(header::<DevicesRow>(), "browser,os,device,views,visitors");
        assert_eq!(header::<CountriesRow>(), "country,views,visitors");
        assert_eq!(header::<timeseries::TimeseriesRow>(), "start,views,visitors");
        assert_eq!(header::<realtime::RealtimeRow>(), "since,until,views,visitors");
        assert_eq!(header::<events::EventsRow>(), "name,events,visitors,conversion_rate");
        assert_eq!(header::<events::EventPropsRow>(), "value,events,visitors,conversion_rate");
        assert_eq!(header::<goals::GoalsRow>(), "name,conversions,visitors,conversion_rate");
        assert_eq!(
            header::<funnel::FunnelStep>(),
            "name,visitors,dropped_off,drop_off_rate,conversion_rate,suppressed"
        );
        // With `compare`: each number again as `previous_<column>`, and whether it is shown.
        assert_eq!(
            compared::<top_content::TopContentRow>(),
            "previous_views,previous_visitors,previous_entries,previous_avg_engaged_seconds,\
             previous_engaged_minutes,previous_median_engaged_seconds,previous_engaged_view_share,\
             previous_read_through_share,previous_suppressed"
        );
        assert_eq!(
            compared::<busiest::GridCell>(),
            "previous_views,previous_visitors,previous_occurrences,previous_suppressed"
        );
        assert_eq!(
            compared::<publish_timing::PublishCell>(),
            "previous_pages,previous_median_visitors_24h,previous_suppressed"
        );
        assert_eq!(compared::<discovery::ContentDiscoveryRow>(), "", "its totals compare, not its rows");
        assert_eq!(compared::<SourcesRow>(), "previous_sessions,previous_visitors,previous_suppressed");
        for views in [compared::<DevicesRow>(), compared::<CountriesRow>(), compared::<realtime::RealtimeRow>()] {
            assert_eq!(views, "previous_views,previous_visitors,previous_suppressed");
        }
        assert_eq!(
            compared::<timeseries::TimeseriesRow>(),
            "previous_start,previous_views,previous_visitors,previous_suppressed"
        );
        for events in [compared::<events::EventsRow>(), compared::<events::EventPropsRow>()] {
            assert_eq!(events, "previous_events,previous_visitors,previous_conversion_rate,previous_suppressed");
        }
        assert_eq!(
            compared::<goals::GoalsRow>(),
            "previous_conversions,previous_visitors,previous_conversion_rate,previous_suppressed"
        );
        assert_eq!(
            compared::<funnel::FunnelStep>(),
            "previous_visitors,previous_dropped_off,previous_drop_off_rate,previous_conversion_rate,\
             previous_suppressed"
        );
        assert_eq!(compared::<crate::reports::not_stored::NotStoredRow>(), "previous_events,previous_suppressed");
    }

    #[test]
    fn a_row_that_is_not_flat_is_refused() {
        #[derive(Serialize)]
        struct Nested {
            pages: Vec<u64>,
        }
        let mut row = Row::default();
        let refused = Nested { pages: vec![1] }.serialize(&mut row).err().map(|e| e.to_string());
        assert_eq!(refused.as_deref(), Some("a CSV row is a struct of plain values, not u64"));
    }

    #[test]
    fn a_list_of_structs_is_one_cell_of_entries() {
        #[derive(Default, Serialize)]
        struct Source {
            host: String,
            visitors: u64,
        }
        #[derive(Default, Serialize)]
        struct Page {
            path: String,
            sources: Vec<Source>,
        }
        impl Compared for Page {
            type Previous = NoPrevious;
        }
        let source = |host: &str, visitors| Source { host: host.into(), visitors };
        let rows = [
            Page { path: "/a".into(), sources: vec![source("news.example.org", 12), source("t.co", 5)] },
            Page { path: "/b".into(), sources: vec![source("=x,y", 7)] },
            Page { path: "/c".into(), sources: vec![] },
        ];
        assert_eq!(table(&rows, false), "path,sources\r\n/a,news.example.org=12 t.co=5\r\n/b,\"'=x,y=7\"\r\n/c,\r\n");
    }
}
