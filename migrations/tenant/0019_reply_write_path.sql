-- The reply write path, measured (bench/http -modes replies,
-- pg_stat_statements): the notifications a busy thread heaped up, and
-- planning each reply paid for twice.

-- Replies in a thread collapse into one unread notification per person
-- and thread, as Discourse does: the second reply someone has not read
-- yet adds to the count of the first and moves it up the inbox, instead
-- of being a row (and a badge event) of its own. With 64 people in a
-- thread, every reply wrote 63 rows and emitted 63 notification.created
-- signals; now a delivery updates one row per person, and moves no badge
-- (the unread count is what it was). collapse_key names what collapses
-- ("thread:<id>"); signal_seq stays the first reply not read (where the
-- link goes), last_seq is the latest counted (a replay of an older one
-- counts nothing), count how many. Once read, the next reply starts a new
-- row.
ALTER TABLE notifications
    ADD COLUMN collapse_key text CHECK (length(collapse_key) <= 200),
    ADD COLUMN count integer NOT NULL DEFAULT 1,
    ADD COLUMN last_seq bigint;
CREATE UNIQUE INDEX notifications_collapse ON notifications (user_id, collapse_key)
    WHERE read_at IS NULL AND collapse_key IS NOT NULL;

-- forum_post_search_sync (0016) ran its two statements through EXECUTE
-- format(...), so PostgreSQL parsed and planned both on every reply: a
-- third of the reply statement's time. The same function with the
-- schema written in when it is created: its statements are planned once
-- per connection. Same rules as before, word for word.
DO $migration$
BEGIN
EXECUTE format($fn$
CREATE OR REPLACE FUNCTION forum_post_search_sync() RETURNS trigger LANGUAGE plpgsql AS $body$
DECLARE
    opening_title text;
BEGIN
    IF NEW.status = 'deleted' THEN
        IF TG_OP = 'UPDATE' AND OLD.status <> 'deleted' THEN
            DELETE FROM %1$I.forum_post_search WHERE post_id = NEW.id;
        END IF;
        RETURN NULL;
    END IF;
    IF TG_OP = 'UPDATE' AND OLD.status <> 'deleted' AND NEW.content = OLD.content
       AND NEW.thread_id = OLD.thread_id AND NEW.created_at = OLD.created_at THEN
        IF NEW.status IS DISTINCT FROM OLD.status THEN
            UPDATE %1$I.forum_post_search SET hidden = (NEW.status = 'hidden') WHERE post_id = NEW.id;
        END IF;
        RETURN NULL;
    END IF;
    -- The opening post is the thread's first by (created_at, id), as the
    -- thread page orders them, deleted posts included.
    SELECT th.title INTO opening_title FROM %1$I.forum_threads th WHERE th.id = NEW.thread_id
        AND NOT EXISTS (SELECT 1 FROM %1$I.forum_posts p WHERE p.thread_id = NEW.thread_id AND p.id <> NEW.id
                        AND (p.created_at, p.id) < (NEW.created_at, NEW.id));
    INSERT INTO %1$I.forum_post_search AS s (post_id, thread_id, created_at, hidden, opening, search_doc)
        VALUES (NEW.id, NEW.thread_id, NEW.created_at, NEW.status = 'hidden', opening_title IS NOT NULL,
                %1$I.forum_post_document(opening_title, NEW.content, NEW.created_at))
        ON CONFLICT (post_id) DO UPDATE SET thread_id = excluded.thread_id, created_at = excluded.created_at,
            hidden = excluded.hidden, opening = excluded.opening, search_doc = excluded.search_doc;
    RETURN NULL;
END $body$
$fn$, current_schema());
END $migration$;
