//! `not-stored`: where a site's events went when they were not stored. Per reason, the
//! events of the range that intake answered but did not keep (bots, refusals, foreign
//! origins, missing consent), from the `not_stored` counts every node writes once a
//! minute (`ingest::not_stored`). Counts of events, not of people: no small-count rule
//! applies, and the report takes no filters.

use clickhouse::query::Query;
use clickhouse::Row;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::compare::{previous, Against};
use super::exec::Ctx;
use super::render::Header;
use super::sql;
use crate::store::StoreError;

/// One reason's count as [`sql::NOT_STORED`] returns it.
#[derive(Debug, Row, Deserialize)]
pub(crate) struct ReasonCount {
    pub reason: String,
    pub events: u64,
}

/// The answer of `not-stored`.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct NotStored {
    #[serde(flatten)]
    pub header: Header,
    /// Events not stored, per reason, most first; reasons with none are left out.
    pub rows: Vec<NotStoredRow>,
}

/// Events of one reason (also not-stored's CSV line).
#[derive(Debug, Default, Serialize, ToSchema)]
pub(crate) struct NotStoredRow {
    /// `bot`, `gpc`, `opt_out`, `dnt`, `foreign_origin` or `no_consent`.
    #[schema(example = "bot")]
    pub reason: String,
    /// Events answered and not stored for it.
    pub events: u64,
    /// What the reason means, and what to check.
    pub explanation: &'static str,
    /// With `compare`: the reason's events over the comparison range (0 when none);
    /// absent without `compare`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous: Option<NotStoredPrevious>,
}

previous! {
    /// A reason's events over the comparison range (never suppressed: counts of events).
    NotStoredPrevious for NotStoredRow {
        events: u64,
    }
}

/// What `reason` means, for people reading the report.
fn explanation(reason: &str) -> &'static str {
    match reason {
        "bot" => {
            "sent by an automated or headless browser (its user agent says so), answered 202 and dropped; a test \
             with such a browser counts here"
        }
        "gpc" => "the browser sent Global Privacy Control, a refusal footfall always honours (answered 202)",
        "opt_out" => "the visitor opted out on the opt-out page or with footfall.optOut() (answered 202)",
        "dnt" => "the browser sent Do-Not-Track and the site honours it (answered 202; sites add --ignore-dnt)",
        "foreign_origin" => {
            "the page or its Origin is on a host that is not the site's, e.g. a page at 127.0.0.1 for a site \
             registered as localhost (answered 403)"
        }
        "no_consent" => "the site is in consent mode and the event did not say the visitor consented (answered 403)",
        _ => "a reason this version does not know",
    }
}

/// The reasons and counts of `site` in `[start, end)` (UTC seconds); with `against`,
/// each with its events over the comparison range.
pub(crate) async fn rows(
    ctx: &Ctx,
    site: &str,
    (start, end): (u32, u32),
    against: Option<&Against<'_>>,
) -> Result<Vec<NotStoredRow>, StoreError> {
    let read = |(start, end): (u32, u32)| async move {
        query(ctx.query(sql::NOT_STORED), site, (start, end)).fetch_all::<ReasonCount>().await.map_err(StoreError::from)
    };
    let (counts, then) = tokio::try_join!(
        read((start, end)),
        Against::read(against, |scope| read((scope.range.start, scope.range.end))),
    )?;
    Ok(counts
        .into_iter()
        .map(|count| {
            let explanation = explanation(&count.reason);
            let previous = Against::unguarded(against, then.as_ref(), |then: &Vec<ReasonCount>| {
                let events = then.iter().find(|then| then.reason == count.reason).map_or(0, |then| then.events);
                NotStoredPrevious { events: Some(events), suppressed: false }
            });
            NotStoredRow { reason: count.reason, events: count.events, explanation, previous }
        })
        .collect())
}

/// Binds [`sql::NOT_STORED`].
pub(crate) fn query(query: Query, site: &str, (start, end): (u32, u32)) -> Query {
    query.bind(site).bind(start).bind(end)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::not_stored::NotStoredReason;
    use crate::metrics::RefusalSignal;

    #[test]
    fn every_reason_intake_counts_is_explained() {
        let reasons = [
            NotStoredReason::Bot,
            NotStoredReason::Refused(RefusalSignal::GlobalPrivacyControl),
            NotStoredReason::Refused(RefusalSignal::OptOut),
            NotStoredReason::Refused(RefusalSignal::DoNotTrack),
            NotStoredReason::ForeignOrigin,
            NotStoredReason::NoConsent,
        ];
        for reason in reasons {
            assert_ne!(explanation(reason.as_str()), explanation("?"), "{}", reason.as_str());
        }
    }
}
