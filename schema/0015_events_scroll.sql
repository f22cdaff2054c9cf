-- events.scroll: how far the visitor read the page. On engagement events, the deepest
-- point of the page the visitor had seen when the event was sent, in percent of the
-- page's height (0-100, as the beacon measures it: the bottom of the window over the
-- height of the document); a page view's read depth is the largest scroll of its
-- engagement rows. 0 on every other event and where none was sent (older beacons,
-- server-side tracking, rows written before this column existed).
ALTER TABLE {database}.events {on_cluster} ADD COLUMN scroll UInt8
