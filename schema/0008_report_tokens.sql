-- report_tokens: read-only bearer tokens for one site's reports, made with
-- `footfall tokens create --site S`. Only a hash of each token is stored; the token itself
-- is shown once, when it is created. Rows are versioned: the newest version of an id wins.
--   id          public part of the token (`fft_<id>_<secret>`), 12 hex digits
--   site        the site whose reports the token may read
--   hash        blake3 of the whole token, hex
--   label       free text to recognise the token by (who or what uses it)
--   created_at  when the token was created (UTC)
--   revoked     1 once `footfall tokens revoke ID` was run
--   version     microseconds since the epoch when this version was written
CREATE TABLE IF NOT EXISTS {database}.report_tokens {on_cluster}
(
    id String,
    site String,
    hash String,
    label String,
    created_at DateTime('UTC'),
    revoked UInt8,
    version UInt64
)
ENGINE = {engine:ReplacingMergeTree(version)}
ORDER BY id
