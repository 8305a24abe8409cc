-- Heartbeats, so that a job whose worker died (kill -9, a lost machine)
-- is rescued within seconds instead of after the job timeout.
--
-- A claim stamps heartbeat_at and the claiming runner's heartbeat_timeout;
-- the runner renews heartbeat_at every few seconds while the handler runs.
-- Any runner's rescuer takes a job whose heartbeat is older than its own
-- timeout for abandoned (jobs/rescue.go). The timeout is kept on the row,
-- not in each rescuer's configuration, so runners configured differently
-- (a test with second-long timeouts beside the defaults) never rescue a
-- job whose worker is alive and keeping the promise it made.
--
-- heartbeat_at gets no index: the rescuer reads every running job through
-- jobs_running (their number is bounded by the workers), and an unindexed
-- column lets a heartbeat be a HOT update that rewrites no index entry.
ALTER TABLE jobs
    ADD COLUMN heartbeat_at      timestamptz,
    ADD COLUMN heartbeat_timeout interval;

-- The claim gains the claiming runner's heartbeat timeout. Its default,
-- NULL, is what a runner of the previous release gets, calling with four
-- arguments during a rolling deploy: it never heartbeats, so its jobs
-- carry no timeout and are rescued the old way, after running too long.
DROP FUNCTION jobs_claim(integer, text, text[], text[]);

-- As in 0004, the SET clauses pin the plan to an ordered walk of
-- jobs_fetch whatever the statistics say.
CREATE FUNCTION jobs_claim(n integer, worker text, kinds text[], tenants text[], heartbeat_timeout interval DEFAULT NULL)
RETURNS SETOF jobs
LANGUAGE sql VOLATILE
SET enable_seqscan = off
SET enable_bitmapscan = off
SET enable_sort = off
AS $$
    UPDATE public.jobs
       SET state = 'running', attempt = attempt + 1, attempted_at = now(), attempted_by = worker,
           heartbeat_at = now(), heartbeat_timeout = jobs_claim.heartbeat_timeout
     WHERE id = ANY(ARRAY(SELECT id FROM public.jobs
                   WHERE state = 'available' AND scheduled_at <= now() AND kind = ANY(kinds)
                     AND (tenants IS NULL OR tenant_schema = ANY(tenants))
                   ORDER BY priority, scheduled_at, id
                   LIMIT n
                   FOR UPDATE SKIP LOCKED))
    RETURNING *
$$;
