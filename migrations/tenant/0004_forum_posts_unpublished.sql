-- A thread's published posts are counted on the thread (post_count);
-- moderators also see hidden and deleted ones, which are few. This index
-- counts those without walking every post of a long thread, so the
-- thread page's pager and a new reply's page number cost the same on the
-- thousandth reply as on the first.
CREATE INDEX forum_posts_unpublished ON forum_posts (thread_id) WHERE status <> 'published';
