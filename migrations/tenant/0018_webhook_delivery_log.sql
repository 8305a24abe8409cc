-- The delivery log moves into the delivery's row, and the row is written
-- with the delivery's first attempt.
--
-- At a hundred endpoints a signal, the log was three writes per delivery:
-- the subscriber's insert of a pending row, then, per attempt, an insert
-- into webhook_attempts (its primary key index too) and an update of the
-- delivery. Now a signal's pending deliveries are the arguments of the
-- job that makes their first attempts (committed in the subscriber's
-- transaction, as durable as rows, and one write for all of them); the
-- first attempt inserts the row with its status and the attempt in log;
-- each later attempt (a retry, a redelivery) appends to log in the update
-- that sets the status. log is bounded by the retry schedule (nine
-- attempts) and what admins redeliver by hand; each entry's response is
-- the body's first 1 KB, as before.
--
-- An entry: {"attempt", "at", "status" (null when no response came), "ms",
-- "error" (null on success), "response"}.
ALTER TABLE webhook_deliveries ADD COLUMN log jsonb NOT NULL DEFAULT '[]';

UPDATE webhook_deliveries d SET log = a.log
  FROM (SELECT delivery_id, jsonb_agg(jsonb_build_object('attempt', attempt, 'at', attempted_at, 'status', status_code,
                   'ms', latency_ms, 'error', error, 'response', response) ORDER BY attempt) AS log
          FROM webhook_attempts GROUP BY delivery_id) a
 WHERE a.delivery_id = d.id;

DROP TABLE webhook_attempts;
