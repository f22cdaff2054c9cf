-- events.pageview: which page view an event belongs to.
--
--   pageview       keyed hash (the visitor's day key) of the random id the beacon draws
--                  for each page view and sends with every event of that view: the
--                  pageview itself, its engagement events and custom, outbound and
--                  download events. Equal values mean "same page view", within one UTC
--                  day; 0 when the event came without an id (server-side tracking,
--                  imports). Engaged time of a page view: sum(engaged_ms) of its
--                  engagement rows (one per time the page was hidden or left).
ALTER TABLE {database}.events {on_cluster} ADD COLUMN pageview UInt64
