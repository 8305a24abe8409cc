-- A delivery's endpoint is no longer checked by a foreign key. The
-- subscriber inserts a hundred delivery rows a signal at a hundred
-- endpoints, only for endpoints it has just read in the same transaction,
-- and the key's check (a trigger and a row lock on the endpoint per
-- delivery) was a third of that insert. Endpoints are never deleted (a
-- failing one is disabled, its log kept); code that comes to delete one
-- deletes its deliveries and their attempts with it.
ALTER TABLE webhook_deliveries DROP CONSTRAINT webhook_deliveries_endpoint_id_fkey;
