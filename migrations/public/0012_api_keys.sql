-- API keys (SPEC §15). The tenant comes from the key alone, so keys live
-- in the public schema and are found by the SHA-256 of the presented key;
-- the key itself is shown once and never stored. prefix is what the
-- admin page shows to tell keys apart ("fp_Ab12…").
CREATE TABLE api_keys (
    id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    organization_id    bigint NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    name               text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    scope              text NOT NULL CHECK (scope IN ('read', 'write')),
    key_hash           bytea NOT NULL UNIQUE,
    prefix             text NOT NULL,
    created_by_user_id bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at         timestamptz NOT NULL DEFAULT now(),
    -- Updated at most once a minute per key, not on every request.
    last_used_at       timestamptz,
    revoked_at         timestamptz,
    revoked_by_user_id bigint REFERENCES users (id) ON DELETE SET NULL
);
CREATE INDEX api_keys_org ON api_keys (organization_id, created_at DESC, id);

-- The per-key rate limit's fixed window, shared by every process: one row
-- per key, counted up by INSERT … ON CONFLICT DO UPDATE in the statement
-- that authenticates the request, reset when a new window starts.
CREATE TABLE api_rate_limits (
    api_key_id   uuid PRIMARY KEY REFERENCES api_keys (id) ON DELETE CASCADE,
    window_start timestamptz NOT NULL,
    count        integer NOT NULL
);
