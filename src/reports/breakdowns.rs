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

use std::cmp::Ordering;

use clickhouse::Row;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::compare::{self, previous, Against, Sides};
use super::exec::{self, Ctx, Scope};
use super::render::{Header, SmallCounts};
use super::small_counts::{self, BreakdownRow, Folding, OTHER};
use super::sql;
use crate::store::StoreError;

#[derive(Debug, Clone, Row, Deserialize)]
pub(crate) struct SourceRow {
    referrer_host: String,
    source_class: String,
    utm_source: String,
    utm_medium: String,
    utm_campaign: String,
    sessions: u64,
    visitors: u64,
}

#[derive(Debug, Clone, Row, Deserialize)]
pub(crate) struct DeviceRow {
    browser: String,
    os: String,
    device: String,
    views: u64,
    visitors: u64,
}

#[derive(Debug, Clone, Row, Deserialize)]
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
    fn set_visitors(&mut self, visitors: u64) {
        self.visitors = visitors;
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
    fn set_visitors(&mut self, visitors: u64) {
        self.visitors = visitors;
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
    fn set_visitors(&mut self, visitors: u64) {
        self.visitors = visitors;
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
    /// With `compare`: the source's numbers over the comparison range (`(other)`: of the
    /// same folded sources); absent without `compare`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous: Option<SourcesPrevious>,
}

previous! {
    /// A sources row's numbers over the comparison range (0 for a source it does not have).
    SourcesPrevious for SourcesRow {
        sessions: u64,
        visitors: u64,
    }
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
    /// With `compare`: the row's numbers over the comparison range (`(other)`: of the
    /// same folded rows); absent without `compare`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous: Option<ViewsPrevious>,
}

previous! {
    /// A row's pageviews and visitors over the comparison range (0 for a key it does not
    /// have).
    ViewsPrevious for DevicesRow, CountriesRow {
        views: u64,
        visitors: u64,
    }
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
    /// With `compare`: the country's numbers over the comparison range (`(other)`: of the
    /// same folded countries); absent without `compare`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous: Option<ViewsPrevious>,
}

/// What a breakdown reads of a range: its rows, each key once (added up by `add`), and
/// how they were read.
async fn read<R: BreakdownRow>(ctx: &Ctx, scope: &Scope<'_>, add: fn(&mut R, &R)) -> Result<Sides<R>, StoreError> {
    let dataset = R::BREAKDOWN.dataset;
    let split = exec::split_for(ctx, scope, &[dataset]).await?;
    let (rows, events_side) = small_counts::read::<R>(ctx, scope, split).await?;
    Ok(Sides { rows: exec::merge(rows, R::key, |total, row| add(total, &row)), split, events_side })
}

/// A breakdown's rows in `order`, those with at least `min_visitors` visitors, at most
/// `limit` of them, then the others as one row relabelled by `label` (its visitors counted
/// once each); with `against`, each row's comparison row (in the same order, the
/// `(other)` row's last; `None`: the key has none there), unless every `previous` is
/// suppressed.
#[allow(clippy::type_complexity)]
async fn rows<R: BreakdownRow>(
    ctx: &Ctx,
    scope: &Scope<'_>,
    (limit, min_visitors): (u64, u64),
    add: fn(&mut R, &R),
    order: fn(&R, &R) -> Ordering,
    label: fn(&mut R),
    against: Option<&Against<'_>>,
) -> Result<(Vec<R>, Folding, Option<Vec<Option<R>>>), StoreError> {
    let (now, then) = tokio::try_join!(
        read(ctx, scope, add),
        Against::read(against, |scope| async move { read(ctx, &scope, add).await })
    )?;
    let Sides { rows: mut sorted, split, events_side } = now;
    sorted.sort_by(order);
    let small_counts::Folded { kept: mut rows, mut other, mut folding, keys } =
        small_counts::fold(sorted, min_visitors, R::visitors, R::key, add, label);
    rows.truncate(limit as usize);
    let shown: Vec<R::Key> = rows.iter().map(R::key).collect();
    let has_other = other.is_some();
    let other_visitors = async {
        match &other {
            Some(other) => small_counts::other_visitors::<R>(ctx, scope, split, &keys, other.visitors(), &events_side)
                .await
                .map(Some),
            None => Ok(None),
        }
    };
    let compared = async {
        match (against, then) {
            (Some(against), Some(then)) => {
                let folded = has_other.then_some(keys.folded.as_slice());
                let (mut rows, other) = compare::breakdown(ctx, &against.scope, then, &shown, folded, add).await?;
                rows.extend(other);
                Ok::<_, StoreError>(Some(rows))
            }
            _ => Ok(None),
        }
    };
    let (counted, compared) = tokio::try_join!(other_visitors, compared)?;
    if let (Some(other), Some((visitors, how))) = (other.as_mut(), counted) {
        other.set_visitors(visitors);
        folding.other_visitors = Some(how);
    }
    rows.extend(other);
    Ok((rows, folding, compared))
}

/// Each of `rows` with its `previous` made by `answer` (the row's) and `of` (the
/// comparison row's, `None` for a key the comparison range does not have).
fn answered<R, A, P: compare::Previous>(
    rows: Vec<R>,
    compared: Option<Vec<Option<R>>>,
    against: Option<&Against<'_>>,
    answer: impl Fn(R, Option<P>) -> A,
    of: impl Fn(Option<&R>) -> (P, u64),
) -> Vec<A> {
    rows.into_iter()
        .enumerate()
        .map(|(at, row)| {
            let previous = Against::previous(against, compared.as_ref(), |then| of(then[at].as_ref()));
            answer(row, previous)
        })
        .collect()
}

/// Sources by sessions, then visitors, then the source's columns.
pub(crate) async fn sources(
    ctx: &Ctx,
    scope: &Scope<'_>,
    limit: u64,
    min_visitors: u64,
    against: Option<&Against<'_>>,
) -> Result<(Vec<SourcesRow>, Folding), StoreError> {
    let add = |total: &mut SourceRow, row: &SourceRow| {
        total.sessions += row.sessions;
        total.visitors += row.visitors;
    };
    let order = |a: &SourceRow, b: &SourceRow| {
        (b.sessions, b.visitors).cmp(&(a.sessions, a.visitors)).then_with(|| a.key().cmp(&b.key()))
    };
    let label = |other: &mut SourceRow| {
        other.referrer_host = OTHER.into();
        for column in [&mut other.source_class, &mut other.utm_source, &mut other.utm_medium, &mut other.utm_campaign] {
            column.clear();
        }
    };
    let (rows, folding, compared) = rows(ctx, scope, (limit, min_visitors), add, order, label, against).await?;
    let answer = |s: SourceRow, previous| SourcesRow {
        referrer_host: s.referrer_host,
        source_class: s.source_class,
        utm_source: s.utm_source,
        utm_medium: s.utm_medium,
        utm_campaign: s.utm_campaign,
        sessions: s.sessions,
        visitors: s.visitors,
        previous,
    };
    let of = |then: Option<&SourceRow>| {
        let row = then.cloned().map(|then| answer(then, None)).unwrap_or_default();
        (SourcesPrevious::from(&row), row.visitors)
    };
    Ok((answered(rows, compared, against, answer, of), folding))
}

/// Devices by views, then visitors, then browser, OS and device class.
pub(crate) async fn devices(
    ctx: &Ctx,
    scope: &Scope<'_>,
    limit: u64,
    min_visitors: u64,
    against: Option<&Against<'_>>,
) -> Result<(Vec<DevicesRow>, Folding), StoreError> {
    let add = |total: &mut DeviceRow, row: &DeviceRow| {
        total.views += row.views;
        total.visitors += row.visitors;
    };
    let order = |a: &DeviceRow, b: &DeviceRow| {
        (b.views, b.visitors).cmp(&(a.views, a.visitors)).then_with(|| a.key().cmp(&b.key()))
    };
    let label = |other: &mut DeviceRow| {
        (other.browser, other.os, other.device) = (OTHER.into(), String::new(), String::new());
    };
    let (rows, folding, compared) = rows(ctx, scope, (limit, min_visitors), add, order, label, against).await?;
    let answer = |d: DeviceRow, previous| DevicesRow {
        browser: d.browser,
        os: d.os,
        device: d.device,
        views: d.views,
        visitors: d.visitors,
        previous,
    };
    let of = |then: Option<&DeviceRow>| {
        let row = then.cloned().map(|then| answer(then, None)).unwrap_or_default();
        (ViewsPrevious::from(&row), row.visitors)
    };
    Ok((answered(rows, compared, against, answer, of), folding))
}

/// Countries by views, then visitors, then country code.
pub(crate) async fn countries(
    ctx: &Ctx,
    scope: &Scope<'_>,
    limit: u64,
    min_visitors: u64,
    against: Option<&Against<'_>>,
) -> Result<(Vec<CountriesRow>, Folding), StoreError> {
    let add = |total: &mut CountryRow, row: &CountryRow| {
        total.views += row.views;
        total.visitors += row.visitors;
    };
    let order = |a: &CountryRow, b: &CountryRow| {
        (b.views, b.visitors).cmp(&(a.views, a.visitors)).then_with(|| a.country.cmp(&b.country))
    };
    let label = |other: &mut CountryRow| other.country = OTHER.into();
    let (rows, folding, compared) = rows(ctx, scope, (limit, min_visitors), add, order, label, against).await?;
    let answer =
        |c: CountryRow, previous| CountriesRow { country: c.country, views: c.views, visitors: c.visitors, previous };
    let of = |then: Option<&CountryRow>| {
        let row = then.cloned().map(|then| answer(then, None)).unwrap_or_default();
        (ViewsPrevious::from(&row), row.visitors)
    };
    Ok((answered(rows, compared, against, answer, of), folding))
}
