-- A reply form carries a hidden idempotency key, as the directive forms do:
-- the same form sent twice (a double click, or a resend after the server
-- died before it answered) makes one post. Posts made without one (seed,
-- agents, older clients) leave it NULL.
ALTER TABLE forum_posts ADD COLUMN idempotency_key text;
CREATE UNIQUE INDEX forum_posts_idempotency_key ON forum_posts (idempotency_key) WHERE idempotency_key IS NOT NULL;
