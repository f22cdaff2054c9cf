-- The filters a share link locks, set when it is made (`footfall share create --filter
-- NAME=VALUE`, docs/dashboard.md, "Share links"):
--   locked_filters  report filters every report read with the token applies, whatever the
--                   request asks, as a URL query string (`country=%21US&prop.plan=pro`);
--                   empty: none (report tokens, and share links made without --filter)
ALTER TABLE {database}.report_tokens {on_cluster} ADD COLUMN locked_filters String DEFAULT ''
