-- events.event_id: a number the collector gives each event when it first tries to store
-- it, unique per event (a random base per batch plus the row's index). Before re-sending
-- rows whose earlier INSERT may have landed (a lost acknowledgement, a crash mid-insert),
-- the collector asks which of their ids are already stored and sends only the others, so
-- every event is stored exactly once. 0 for rows written before this column existed.
ALTER TABLE {database}.events {on_cluster} ADD COLUMN event_id UInt64 DEFAULT 0
