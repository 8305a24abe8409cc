-- Notifications (SPEC §16): what a person of the organization should look
-- at — a reply in a thread they took part in, an @mention, a reaction or
-- a solution mark on their post, a flag for moderators, a request of
-- theirs that failed, a run waiting for approval. The notifications
-- subscriber (jobs/notify) writes them in the transaction that moves its
-- signal cursor, so each happens once.
--
-- A row points at the signal it is about (signal_seq): the inbox reads the
-- sentence from the signal, as the dashboard feed does, so there is one
-- wording. dedupe_key is what makes a notification the same one again
-- (a post, a reactor on a post, a signal): a replayed signal, or a second
-- reason for the same post (a reply that also mentions you), adds nothing.
CREATE TABLE notifications (
    id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id    bigint NOT NULL,
    reason     text NOT NULL CHECK (reason IN ('reply', 'mention', 'reaction', 'solution', 'flag',
                   'moderation', 'request_failed', 'request_done', 'approval')),
    signal_seq bigint NOT NULL REFERENCES signals (seq),
    dedupe_key text NOT NULL CHECK (length(dedupe_key) <= 200),
    created_at timestamptz NOT NULL DEFAULT now(),
    read_at    timestamptz,
    UNIQUE (user_id, dedupe_key)
);
-- The inbox: one person's notifications, newest first.
CREATE INDEX notifications_inbox ON notifications (user_id, created_at DESC, id DESC);
-- The header's unread count, on every page: an index-only count of the
-- few unread rows, however many read ones a person has.
CREATE INDEX notifications_unread ON notifications (user_id, created_at DESC) WHERE read_at IS NULL;
