-- What the settings page shows of each session (SPEC §16 "session list"):
-- the client that opened it, as its User-Agent said at sign-in (capped in
-- Go). created_at and last_seen_at were there already.
ALTER TABLE sessions ADD COLUMN user_agent text NOT NULL DEFAULT '';
