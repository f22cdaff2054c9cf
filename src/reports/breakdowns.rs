//! `sources`, `devices` and `countries`: the site's traffic broken down by one set of
//! columns, largest first. Each reads its day summaries (`day_sources`, `day_devices`,
//! `day_countries`) and events for the days they do not cover.
//!
//! - sources: the pageviews that began a session (`sessions`), and the visitors who began
//!   them, per referrer host, source class and utm_source/medium/campaign;
//! - devices: pageviews and visitors per browser family, operating system and device class;
//! - countries: pageviews and visitors per country (ISO 3166 code from the browser's time
//!   zone; empty when unknown).
//!
//! Rows with fewer than `min_visitors` visitors are folded into one row whose first column
//! is `(other)` and whose other text columns are empty.

use clickhouse::Row;
use serde::Deserialize;

use super::exec::{self, Ctx, Scope};
use super::render::Table;
use super::small_counts::{self, Folding, OTHER};
use super::sql;
use crate::store::StoreError;

#[derive(Debug, Row, Deserialize)]
pub(crate) struct SourceRow {
    referrer_host: String,
    source_class: String,
    utm_source: String,
    utm_medium: String,
    utm_campaign: String,
    sessions: u64,
    visitors: u64,
}

#[derive(Debug, Row, Deserialize)]
pub(crate) struct DeviceRow {
    browser: String,
    os: String,
    device: String,
    views: u64,
    visitors: u64,
}

#[derive(Debug, Row, Deserialize)]
pub(crate) struct CountryRow {
    country: String,
    views: u64,
    visitors: u64,
}

/// Columns of the sources answer.
pub(crate) const SOURCE_COLUMNS: &[&str] =
    &["referrer_host", "source_class", "utm_source", "utm_medium", "utm_campaign", "sessions", "visitors"];
/// Columns of the devices answer.
pub(crate) const DEVICE_COLUMNS: &[&str] = &["browser", "os", "device", "views", "visitors"];
/// Columns of the countries answer.
pub(crate) const COUNTRY_COLUMNS: &[&str] = &["country", "views", "visitors"];

/// Sources by sessions, then visitors, then the source's columns.
pub(crate) async fn sources(
    ctx: &Ctx,
    scope: &Scope<'_>,
    limit: u64,
    min_visitors: u64,
) -> Result<(Table, Folding), StoreError> {
    let split = exec::split_for(ctx, scope, &[&sql::SOURCES]).await?;
    let rows: Vec<SourceRow> = exec::fetch(ctx, &sql::SOURCES, scope, split).await?;
    let key = |row: &SourceRow| {
        [&row.referrer_host, &row.source_class, &row.utm_source, &row.utm_medium, &row.utm_campaign].map(String::clone)
    };
    let add = |total: &mut SourceRow, row: &SourceRow| {
        total.sessions += row.sessions;
        total.visitors += row.visitors;
    };
    let mut sources = exec::merge(rows, key, |total, row| add(total, &row));
    sources.sort_by(|a, b| (b.sessions, b.visitors).cmp(&(a.sessions, a.visitors)).then_with(|| key(a).cmp(&key(b))));
    let (mut sources, other, folding) = small_counts::fold(
        sources,
        min_visitors,
        |s| s.visitors,
        add,
        |other| {
            other.referrer_host = OTHER.into();
            for column in
                [&mut other.source_class, &mut other.utm_source, &mut other.utm_medium, &mut other.utm_campaign]
            {
                column.clear();
            }
        },
    );
    sources.truncate(limit as usize);
    let mut table = Table::new(SOURCE_COLUMNS);
    for s in sources.into_iter().chain(other) {
        table.push(vec![
            s.referrer_host.into(),
            s.source_class.into(),
            s.utm_source.into(),
            s.utm_medium.into(),
            s.utm_campaign.into(),
            s.sessions.into(),
            s.visitors.into(),
        ]);
    }
    Ok((table, folding))
}

/// Devices by views, then visitors, then browser, OS and device class.
pub(crate) async fn devices(
    ctx: &Ctx,
    scope: &Scope<'_>,
    limit: u64,
    min_visitors: u64,
) -> Result<(Table, Folding), StoreError> {
    let split = exec::split_for(ctx, scope, &[&sql::DEVICES]).await?;
    let rows: Vec<DeviceRow> = exec::fetch(ctx, &sql::DEVICES, scope, split).await?;
    let key = |row: &DeviceRow| [&row.browser, &row.os, &row.device].map(String::clone);
    let add = |total: &mut DeviceRow, row: &DeviceRow| {
        total.views += row.views;
        total.visitors += row.visitors;
    };
    let mut devices = exec::merge(rows, key, |total, row| add(total, &row));
    devices.sort_by(|a, b| (b.views, b.visitors).cmp(&(a.views, a.visitors)).then_with(|| key(a).cmp(&key(b))));
    let (mut devices, other, folding) = small_counts::fold(
        devices,
        min_visitors,
        |d| d.visitors,
        add,
        |other| {
            (other.browser, other.os, other.device) = (OTHER.into(), String::new(), String::new());
        },
    );
    devices.truncate(limit as usize);
    let mut table = Table::new(DEVICE_COLUMNS);
    for d in devices.into_iter().chain(other) {
        table.push(vec![d.browser.into(), d.os.into(), d.device.into(), d.views.into(), d.visitors.into()]);
    }
    Ok((table, folding))
}

/// Countries by views, then visitors, then country code.
pub(crate) async fn countries(
    ctx: &Ctx,
    scope: &Scope<'_>,
    limit: u64,
    min_visitors: u64,
) -> Result<(Table, Folding), StoreError> {
    let split = exec::split_for(ctx, scope, &[&sql::COUNTRIES]).await?;
    let rows: Vec<CountryRow> = exec::fetch(ctx, &sql::COUNTRIES, scope, split).await?;
    let add = |total: &mut CountryRow, row: &CountryRow| {
        total.views += row.views;
        total.visitors += row.visitors;
    };
    let mut countries = exec::merge(rows, |row| row.country.clone(), |total, row| add(total, &row));
    countries.sort_by(|a, b| (b.views, b.visitors).cmp(&(a.views, a.visitors)).then_with(|| a.country.cmp(&b.country)));
    let (mut countries, other, folding) =
        small_counts::fold(countries, min_visitors, |c| c.visitors, add, |other| other.country = OTHER.into());
    countries.truncate(limit as usize);
    let mut table = Table::new(COUNTRY_COLUMNS);
    for c in countries.into_iter().chain(other) {
        table.push(vec![c.country.into(), c.views.into(), c.visitors.into()]);
    }
    Ok((table, folding))
}
