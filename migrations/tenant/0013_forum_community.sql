-- Forums people choose (SPEC §16): edits with their history, reactions,
-- solved threads, flags and the moderation queue, thread lists that name
-- the last poster.

-- A post's current version lives on its row; each version it replaced is
-- a row of forum_post_revisions. revision numbers the current one (1 for
-- a post never edited), edited_by_user_id wrote it (NULL: the author, or
-- never edited). reactions holds the counts per kind ({"like": 3}), kept
-- with the row so a thread page reads them with the post; forum_reactions
-- holds who reacted. flag_hidden says the post is hidden because three
-- open flags hid it (not a moderator): reviewing its flags brings it back.
ALTER TABLE forum_posts
    ADD COLUMN revision integer NOT NULL DEFAULT 1,
    ADD COLUMN edited_at timestamptz,
    ADD COLUMN edited_by_user_id bigint,
    ADD COLUMN reactions jsonb NOT NULL DEFAULT '{}',
    ADD COLUMN flag_hidden boolean NOT NULL DEFAULT false;

CREATE TABLE forum_post_revisions (
    post_id           uuid NOT NULL REFERENCES forum_posts (id),
    revision          integer NOT NULL,
    content           text NOT NULL,
    content_html      text NOT NULL,
    -- Who wrote this version and when: the author at the post's creation
    -- for revision 1, the editor of each later one.
    written_by_type   text NOT NULL,
    written_by_id     text,
    written_at        timestamptz NOT NULL,
    PRIMARY KEY (post_id, revision)
);

-- One reaction per person, post and kind; the kinds are a fixed set.
CREATE TABLE forum_reactions (
    post_id    uuid NOT NULL REFERENCES forum_posts (id),
    user_id    bigint NOT NULL,
    kind       text NOT NULL CHECK (kind IN ('like', 'heart', 'laugh', 'celebrate')),
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (post_id, user_id, kind)
);
-- A viewer's reactions on the page of posts they look at.
CREATE INDEX forum_reactions_user ON forum_reactions (user_id, post_id);

-- Members flag a post once each, with a reason; moderators review the
-- flags of a post together (the queue lists posts with open flags).
CREATE TABLE forum_flags (
    id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    post_id             uuid NOT NULL REFERENCES forum_posts (id),
    user_id             bigint NOT NULL,
    reason              text NOT NULL CHECK (reason IN ('spam', 'inappropriate', 'off_topic', 'other')),
    note                text NOT NULL DEFAULT '' CHECK (length(note) <= 500),
    status              text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'reviewed', 'dismissed', 'action_taken')),
    reviewed_by_user_id bigint,
    reviewed_at         timestamptz,
    created_at          timestamptz NOT NULL DEFAULT now(),
    UNIQUE (post_id, user_id)
);
CREATE INDEX forum_flags_open ON forum_flags (post_id, created_at) WHERE status = 'open';
CREATE INDEX forum_flags_reviewed ON forum_flags (reviewed_at DESC, post_id) WHERE status <> 'open';

-- first_post_id is the thread's opening post (never a solution);
-- solution_post_id the reply its starter or a moderator marked as the
-- answer; last_post_id the latest published post, whose author the
-- thread lists name. idempotency_key makes a resent new-thread form
-- return the thread it made.
ALTER TABLE forum_threads
    ADD COLUMN first_post_id uuid,
    ADD COLUMN solution_post_id uuid REFERENCES forum_posts (id),
    ADD COLUMN last_post_id uuid,
    ADD COLUMN idempotency_key text;
CREATE UNIQUE INDEX forum_threads_idempotency_key ON forum_threads (idempotency_key) WHERE idempotency_key IS NOT NULL;
-- The forum's latest threads list pinned ones first.
DROP INDEX forum_threads_latest;
CREATE INDEX forum_threads_latest ON forum_threads (pinned DESC, last_post_at DESC);

UPDATE forum_threads th SET
    first_post_id = (SELECT p.id FROM forum_posts p WHERE p.thread_id = th.id ORDER BY p.created_at, p.id LIMIT 1),
    last_post_id = (SELECT p.id FROM forum_posts p WHERE p.thread_id = th.id AND p.status = 'published'
                    ORDER BY p.created_at DESC, p.id DESC LIMIT 1);
