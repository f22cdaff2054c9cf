-- Day keys apart from the data (privacy rule 2): `day_keys` moves from footfall's database
-- to its own, `{keys_database}` (`<database>_keys`). Whoever can read the events
-- database (product teams' direct queries, Grafana, the read-only `footfall_reader` user
-- that scripts/clickhouse and deploy/clickhouse/users.xml create) must not read the keys:
-- with today's key, a known cookie id or address + user agent gives that person's
-- visitor hash. Only the collector's own user is granted both databases.
--
--   day         the UTC day the key is for
--   key         32 random bytes; every node uses the smallest candidate of a day
--   created_at  when the candidate was offered
--
-- The keys already made are copied over, so hashes stay the same across the upgrade.
CREATE DATABASE IF NOT EXISTS {keys_database} {on_cluster};

CREATE TABLE IF NOT EXISTS {keys_database}.day_keys {on_cluster}
(
    day Date,
    key FixedString(32),
    created_at DateTime('UTC')
)
ENGINE = {engine:MergeTree()}
PARTITION BY day
ORDER BY (day, key);

INSERT INTO {keys_database}.day_keys SELECT day, key, created_at FROM {database}.day_keys;

DROP TABLE IF EXISTS {database}.day_keys {on_cluster}
