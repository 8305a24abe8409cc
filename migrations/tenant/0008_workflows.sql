-- Workflows (SPEC §13): the platform reacting to its own signals. A
-- workflow's definition is a trigger and a DAG of steps; each signal that
-- matches an enabled workflow starts one run (one per workflow and
-- signal), and each step of a run is a job whose effect commits with its
-- status.

CREATE TABLE workflows (
    id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name               text NOT NULL CHECK (length(name) BETWEEN 1 AND 120),
    description        text NOT NULL DEFAULT '' CHECK (length(description) <= 500),
    enabled            boolean NOT NULL DEFAULT false,
    -- Since when it is enabled: signals from before do not start it, even
    -- when their delivery comes later.
    enabled_at         timestamptz,
    definition         jsonb NOT NULL,
    -- The trigger's signal name, kept beside the definition for the
    -- subscriber's lookup.
    trigger_signal     text NOT NULL,
    package_slug       text,
    version            text NOT NULL DEFAULT '1.0.0',
    -- Whose role the directive steps act with (SPEC §13).
    owner_user_id      bigint,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX workflows_name_key ON workflows (lower(name));
CREATE INDEX workflows_trigger ON workflows (trigger_signal) WHERE enabled;
CREATE INDEX workflows_package ON workflows (package_slug) WHERE package_slug IS NOT NULL;

CREATE TABLE workflow_runs (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    -- Kept when the workflow goes (an uninstall): runs are history.
    workflow_id      uuid REFERENCES workflows (id) ON DELETE SET NULL,
    workflow_name    text NOT NULL,
    -- The definition as it was when the run started: editing the
    -- workflow never changes a run under way.
    definition       jsonb NOT NULL,
    trigger_seq      bigint NOT NULL,
    trigger_id       uuid NOT NULL,
    trigger_name     text NOT NULL,
    -- The template data of .trigger (payload, subject, actor, seq).
    trigger          jsonb NOT NULL,
    -- How many runs deep in a chain of workflows this one is (0: a person
    -- or the platform caused the trigger).
    depth            integer NOT NULL DEFAULT 0,
    status           text NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'waiting', 'succeeded', 'failed', 'canceled')),
    error            text,
    directive_id     uuid,
    started_at       timestamptz NOT NULL DEFAULT now(),
    finished_at      timestamptz,
    updated_at       timestamptz NOT NULL DEFAULT now(),
    UNIQUE (workflow_id, trigger_id)
);
CREATE INDEX workflow_runs_workflow ON workflow_runs (workflow_id, started_at DESC);
CREATE INDEX workflow_runs_recent ON workflow_runs (started_at DESC);

CREATE TABLE workflow_steps (
    run_id             uuid NOT NULL REFERENCES workflow_runs (id) ON DELETE CASCADE,
    step_id            text NOT NULL,
    position           integer NOT NULL,
    kind               text NOT NULL CHECK (kind IN ('agent', 'directive', 'approval', 'delay')),
    status             text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'running', 'waiting', 'succeeded', 'failed', 'skipped')),
    attempt            integer NOT NULL DEFAULT 0,
    -- What the step was given (the rendered prompt or payload) and what it
    -- produced (an execution's output, a directive's result).
    input              text NOT NULL DEFAULT '',
    output             text NOT NULL DEFAULT '',
    error              text,
    execution_id       uuid,
    directive_id       uuid,
    -- An approval's timeout, a delay's end.
    wait_until         timestamptz,
    decided_by_user_id bigint,
    started_at         timestamptz,
    finished_at        timestamptz,
    updated_at         timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (run_id, step_id)
);
CREATE INDEX workflow_steps_execution ON workflow_steps (execution_id) WHERE execution_id IS NOT NULL;
CREATE INDEX workflow_steps_directive ON workflow_steps (directive_id) WHERE directive_id IS NOT NULL;

-- Agents in the forums (SPEC §14): an agent's post links to the execution
-- that wrote it.
ALTER TABLE forum_posts ADD COLUMN execution_id uuid;
