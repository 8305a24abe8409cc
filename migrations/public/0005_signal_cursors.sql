-- Signal subscribers (jobs/signal) read each tenant's signal log in order
-- from a cursor: the last seq the subscriber has handled there. The
-- handler's effects and the cursor's move commit in one transaction, so
-- each signal takes effect once. A worker holds the row (FOR UPDATE SKIP
-- LOCKED) while it delivers, so one process at a time works on a
-- (subscriber, tenant) and signals are handled in seq order.
CREATE TABLE signal_cursors (
    subscriber    text NOT NULL,
    tenant_schema text NOT NULL,
    seq           bigint NOT NULL DEFAULT 0,
    -- Consecutive failed deliveries of the signal after seq; the next
    -- attempt waits until retry_at.
    attempts      integer NOT NULL DEFAULT 0,
    last_error    text,
    last_error_at timestamptz,
    retry_at      timestamptz,
    delivered     bigint NOT NULL DEFAULT 0,
    updated_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (subscriber, tenant_schema)
);

-- A signal a subscriber could not take after its attempts: recorded, not
-- lost, and passed so the tenant's later signals are not held up behind
-- it. A replay delivers it again and removes the row when that works.
CREATE TABLE signal_failures (
    subscriber    text NOT NULL,
    tenant_schema text NOT NULL,
    seq           bigint NOT NULL,
    attempts      integer NOT NULL,
    error         text NOT NULL,
    failed_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (subscriber, tenant_schema, seq)
);
