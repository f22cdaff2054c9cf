-- goals and funnels.
--
-- goals: what each site counts as a conversion (`footfall goals add`, docs/operations.md,
-- "Goals"); read by the goals report and the `goal=` filter. Holds no visitor data.
-- Every change adds a row; the newest row of a site and name (by `changed`) is the goal,
-- or, with `removed` set, says it was removed.
--   site     the registered site
--   name     the goal's name (unique per site)
--   kind     `event` (a custom event of the name in `target`) or `page` (a pageview whose
--            path matches the pattern in `target`, `*` matching any characters)
--   target   the event name or the page pattern
--   changed  microseconds since the epoch when this row was written
--   removed  1: the goal was removed
CREATE TABLE IF NOT EXISTS {database}.goals {on_cluster}
(
    site String,
    name String,
    kind String,
    target String,
    changed UInt64,
    removed UInt8
)
ENGINE = {engine:ReplacingMergeTree(changed)}
ORDER BY (site, name);

-- funnels: each site's funnels (`footfall funnels add`, docs/operations.md, "Funnels"),
-- read by the funnel report: a name and the goals a visitor reaches in order. Holds no
-- visitor data. Versioned as goals are.
--   site     the registered site
--   name     the funnel's name (unique per site)
--   steps    the names of its goals, in order (2 to 8)
--   changed  microseconds since the epoch when this row was written
--   removed  1: the funnel was removed
CREATE TABLE IF NOT EXISTS {database}.funnels {on_cluster}
(
    site String,
    name String,
    steps Array(String),
    changed UInt64,
    removed UInt8
)
ENGINE = {engine:ReplacingMergeTree(changed)}
ORDER BY (site, name)
