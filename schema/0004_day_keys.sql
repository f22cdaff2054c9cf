-- day_keys: the secret keys visitor and session hashes are keyed with, one per UTC day,
-- shared by every collector node. A node that finds no key for a day inserts a random
-- candidate; when two nodes race, every node uses the smallest candidate, so they agree.
-- Keys are deleted once their day is more than 48 h past its start, after which that
-- day's hashes can never be linked to a person again. One partition per day, so a day's
-- keys are deleted at once with DROP PARTITION (a mutation would take its time).
--   day         the UTC day the key is for
--   key         32 random bytes
--   created_at  when the candidate was inserted
CREATE TABLE IF NOT EXISTS {database}.day_keys {on_cluster}
(
    day Date,
    key FixedString(32),
    created_at DateTime('UTC')
)
ENGINE = {engine:MergeTree()}
PARTITION BY day
ORDER BY (day, key)
