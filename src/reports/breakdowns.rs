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
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::exec::{self, Ctx, Scope};
use super::render::{Header, SmallCounts};
use super::small_counts::{self, BreakdownRow, Folding, OTHER};
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

impl BreakdownRow for SourceRow {
    type Key = [String; 5];
    const BREAKDOWN: &'static sql::Breakdown = &sql::SOURCE_ROWS;
    fn key(&self) -> [String; 5] {
        [&self.referrer_host, &self.source_class, &self.utm_source, &self.utm_medium, &self.utm_campaign]
            .map(String::clone)
    }
    fn visitors(&self) -> u64 {
        self.visitors
    }
}

impl BreakdownRow for DeviceRow {
    type Key = [String; 3];
    const BREAKDOWN: &'static sql::Breakdown = &sql::DEVICE_ROWS;
    fn key(&self) -> [String; 3] {
        [&self.browser, &self.os, &self.device].map(String::clone)
    }
    fn visitors(&self) -> u64 {
        self.visitors
    }
}

impl BreakdownRow for CountryRow {
    type Key = String;
    const BREAKDOWN: &'static sql::Breakdown = &sql::COUNTRY_ROWS;
    fn key(&self) -> String {
        self.country.clone()
    }
    fn visitors(&self) -> u64 {
        self.visitors
    }
}

/// The answer of `sources`.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct Sources {
    #[serde(flatten)]
    pub header: Header,
    pub small_counts: SmallCounts,
    /// By sessions, then visitors, then the source's columns; the `(other)` row last.
    pub rows: Vec<SourcesRow>,
}

/// One source of `sources` (also its CSV line).
#[derive(Debug, Default, Serialize, ToSchema)]
pub(crate) struct SourcesRow {
    /// Referrer host; empty for direct visits; `(other)` for the folded rows.
    pub referrer_host: String,
    /// direct, internal, search, social or other; empty in the `(other)` row.
    pub source_class: String,
    pub utm_source: String,
    pub utm_medium: String,
    pub utm_campaign: String,
    /// Pageviews that began a session.
    pub sessions: u64,
    /// Visitors who began those sessions (visitor-days).
    pub visitors: u64,
}

/// The answer of `devices`.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct Devices {
    #[serde(flatten)]
    pub header: Header,
    pub small_counts: SmallCounts,
    /// By views, then visitors, then browser, OS and device class; the `(other)` row last.
    pub rows: Vec<DevicesRow>,
}

/// One browser, OS and device class of `devices` (also its CSV line).
#[derive(Debug, Default, Serialize, ToSchema)]
pub(crate) struct DevicesRow {
    /// Browser family, or `(other)` for the folded rows.
    pub browser: String,
    /// Operating system; empty in the `(other)` row.
    pub os: String,
    /// Device class (desktop, mobile, tablet, ...); empty in the `(other)` row.
    pub device: String,
    /// Pageviews.
    pub views: u64,
    /// Visitors (visitor-days).
    pub visitors: u64,
}

/// The answer of `countries`.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct Countries {
    #[serde(flatten)]
    pub header: Header,
    pub small_counts: SmallCounts,
    /// By views, then visitors, then country code; the `(other)` row last.
    pub rows: Vec<CountriesRow>,
}

/// One country of `countries` (also its CSV line).
#[derive(Debug, Default, Serialize, ToSchema)]
pub(crate) struct CountriesRow {
    /// ISO 3166 code from the browser's time zone; empty when unknown; `(other)` for the
    /// folded rows.
    pub country: String,
    /// Pageviews.
    pub views: u64,
    /// Visitors (visitor-days).
    pub visitors: u64,
}

