-- Forum search (SPEC §16) reads one document per post: its body (weight
-- B) and, for a thread's opening post, the thread's title (weight A), so
-- a search for "deploy agent" finds the thread "How do I deploy?" whose
-- first post says "my agent…", and a title match outranks a body match.
-- A generated column cannot read the thread's title, so triggers keep the
-- document: on a post's insert or edit, and on a thread's retitling. They
-- live with the tables, so every writer (forms, agents, the API, the
-- seed) gets them without knowing. The schema comes from the trigger, as
-- tenant SQL never relies on search_path.
ALTER TABLE forum_posts ADD COLUMN search_doc tsvector;

-- The opening post is the thread's first by (created_at, id), as the
-- thread page orders them; a post written when the thread has none
-- earlier is it.
CREATE FUNCTION forum_post_search_doc() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    title text;
BEGIN
    EXECUTE format('SELECT th.title FROM %1$I.forum_threads th WHERE th.id = $1
        AND NOT EXISTS (SELECT 1 FROM %1$I.forum_posts p WHERE p.thread_id = $1 AND p.id <> $2 AND (p.created_at, p.id) < ($3, $2))',
        TG_TABLE_SCHEMA) INTO title USING NEW.thread_id, NEW.id, NEW.created_at;
    NEW.search_doc := setweight(to_tsvector('english', coalesce(title, '')), 'A')
        || setweight(to_tsvector('english', NEW.content), 'B');
    RETURN NEW;
END $$;
CREATE TRIGGER forum_post_search_doc BEFORE INSERT OR UPDATE OF content, thread_id ON forum_posts
    FOR EACH ROW EXECUTE FUNCTION forum_post_search_doc();

CREATE FUNCTION forum_thread_search_doc() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format('UPDATE %1$I.forum_posts p SET search_doc = setweight(to_tsvector(''english'', $2), ''A'')
            || setweight(to_tsvector(''english'', p.content), ''B'')
        WHERE p.id = (SELECT o.id FROM %1$I.forum_posts o WHERE o.thread_id = $1 ORDER BY o.created_at, o.id LIMIT 1)',
        TG_TABLE_SCHEMA) USING NEW.id, NEW.title;
    RETURN NULL;
END $$;
CREATE TRIGGER forum_thread_search_doc AFTER UPDATE OF title ON forum_threads
    FOR EACH ROW WHEN (OLD.title IS DISTINCT FROM NEW.title) EXECUTE FUNCTION forum_thread_search_doc();

-- The posts written before this migration.
UPDATE forum_posts p SET search_doc = setweight(to_tsvector('english', CASE WHEN p.id = o.id THEN th.title ELSE '' END), 'A')
        || setweight(to_tsvector('english', p.content), 'B')
  FROM forum_threads th
 CROSS JOIN LATERAL (SELECT f.id FROM forum_posts f WHERE f.thread_id = th.id ORDER BY f.created_at, f.id LIMIT 1) o
 WHERE th.id = p.thread_id;

CREATE INDEX forum_posts_search_doc ON forum_posts USING gin (search_doc);
-- A word found in most posts is searched newest first (store/search.go
-- ranks the newest matches only): this index walks them in that order
-- and stops, where the GIN index would hand over every match.
CREATE INDEX forum_posts_recent ON forum_posts (created_at DESC, id DESC);

-- The body-only document of migration 0006 is replaced by search_doc
-- (the responder's SearchForum reads it too): two documents per post
-- would double the cost of every write. forum_threads.search (the title)
-- stays: the search ranks old threads titled for its words through it.
ALTER TABLE forum_posts DROP COLUMN search;
