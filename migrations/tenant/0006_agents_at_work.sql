-- Agents that work (SPEC §12): handles, archiving, the failure streak,
-- executions with their logs, and usage per day.

ALTER TABLE agents ADD COLUMN handle text;
ALTER TABLE agents ADD COLUMN archived_at timestamptz;
-- Consecutive failed executions (quota refusals aside); five move the
-- agent to error.
ALTER TABLE agents ADD COLUMN consecutive_failures integer NOT NULL DEFAULT 0;
-- Why the agent is in error (a failed deploy test, five failures).
ALTER TABLE agents ADD COLUMN last_error text;

-- Names are unique per organization, case-insensitively: rename the later
-- of any duplicates made before this rule, as a package install now does.
WITH d AS (SELECT id, row_number() OVER (PARTITION BY lower(name) ORDER BY created_at, id) AS n FROM agents)
UPDATE agents a SET name = left(a.name, 80) || ' (' || coalesce(a.package_slug, 'copy') ||
       CASE WHEN d.n > 2 THEN ' ' || d.n ELSE '' END || ')'
  FROM d WHERE d.id = a.id AND d.n > 1;
-- Handles from names: lowercase words joined by hyphens.
WITH h AS (SELECT id, coalesce(nullif(trim(both '-' FROM left(regexp_replace(lower(name), '[^a-z0-9]+', '-', 'g'), 50)), ''), 'agent') AS base,
                  created_at FROM agents),
     n AS (SELECT id, base, row_number() OVER (PARTITION BY base ORDER BY created_at, id) AS k FROM h)
UPDATE agents a SET handle = n.base || CASE WHEN n.k > 1 THEN '-' || n.k ELSE '' END FROM n WHERE n.id = a.id;
ALTER TABLE agents ALTER COLUMN handle SET NOT NULL;
ALTER TABLE agents ADD CONSTRAINT agents_handle_format CHECK (handle ~ '^[a-z0-9]+(-[a-z0-9]+)*$' AND length(handle) <= 60);
-- A new agent without a handle gets one from its name, made unique with a
-- number (research-assistant, research-assistant-2): installs, the seed
-- and the agent form all get the same rule. The schema comes from the
-- trigger, as tenant SQL never relies on search_path.
CREATE FUNCTION agent_handle() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    base text;
    candidate text;
    n integer := 1;
    taken boolean;
BEGIN
    IF NEW.handle IS NOT NULL THEN
        RETURN NEW;
    END IF;
    base := coalesce(nullif(trim(both '-' FROM left(regexp_replace(lower(NEW.name), '[^a-z0-9]+', '-', 'g'), 50)), ''), 'agent');
    candidate := base;
    LOOP
        EXECUTE format('SELECT EXISTS (SELECT 1 FROM %I.agents WHERE handle = $1 AND archived_at IS NULL)', TG_TABLE_SCHEMA)
            INTO taken USING candidate;
        EXIT WHEN NOT taken;
        n := n + 1;
        candidate := base || '-' || n;
    END LOOP;
    NEW.handle := candidate;
    RETURN NEW;
END $$;
CREATE TRIGGER agent_handle BEFORE INSERT ON agents FOR EACH ROW EXECUTE FUNCTION agent_handle();

-- Archived agents free their name and handle.
CREATE UNIQUE INDEX agents_name_key ON agents (lower(name)) WHERE archived_at IS NULL;
CREATE UNIQUE INDEX agents_handle_key ON agents (handle) WHERE archived_at IS NULL;

-- One run of an agent on an input, whatever asked for it: a person on the
-- agent's page, chat, a workflow step, a forum mention, the API, a deploy's
-- test. Requested through an agent.execute directive (or agent.deploy),
-- run by the job runner.
CREATE TABLE agent_executions (
    id                   uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    agent_id             uuid REFERENCES agents (id) ON DELETE SET NULL,
    agent_name           text NOT NULL,
    status               text NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'canceled')),
    -- What it is for, which decides its prompt and what its output becomes.
    purpose              text NOT NULL CHECK (purpose IN ('run', 'test', 'chat', 'forum_reply', 'workflow')),
    input                text NOT NULL CHECK (length(input) <= 100000),
    output               text NOT NULL DEFAULT '',
    -- What the person is told when it failed; the provider's own words
    -- are only logged (redacted), under error_ref.
    error                text,
    error_ref            text,
    -- A refusal before any provider call (quota, agent not active): not
    -- counted against the agent.
    refused              boolean NOT NULL DEFAULT false,
    model                text,
    provider             text,
    prompt_tokens        integer NOT NULL DEFAULT 0,
    completion_tokens    integer NOT NULL DEFAULT 0,
    cost                 numeric(14, 6) NOT NULL DEFAULT 0,
    -- What asked for it: chat_message, signal, workflow_step, api_key,
    -- forum_post, directive (a deploy), user.
    cause_type           text NOT NULL,
    cause_id             text,
    requested_by_user_id bigint,
    directive_id         uuid,
    -- Where it belongs (conversation and message, thread, run and step).
    context              jsonb NOT NULL DEFAULT '{}',
    attempt              integer NOT NULL DEFAULT 0,
    queued_at            timestamptz NOT NULL DEFAULT now(),
    started_at           timestamptz,
    finished_at          timestamptz,
    -- When the worker recorded its outcome (output, usage, effects): once,
    -- even for a run canceled while it streamed.
    settled_at           timestamptz,
    updated_at           timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX agent_executions_agent ON agent_executions (agent_id, queued_at DESC);
CREATE INDEX agent_executions_recent ON agent_executions (queued_at DESC);

-- What an execution did, step by step: rounds, tool calls, errors.
CREATE TABLE agent_execution_logs (
    seq          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    execution_id uuid NOT NULL REFERENCES agent_executions (id) ON DELETE CASCADE,
    at           timestamptz NOT NULL DEFAULT now(),
    level        text NOT NULL CHECK (level IN ('info', 'warn', 'error')),
    message      text NOT NULL CHECK (length(message) <= 4000)
);
CREATE INDEX agent_execution_logs_execution ON agent_execution_logs (execution_id, seq);

-- Tokens and cost per UTC day and agent, written with each execution's end,
-- so the quota check and the usage page read at most a month of rows.
-- agent_id is the nil uuid for the built-in assistant.
CREATE TABLE usage_daily (
    day               date NOT NULL,
    agent_id          uuid NOT NULL,
    agent_name        text NOT NULL,
    executions        integer NOT NULL DEFAULT 0,
    prompt_tokens     bigint NOT NULL DEFAULT 0,
    completion_tokens bigint NOT NULL DEFAULT 0,
    cost              numeric(14, 6) NOT NULL DEFAULT 0,
    PRIMARY KEY (day, agent_id)
);

-- Full-text search over the forum (the built-in responder, search): kept
-- by PostgreSQL itself, weighted title over body.
ALTER TABLE forum_posts ADD COLUMN search tsvector GENERATED ALWAYS AS (to_tsvector('english', content)) STORED;
CREATE INDEX forum_posts_search ON forum_posts USING gin (search);
ALTER TABLE forum_threads ADD COLUMN search tsvector GENERATED ALWAYS AS (to_tsvector('english', title)) STORED;
CREATE INDEX forum_threads_search ON forum_threads USING gin (search);
