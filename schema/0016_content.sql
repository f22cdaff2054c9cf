-- content: the content registry, the pages a site registered with their publish time
-- (`footfall content import`, `POST /api/v1/sites/{site}/content`), so content-discovery
-- knows a page before anyone viewed it. Holds no visitor data. Every registration adds a
-- row; a read takes, per site and path, the earliest publish time and the newest title
-- (docs/operations.md, "Content registry"). Rows equal in all but `registered` are one
-- row after a merge (the newest), which changes neither answer, so a re-import adds
-- nothing for good.
--   site        the registered site
--   path        the page's path, reduced as intake reduces page URLs (redacted too)
--   published   publish time the source gave (UTC)
--   title       the page's title; empty when the source had none
--   registered  microseconds since the epoch when this row was registered
CREATE TABLE IF NOT EXISTS {database}.content {on_cluster}
(
    site String,
    path String,
    published DateTime('UTC'),
    title String,
    registered UInt64
)
ENGINE = {engine:ReplacingMergeTree(registered)}
ORDER BY (site, path, published, title)
