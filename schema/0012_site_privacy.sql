-- A site's own privacy choices (privacy rules 3 and 4), set with `footfall sites add`:
--
--   ignore_dnt  1: `DNT: 1` does not stop counting (`--ignore-dnt`, the same choice as
--               the beacon's `data-dnt="ignore"`); Global Privacy Control and the opt-out
--               cookie are always honoured
--   redact      the site's own regular expressions (`--redact REGEX`, repeatable): what
--               each matches in a page path (its first group, when it has one) is
--               stored as `[id]`
ALTER TABLE {database}.sites {on_cluster} ADD COLUMN ignore_dnt UInt8 DEFAULT 0;

ALTER TABLE {database}.sites {on_cluster} ADD COLUMN redact Array(String)
