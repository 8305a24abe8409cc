-- The JSON API's Idempotency-Key (SPEC §15): the first response to a POST
-- with a key is kept, per route and key, for a day; the same request sent
-- again gets it back. The row is written in the transaction that makes
-- the request's effect, so effect and record commit together, and a
-- concurrent duplicate waits on the primary key, then reads the record.
CREATE TABLE api_idempotency (
    route        text NOT NULL,
    key          text NOT NULL,
    request_hash text NOT NULL,
    api_key_id   uuid NOT NULL,
    status       integer NOT NULL,
    body         text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL,
    PRIMARY KEY (route, key)
);
CREATE INDEX api_idempotency_expires ON api_idempotency (expires_at);

-- Webhook endpoints (SPEC §15): where the organization's signals are
-- POSTed, signed per Standard Webhooks. The secret is kept as issued
-- (whsec_…): signing needs it. After a rotation the previous secret still
-- signs, beside the new one, until previous_expires_at.
CREATE TABLE webhook_endpoints (
    id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    url                 text NOT NULL CHECK (length(url) <= 2000),
    description         text NOT NULL DEFAULT '' CHECK (length(description) <= 300),
    events              text[] NOT NULL CHECK (cardinality(events) BETWEEN 1 AND 50),
    secret              text NOT NULL,
    previous_secret     text,
    previous_expires_at timestamptz,
    enabled             boolean NOT NULL DEFAULT true,
    disabled_reason     text,
    -- The first failed attempt of the current run of failures; a success
    -- clears it. Failing for 5 days disables the endpoint.
    failing_since       timestamptz,
    -- The seq of the endpoint's webhook.endpoint.created: it gets the
    -- signals from there on, never older ones (a subscriber catching up
    -- after a restart, a replay).
    from_seq            bigint NOT NULL DEFAULT 0,
    created_by_user_id  bigint,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now()
);

-- One signal to deliver to one endpoint. message_id is the webhook-id
-- header: the same for every attempt, redelivery and replay of that signal
-- to that endpoint, so receivers can drop duplicates. A signal fans out to
-- a row per endpoint, thousands a second on a busy organization, so these
-- rows carry no foreign key to the signal (signals are never deleted, and
-- the subscriber inserts only seqs it has just read): its check was a
-- fifth of the insert.
CREATE TABLE webhook_deliveries (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    endpoint_id     uuid NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    signal_seq      bigint NOT NULL,
    signal_name     text NOT NULL,
    message_id      text NOT NULL,
    status          text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'retrying', 'succeeded', 'failed')),
    attempts        integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz,
    last_status     integer,
    last_error      text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    delivered_at    timestamptz
) WITH (fillfactor = 70); -- room for each attempt's update on the row's own page (a HOT update: no index touched)
CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries (endpoint_id, created_at DESC, id);

-- Every attempt of a delivery: the delivery log's lines. Written in the
-- statement that moves the delivery's status (which has just matched the
-- delivery's row), so no foreign key is checked again.
CREATE TABLE webhook_attempts (
    delivery_id  uuid NOT NULL,
    attempt      integer NOT NULL,
    attempted_at timestamptz NOT NULL,
    status_code  integer,
    latency_ms   integer NOT NULL,
    error        text,
    -- The first 1 KB of the response body.
    response     text NOT NULL DEFAULT '' CHECK (octet_length(response) <= 1024),
    PRIMARY KEY (delivery_id, attempt)
);
