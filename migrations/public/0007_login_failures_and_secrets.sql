-- Failed sign-ins, shared by every process (SPEC §17). One row per key:
-- "acct:<email>|ip:<client>" for an account tried from one client, and
-- "ip:<client>" for the client itself. The throttle (handlers/throttle.go)
-- makes an attempt wait longer as a key's failures grow; a row whose last
-- failure is older than the throttle's window counts as none, and cron
-- deletes such rows.
CREATE TABLE login_failures (
    key            text PRIMARY KEY,
    failures       integer NOT NULL DEFAULT 0,
    last_failed_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX login_failures_last_failed ON login_failures (last_failed_at);

-- Secrets the application generates once and every instance must share
-- (the session cookie's key when SESSION_SECRET is unset). The first
-- process to start inserts its candidate; the others read that one back.
CREATE TABLE app_secrets (
    name       text PRIMARY KEY,
    value      text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
