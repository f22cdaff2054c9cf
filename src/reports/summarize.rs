//! The summarizer: once a site-local day has ended, computes its exact numbers from
//! `events` into the day summary tables (`day_pages`, `day_page_histograms`,
//! `day_sources`, `day_devices`, `day_countries`, `day_totals`, `hour_totals`), then
//! records the day in `summary_days` with the event count it saw and its [`FORMAT`]. `jobs` runs a pass in `footfall serve` every
//! `reports.summarize_every_secs` (default 60; 0 turns it off on a node); a day is redone
//! whenever its event count changed (late events, backfills, imports). The summaries are
//! the reports' own derived tables: they never hold or change events. Several nodes summarizing the same day store identical numbers;
//! the newest version is read.
//!
//! Summaries only make reports fast: the planner (`exec`) reads events for every day
//! whose summary is missing or stale, so answers are the same before and after.

use chrono::{DateTime, Days, NaiveDate, Utc};
use chrono_tz::Tz;
use clickhouse::query::Query;

use super::exec::{plan_rows, Ctx};
use super::filters::Filters;
use super::sql::{self, Dataset, EventScope, DATASETS};
use super::time::{date_from_day_number, day_start, local_date};
use crate::store::{Store, StoreError};

/// How long after a day ends it is summarized, in seconds (events still in batches or
/// retries arrive meanwhile; later ones make the day be summarized again).
pub const GRACE_SECS: i64 = 300;

/// The format of the summaries this build writes (`summary_days.format`): which summary
/// tables a day's summary fills. Reports and the summarizer see only summaries of this
/// format, so a day summarized by an older build is read from events until the next pass
/// summarizes it again. Raise it when a dataset gains a table or a column. 2: with
/// `day_page_histograms` (`schema/0020_page_histograms.sql`); 1: with
/// `day_page_engagement` (`schema/0017_page_engagement.sql`); 0: before.
pub const FORMAT: u16 = 2;

/// One pass: summarizes, for every registered site in its time zone, each day that ended
/// at least [`GRACE_SECS`] before `now` and whose summary is missing or stale. Returns how
/// many days it summarized.
///
/// # Errors
/// ClickHouse being unreachable or refusing a statement; days done before stay done.
pub async fn summarize(store: &Store, now: DateTime<Utc>) -> Result<usize, StoreError> {
    let ctx = Ctx::new(store.client(), store.database(), "summarize");
    let mut summarized = 0;
    for site in store.list_sites().await? {
        let Ok(tz) = site.timezone.parse::<Tz>() else {
            continue;
        };
        let today = local_date(tz, now.timestamp());
        let first = NaiveDate::from_ymd_opt(1970, 1, 1).expect("a valid date");
        let rows = plan_rows(&ctx, site.domain.as_str(), tz.name(), (0, u32::MAX), (first, today)).await?;
        for row in rows.iter().filter(|row| !row.summary_is_current()) {
            let day = date_from_day_number(row.day_number);
            let Some(next) = day.checked_add_days(Days::new(1)) else {
                continue;
            };
            if i64::from(day_start(tz, next)) + GRACE_SECS > now.timestamp() {
                continue;
            }
            summarize_day(&ctx, site.domain.as_str(), tz, day, row.events, now).await?;
            summarized += 1;
        }
    }
    Ok(summarized)
}

/// Binds `dataset`'s `summarize` statement for `day`.
pub(crate) fn summarize_query(
    query: Query,
    dataset: &Dataset,
    site: &str,
    tz: Tz,
    day: NaiveDate,
    version: u64,
) -> Query {
    let next = day.checked_add_days(Days::new(1)).expect("dates are before 2100");
    let scope =
        EventScope { site, tz: tz.name(), start: day_start(tz, day), end: day_start(tz, next), filters: Filters::NONE };
    dataset.bind_events(query.bind(site).bind(tz.name()).bind(version), &scope)
}

/// Binds [`sql::SUMMARY_DAY`].
pub(crate) fn summary_day_query(query: Query, site: &str, tz: Tz, day: NaiveDate, version: u64, events: u64) -> Query {
    query.bind(site).bind(tz.name()).bind(day.to_string()).bind(version).bind(events).bind(FORMAT)
}

/// Writes one day's summaries, then its `summary_days` row (so a reader never sees the
/// new version before all of its rows are stored).
async fn summarize_day(
    ctx: &Ctx,
    site: &str,
    tz: Tz,
    day: NaiveDate,
    events: u64,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let version = now.timestamp_micros() as u64;
    for dataset in DATASETS {
        summarize_query(ctx.query(&dataset.summarize_sql()), dataset, site, tz, day, version).execute().await?;
    }
    summary_day_query(ctx.query(sql::SUMMARY_DAY), site, tz, day, version, events).execute().await?;
    tracing::debug!(site, day = %day, events, "summarized a day");
    Ok(())
}