/// Sources by sessions, then visitors, then the source's columns.
pub(crate) async fn sources(
    ctx: &Ctx,
    scope: &Scope<'_>,
    limit: u64,
    min_visitors: u64,
) -> Result<(Vec<SourcesRow>, Folding), StoreError> {
    let split = exec::split_for(ctx, scope, &[&sql::SOURCES]).await?;
    let (rows, events_side) = small_counts::read::<SourceRow>(ctx, scope, split).await?;
    let key = SourceRow::key;
    let add = |total: &mut SourceRow, row: &SourceRow| {
        total.sessions += row.sessions;
        total.visitors += row.visitors;
    };
    let mut sources = exec::merge(rows, key, |total, row| add(total, &row));
    sources.sort_by(|a, b| (b.sessions, b.visitors).cmp(&(a.sessions, a.visitors)).then_with(|| key(a).cmp(&key(b))));
    let small_counts::Folded { kept: mut sources, mut other, mut folding, keys } =
        small_counts::fold(sources, min_visitors, SourceRow::visitors, key, add, |other| {
            other.referrer_host = OTHER.into();
            for column in
                [&mut other.source_class, &mut other.utm_source, &mut other.utm_medium, &mut other.utm_campaign]
            {
                column.clear();
            }
        });
    if let Some(other) = other.as_mut() {
        let (visitors, how) =
            small_counts::other_visitors::<SourceRow>(ctx, scope, split, &keys, other.visitors, &events_side).await?;
        (other.visitors, folding.other_visitors) = (visitors, Some(how));
    }
    sources.truncate(limit as usize);
    let rows = sources
        .into_iter()
        .chain(other)
        .map(|s| SourcesRow {
            referrer_host: s.referrer_host,
            source_class: s.source_class,
            utm_source: s.utm_source,
            utm_medium: s.utm_medium,
            utm_campaign: s.utm_campaign,
            sessions: s.sessions,
            visitors: s.visitors,
        })
        .collect();
    Ok((rows, folding))
}

/// Devices by views, then visitors, then browser, OS and device class.
pub(crate) async fn devices(
    ctx: &Ctx,
    scope: &Scope<'_>,
    limit: u64,
    min_visitors: u64,
) -> Result<(Vec<DevicesRow>, Folding), StoreError> {
    let split = exec::split_for(ctx, scope, &[&sql::DEVICES]).await?;
    let (rows, events_side) = small_counts::read::<DeviceRow>(ctx, scope, split).await?;
    let key = DeviceRow::key;
    let add = |total: &mut DeviceRow, row: &DeviceRow| {
        total.views += row.views;
        total.visitors += row.visitors;
    };
    let mut devices = exec::merge(rows, key, |total, row| add(total, &row));
    devices.sort_by(|a, b| (b.views, b.visitors).cmp(&(a.views, a.visitors)).then_with(|| key(a).cmp(&key(b))));
    let small_counts::Folded { kept: mut devices, mut other, mut folding, keys } =
        small_counts::fold(devices, min_visitors, DeviceRow::visitors, key, add, |other| {
            (other.browser, other.os, other.device) = (OTHER.into(), String::new(), String::new());
        });
    if let Some(other) = other.as_mut() {
        let (visitors, how) =
            small_counts::other_visitors::<DeviceRow>(ctx, scope, split, &keys, other.visitors, &events_side).await?;
        (other.visitors, folding.other_visitors) = (visitors, Some(how));
    }
    devices.truncate(limit as usize);
    let rows = devices
        .into_iter()
        .chain(other)
        .map(|d| DevicesRow { browser: d.browser, os: d.os, device: d.device, views: d.views, visitors: d.visitors })
        .collect();
    Ok((rows, folding))
}

/// Countries by views, then visitors, then country code.
pub(crate) async fn countries(
    ctx: &Ctx,
    scope: &Scope<'_>,
    limit: u64,
    min_visitors: u64,
) -> Result<(Vec<CountriesRow>, Folding), StoreError> {
    let split = exec::split_for(ctx, scope, &[&sql::COUNTRIES]).await?;
    let (rows, events_side) = small_counts::read::<CountryRow>(ctx, scope, split).await?;
    let add = |total: &mut CountryRow, row: &CountryRow| {
        total.views += row.views;
        total.visitors += row.visitors;
    };
    let key = CountryRow::key;
    let mut countries = exec::merge(rows, key, |total, row| add(total, &row));
    countries.sort_by(|a, b| (b.views, b.visitors).cmp(&(a.views, a.visitors)).then_with(|| a.country.cmp(&b.country)));
    let small_counts::Folded { kept: mut countries, mut other, mut folding, keys } =
        small_counts::fold(countries, min_visitors, CountryRow::visitors, key, add, |other| {
            other.country = OTHER.into()
        });
    if let Some(other) = other.as_mut() {
        let (visitors, how) =
            small_counts::other_visitors::<CountryRow>(ctx, scope, split, &keys, other.visitors, &events_side).await?;
        (other.visitors, folding.other_visitors) = (visitors, Some(how));
    }
    countries.truncate(limit as usize);
    let rows = countries
        .into_iter()
        .chain(other)
        .map(|c| CountriesRow { country: c.country, views: c.views, visitors: c.visitors })
        .collect();
    Ok((rows, folding))
}
