-- Forum search reads a narrow table of its own. Over 100,000 posts
-- (bench/search) a search spent most of its time fetching forum_posts
-- rows to learn each match's date and status: one row, with its
-- Markdown, HTML and document, per 8 kB page, so a word in 3 % of posts
-- touched ~2,700 pages before ranking began. forum_post_search holds only
-- what choosing and ranking matches needs, and the wide rows are read
-- for the page of hits only.
--
-- Deleted posts have no row (nobody finds them); hidden ones carry
-- hidden (moderators find them). opening marks a thread's first post,
-- whose document holds the thread's title (weight A) above its body
-- (weight B), as forum_posts.search_doc did (tenant migration 0014).
CREATE TABLE forum_post_search (
    post_id    uuid PRIMARY KEY REFERENCES forum_posts (id) ON DELETE CASCADE,
    thread_id  uuid NOT NULL,
    created_at timestamptz NOT NULL,
    hidden     boolean NOT NULL,
    opening    boolean NOT NULL,
    search_doc tsvector NOT NULL
);

-- A post's document: its title (an opening post's) and body, and one
-- lexeme more, the month it was written in ('posted 2026-11', UTC). A
-- search ranks the newest matches only (store/search.go), and GIN cannot
-- hand matches over newest first; with the month in the document, GIN
-- itself keeps the matches of the latest months ("flag & ('posted
-- 2026-11' | …)"), so a search reads the rows of the months it needs,
-- not every match. The parser never makes a lexeme with a space, so no
-- typed search matches it; it has no position and weight D, so ranks,
-- phrases and the responder's body-only ranking (ts_filter '{b}') are
-- as before.
CREATE FUNCTION forum_post_month(created_at timestamptz) RETURNS tsvector
    LANGUAGE sql STABLE PARALLEL SAFE
    RETURN array_to_tsvector(ARRAY['posted ' || to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM')]);
CREATE FUNCTION forum_post_document(title text, content text, created_at timestamptz) RETURNS tsvector
    LANGUAGE sql STABLE PARALLEL SAFE
    RETURN setweight(to_tsvector('english', coalesce(title, '')), 'A') || setweight(to_tsvector('english', content), 'B')
        || forum_post_month(created_at);

-- Triggers on forum_posts keep the row, so it changes in the transaction
-- of the write that changes the post, whoever writes it (forms, agents,
-- the API, moderation, the seed). A post's document is computed when its
-- text, thread or date changes, or when a deleted post is restored; a
-- move between published and hidden only flips hidden.
CREATE FUNCTION forum_post_search_sync() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    title text;
BEGIN
    IF NEW.status = 'deleted' THEN
        IF TG_OP = 'UPDATE' AND OLD.status <> 'deleted' THEN
            EXECUTE format('DELETE FROM %I.forum_post_search WHERE post_id = $1', TG_TABLE_SCHEMA) USING NEW.id;
        END IF;
        RETURN NULL;
    END IF;
    IF TG_OP = 'UPDATE' AND OLD.status <> 'deleted' AND NEW.content = OLD.content
       AND NEW.thread_id = OLD.thread_id AND NEW.created_at = OLD.created_at THEN
        IF NEW.status IS DISTINCT FROM OLD.status THEN
            EXECUTE format('UPDATE %I.forum_post_search SET hidden = $2 WHERE post_id = $1', TG_TABLE_SCHEMA)
                USING NEW.id, NEW.status = 'hidden';
        END IF;
        RETURN NULL;
    END IF;
    -- The opening post is the thread's first by (created_at, id), as the
    -- thread page orders them, deleted posts included.
    EXECUTE format('SELECT th.title FROM %1$I.forum_threads th WHERE th.id = $1
        AND NOT EXISTS (SELECT 1 FROM %1$I.forum_posts p WHERE p.thread_id = $1 AND p.id <> $2 AND (p.created_at, p.id) < ($3, $2))',
        TG_TABLE_SCHEMA) INTO title USING NEW.thread_id, NEW.id, NEW.created_at;
    EXECUTE format('INSERT INTO %1$I.forum_post_search AS s (post_id, thread_id, created_at, hidden, opening, search_doc)
        VALUES ($1, $2, $3, $4, $5 IS NOT NULL, %1$I.forum_post_document($5, $6, $3))
        ON CONFLICT (post_id) DO UPDATE SET thread_id = excluded.thread_id, created_at = excluded.created_at,
            hidden = excluded.hidden, opening = excluded.opening, search_doc = excluded.search_doc', TG_TABLE_SCHEMA)
        USING NEW.id, NEW.thread_id, NEW.created_at, NEW.status = 'hidden', title, NEW.content;
    RETURN NULL;
END $$;
DROP TRIGGER forum_post_search_doc ON forum_posts;
DROP FUNCTION forum_post_search_doc();
CREATE TRIGGER forum_post_search_sync AFTER INSERT OR UPDATE OF content, thread_id, created_at, status ON forum_posts
    FOR EACH ROW EXECUTE FUNCTION forum_post_search_sync();

-- A retitled thread's opening post is found by its new title only.
CREATE OR REPLACE FUNCTION forum_thread_search_doc() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format('UPDATE %1$I.forum_post_search s SET search_doc = %1$I.forum_post_document($2, p.content, p.created_at)
          FROM %1$I.forum_posts p
         WHERE p.id = s.post_id AND s.opening AND s.thread_id = $1', TG_TABLE_SCHEMA) USING NEW.id, NEW.title;
    RETURN NULL;
END $$;

-- The posts written before this migration keep the documents 0014 made
-- (computing 100,000 again takes seconds), their month added; in date
-- order, as a search reads the newest together.
INSERT INTO forum_post_search (post_id, thread_id, created_at, hidden, opening, search_doc)
SELECT p.id, p.thread_id, p.created_at, p.status = 'hidden',
       NOT EXISTS (SELECT 1 FROM forum_posts e WHERE e.thread_id = p.thread_id AND (e.created_at, e.id) < (p.created_at, p.id)),
       coalesce(p.search_doc, setweight(to_tsvector('english', p.content), 'B')) || forum_post_month(p.created_at)
  FROM forum_posts p
 WHERE p.status <> 'deleted'
 ORDER BY p.created_at, p.id;

CREATE INDEX forum_post_search_doc ON forum_post_search USING gin (search_doc);
-- A word found in most posts is searched newest first (store/search.go
-- ranks the newest matches only): this index walks them in that order
-- and stops, where the GIN index would hand over every match.
CREATE INDEX forum_post_search_recent ON forum_post_search (created_at DESC, post_id DESC);
-- A thread found by its title is ranked by its opening post.
CREATE INDEX forum_post_search_opening ON forum_post_search (thread_id) WHERE opening;

-- One document per post: forum_posts no longer carries one (its GIN
-- index goes with the column), so a write computes and indexes it once.
ALTER TABLE forum_posts DROP COLUMN search_doc;

-- The planner chooses between the GIN index and the date walk by how many
-- posts match: give it the backfilled table's statistics now.
ANALYZE forum_post_search;
