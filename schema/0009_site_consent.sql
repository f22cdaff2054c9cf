-- sites.consent: 1 when the site is in consent mode (`footfall sites add DOMAIN
-- --consent`): the collector takes an event for it only when the event carries
-- "consent": true, which the beacon sends once the page called footfall.consent(true).
-- Events without it are refused (403, counted as no_consent). 0: no consent needed.
ALTER TABLE {database}.sites {on_cluster} ADD COLUMN consent UInt8 DEFAULT 0
