-- not_stored: how many events intake answered but did not store, per site, hour and
-- reason, so the dashboard can say where a site's events went ("Where did my events
-- go?"). Counts only: no visitor, path or client data. Written once a minute by every
-- collector node from its in-memory tally (a node's last minute is lost when it is
-- killed); rows of one key are summed.
--   site    the registered site the events named
--   hour    the UTC hour the events arrived in
--   reason  bot (automated or headless browser), gpc (Global Privacy Control), opt_out
--           (the opt-out cookie), dnt (Do-Not-Track), foreign_origin (a page or Origin
--           on a host that is not the site's), no_consent (consent mode, no consent)
--   events  how many
CREATE TABLE IF NOT EXISTS {database}.not_stored {on_cluster}
(
    site String,
    hour DateTime('UTC'),
    reason String,
    events UInt64
)
ENGINE = {engine:SummingMergeTree(events)}
PARTITION BY toYYYYMM(hour)
ORDER BY (site, hour, reason)
