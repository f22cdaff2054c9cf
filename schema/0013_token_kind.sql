-- What a report token is for, set when it is made:
--   kind  'report': a bearer token for the reports API (`footfall tokens create`);
--         'share_link': the token of a read-only dashboard link (`footfall share create`)
-- Rows written before this column existed read it from their label: share links were
-- the tokens whose label started with "share link".
ALTER TABLE {database}.report_tokens {on_cluster} ADD COLUMN kind String DEFAULT if(startsWith(label, 'share link'), 'share_link', 'report')
