-- A person's profile (/u/<handle>) lists their posts in this organization,
-- newest first, a page at a time.
CREATE INDEX forum_posts_author ON forum_posts (author_type, author_id, created_at DESC, id DESC);
