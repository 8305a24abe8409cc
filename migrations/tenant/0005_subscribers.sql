-- Part two's house: signal subscribers read the signal log from cursors
-- (public.signal_cursors), so a per-signal delivery row is no longer kept.
DROP TABLE signal_deliveries;

-- A directive remembers what caused it (a signal, a workflow step), so the
-- signals it emits carry that causation and reactions can tell their own.
ALTER TABLE directives ADD COLUMN causation_id uuid;

-- The activity subscriber's counts: signals per UTC day and family (the
-- name's first word: forum, package, directive, agent, member, ...). The
-- dashboard draws 30 days of them without counting the signal table.
CREATE TABLE activity_daily (
    day    date NOT NULL,
    family text NOT NULL,
    count  bigint NOT NULL CHECK (count >= 0),
    PRIMARY KEY (day, family)
);
