-- The tools an execution called, by name, in order (a chat answer shows
-- them under its text; the log has the calls in full).
ALTER TABLE agent_executions ADD COLUMN tool_names text[] NOT NULL DEFAULT '{}';
