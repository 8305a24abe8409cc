-- The job runner's queue (jobs/) and the cron schedule's shared state.

-- One row per job. A job is 'available' until a worker claims it
-- ('running'); a future scheduled_at (scheduled jobs, retries waiting out
-- their backoff) keeps it out of reach until then. Finished jobs stay for
-- the admin page until cron prunes them past the retention period.
CREATE TABLE jobs (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind          text NOT NULL CHECK (length(kind) BETWEEN 1 AND 100),
    -- The tenant schema the job works on, so an admin page can show one
    -- tenant's jobs only. NULL for platform jobs (cron, maintenance).
    tenant_schema text,
    args          jsonb NOT NULL DEFAULT '{}',
    state         text NOT NULL DEFAULT 'available' CHECK (state IN ('available', 'running', 'completed', 'discarded', 'cancelled')),
    -- Lower runs first.
    priority      smallint NOT NULL DEFAULT 0,
    attempt       integer NOT NULL DEFAULT 0,
    max_attempts  integer NOT NULL DEFAULT 20 CHECK (max_attempts > 0),
    scheduled_at  timestamptz NOT NULL DEFAULT now(),
    attempted_at  timestamptz,
    -- The runner instance that holds the current attempt: a late result
    -- from another instance (or an earlier attempt) must not finalise it.
    attempted_by  text,
    finalized_at  timestamptz,
    last_error    text,
    -- Every failed attempt: [{"attempt":n,"at":"…","error":"…"}].
    errors        jsonb NOT NULL DEFAULT '[]',
    -- At most one live (available or running) job per key: a replay or a
    -- cron tick that finds the work already queued adds nothing.
    unique_key    text,
    created_at    timestamptz NOT NULL DEFAULT now()
);

-- Every state change rewrites a job's index entries (state is in the
-- partial indexes' predicates, so no update is HOT): each index here is
-- paid twice per job, and partial ones only while their predicate holds.
-- The claim query walks this index in priority order.
CREATE INDEX jobs_fetch ON jobs (priority, scheduled_at, id) WHERE state = 'available';
-- The rescuer looks for attempts that have run too long.
CREATE INDEX jobs_running ON jobs (attempted_at) WHERE state = 'running';
-- Pruning finished jobs.
CREATE INDEX jobs_finalized ON jobs (finalized_at) WHERE finalized_at IS NOT NULL;
-- One tenant's jobs, newest first, for the admin page.
CREATE INDEX jobs_tenant ON jobs (tenant_schema, id DESC) WHERE tenant_schema IS NOT NULL;
CREATE UNIQUE INDEX jobs_unique_live ON jobs (unique_key)
    WHERE unique_key IS NOT NULL AND state IN ('available', 'running');

-- Workers LISTEN on fp_jobs. Every insert that makes work available now
-- notifies from inside the inserting transaction, so the notification is
-- delivered exactly when the rows become visible (NOTIFY is transactional)
-- and no code path that enqueues can forget it. One statement-level
-- trigger per INSERT keeps it to one notification per batch; Postgres
-- folds identical notifications within a transaction into one.
CREATE FUNCTION jobs_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM new_jobs WHERE state = 'available' AND scheduled_at <= now()) THEN
        PERFORM pg_notify('fp_jobs', '');
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER jobs_notify AFTER INSERT ON jobs
    REFERENCING NEW TABLE AS new_jobs
    FOR EACH STATEMENT EXECUTE FUNCTION jobs_notify();

-- Cron: when each task may next run. Every instance runs the same
-- schedule; the one that first moves next_run_at forward owns that tick,
-- so each tick runs on exactly one instance.
CREATE TABLE cron_tasks (
    name          text PRIMARY KEY,
    next_run_at   timestamptz NOT NULL,
    last_run_at   timestamptz,
    last_run_by   text
);
