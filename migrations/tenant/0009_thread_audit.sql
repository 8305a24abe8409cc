-- The thread page's audit trail is read by query on every uncached view,
-- and shows the latest entries first (paged back with a cursor). Forum
-- facts (forum.thread.*, forum.post.*) and forum moderation directives
-- carry their thread in payload.thread_id, so one range scan per table
-- finds a thread's trail newest first, however many posts it has, where
-- the subject indexes needed a probe per post.
CREATE INDEX signals_thread ON signals ((payload->>'thread_id'), occurred_at, seq)
    WHERE subject_type IN ('forum_thread', 'forum_post');
CREATE INDEX directives_thread ON directives ((payload->>'thread_id'), created_at, id)
    WHERE subject_type IN ('forum_thread', 'forum_post');
-- A directive's row folds in the signals it caused (directive.requested,
-- started, succeeded and its effect), found by their correlation id.
CREATE INDEX signals_correlation ON signals (correlation_id, seq) WHERE correlation_id IS NOT NULL;
