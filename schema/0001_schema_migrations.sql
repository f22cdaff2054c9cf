-- The migrations ledger: one row per applied schema file. `footfall migrate` (and
-- `footfall serve` at start) applies every file in schema/ whose version is not here.
--   version     number from the file name (0001_... -> 1)
--   name        file name without the .sql suffix
--   checksum    blake3 of the file's text, hex; a changed applied file is reported
--   applied_at  when this node applied it (UTC)
CREATE TABLE IF NOT EXISTS {database}.schema_migrations {on_cluster}
(
    version UInt32,
    name String,
    checksum String,
    applied_at DateTime('UTC')
)
ENGINE = {engine:MergeTree()}
ORDER BY version
