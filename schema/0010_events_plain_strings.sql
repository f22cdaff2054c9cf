-- events: the low-cardinality text columns outside the sorting key become plain String
-- (hostname, source_class, screen, browser, os, device, country; page_views.source_class
-- with them, which its materialised view copies from events).
--
-- Why: footfall inserts RowBinary, and ClickHouse reads a LowCardinality value of a
-- RowBinary row through a temporary column of its own, allocated and freed for every
-- value: measured on 18.16 under full ingest load, that was a third of ClickHouse's CPU
-- (its memory tracker alone a quarter). As String, the same rows cost ClickHouse about a
-- quarter less CPU per event (load/README.md, "ClickHouse's share"). The values and every
-- query stay the same; on disk these columns take a few bytes more per row after
-- compression. site and name stay LowCardinality: they are in the sorting key, whose
-- column types ClickHouse does not change in place.
--
-- An ALTER ... MODIFY COLUMN rewrites these columns of every stored part (on 18.16 before
-- it returns; on current ClickHouse as a mutation in the background). Between the two
-- statements, 18.16 refuses to push events into page_views (String into LowCardinality or
-- the reverse): events other collectors insert then are stored in events but may miss the
-- rollups. README.md ("What footfall does on a cluster") says how to upgrade past it.
ALTER TABLE {database}.events {on_cluster}
    MODIFY COLUMN hostname String,
    MODIFY COLUMN source_class String,
    MODIFY COLUMN screen String,
    MODIFY COLUMN browser String,
    MODIFY COLUMN os String,
    MODIFY COLUMN device String,
    MODIFY COLUMN country String;

ALTER TABLE {database}.page_views {on_cluster} MODIFY COLUMN source_class String
