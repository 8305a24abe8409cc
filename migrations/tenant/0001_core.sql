-- The tables every organization owns in its schema org_<slug>. Applied with
-- search_path set to that schema (SET LOCAL, inside one transaction), so
-- names here are unqualified; public tables are always named public.x.

CREATE TABLE agents (
    id                      uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name                    text NOT NULL CHECK (length(name) BETWEEN 1 AND 120),
    description             text NOT NULL DEFAULT '',
    version                 text NOT NULL DEFAULT '1.0.0',
    state                   text NOT NULL DEFAULT 'draft' CHECK (state IN ('draft', 'deploying', 'active', 'paused', 'error')),
    config                  jsonb NOT NULL DEFAULT '{"model":"claude-sonnet-4","max_tokens":4096,"temperature":0.7}',
    system_prompt           text NOT NULL DEFAULT '',
    max_concurrent_requests integer NOT NULL DEFAULT 5,
    timeout_seconds         integer NOT NULL DEFAULT 30,
    request_count           bigint NOT NULL DEFAULT 0,
    token_count             bigint NOT NULL DEFAULT 0,
    -- The package that created the agent, so uninstall with purge can remove it.
    package_slug            text,
    created_at              timestamptz NOT NULL DEFAULT now(),
    updated_at              timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX agents_package ON agents (package_slug) WHERE package_slug IS NOT NULL;

CREATE TABLE package_installations (
    id                   uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    package_slug         text NOT NULL UNIQUE,
    package_version      text NOT NULL,
    package_name         text NOT NULL,
    status               text NOT NULL DEFAULT 'requested' CHECK (status IN ('requested', 'installing', 'installed', 'failed', 'disabled')),
    enabled              boolean NOT NULL DEFAULT true,
    installed_by_user_id bigint,
    installed_at         timestamptz,
    config               jsonb NOT NULL DEFAULT '{}',
    idempotency_key      text,
    last_error           text,
    last_error_at        timestamptz,
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now()
);

-- Skills the organization has enabled (through a package or by hand).
CREATE TABLE tenant_skills (
    skill_slug   text PRIMARY KEY,
    package_slug text,
    enabled_at   timestamptz NOT NULL DEFAULT now()
);

-- Signals are append-only facts. seq is the cursor clients resume from.
CREATE TABLE signals (
    seq            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id             uuid NOT NULL UNIQUE DEFAULT gen_random_uuid(),
    name           text NOT NULL CHECK (name ~ '^[a-z0-9_]+\.[a-z0-9_.]+$'),
    dedupe_key     text UNIQUE,
    payload        jsonb NOT NULL DEFAULT '{}',
    metadata       jsonb NOT NULL DEFAULT '{}',
    occurred_at    timestamptz NOT NULL DEFAULT now(),
    actor_type     text,
    actor_id       text,
    subject_type   text,
    subject_id     text,
    source         text NOT NULL,
    correlation_id uuid,
    causation_id   uuid
);
CREATE INDEX signals_subject ON signals (subject_type, subject_id, seq);
CREATE INDEX signals_name ON signals (name, seq);
CREATE INDEX signals_occurred ON signals (occurred_at);

-- One row per (signal, handler) once the handler has run successfully.
CREATE TABLE signal_deliveries (
    signal_seq   bigint NOT NULL REFERENCES signals (seq),
    handler      text NOT NULL,
    delivered_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (signal_seq, handler)
);

CREATE TABLE directives (
    id                   uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name                 text NOT NULL,
    idempotency_key      text UNIQUE,
    status               text NOT NULL DEFAULT 'requested' CHECK (status IN ('requested', 'running', 'succeeded', 'failed', 'canceled')),
    payload              jsonb NOT NULL DEFAULT '{}',
    result               jsonb,
    attempt              integer NOT NULL DEFAULT 0,
    max_attempts         integer NOT NULL DEFAULT 5,
    subject_type         text,
    subject_id           text,
    scheduled_at         timestamptz NOT NULL DEFAULT now(),
    started_at           timestamptz,
    completed_at         timestamptz,
    last_error           text,
    last_error_at        timestamptz,
    requested_by_user_id bigint,
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX directives_status ON directives (status, created_at);
CREATE INDEX directives_subject ON directives (subject_type, subject_id, created_at);

CREATE TABLE forum_categories (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    slug        text NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$' AND length(slug) <= 64),
    name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 64),
    description text NOT NULL DEFAULT '' CHECK (length(description) <= 300),
    status      text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'archived')),
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE forum_threads (
    id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    category_id        uuid NOT NULL REFERENCES forum_categories (id),
    title              text NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
    status             text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'locked', 'archived')),
    created_by_user_id bigint,
    pinned             boolean NOT NULL DEFAULT false,
    post_count         integer NOT NULL DEFAULT 0,
    last_post_at       timestamptz NOT NULL DEFAULT now(),
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX forum_threads_category ON forum_threads (category_id, pinned DESC, last_post_at DESC);
CREATE INDEX forum_threads_latest ON forum_threads (last_post_at DESC);

CREATE TABLE forum_posts (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    thread_id   uuid NOT NULL REFERENCES forum_threads (id),
    content     text NOT NULL CHECK (length(content) BETWEEN 1 AND 20000),
    status      text NOT NULL DEFAULT 'published' CHECK (status IN ('published', 'hidden', 'deleted')),
    author_type text NOT NULL DEFAULT 'human' CHECK (author_type IN ('human', 'agent', 'system')),
    author_id   text,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX forum_posts_thread ON forum_posts (thread_id, created_at, id);
