-- Chat: a member's conversations with one of the organization's agents.
-- Conversations belong to one user in this tenant; every read filters by
-- both the id and the user, so another member's (or tenant's) id is
-- simply not found.

CREATE TABLE chat_conversations (
    id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id    bigint NOT NULL,
    -- The agent whose system prompt and config drive the conversation.
    -- Kept (SET NULL) when the agent is removed, so history survives.
    agent_id   uuid REFERENCES agents (id) ON DELETE SET NULL,
    agent_name text NOT NULL,
    title      text NOT NULL DEFAULT '' CHECK (length(title) <= 200),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX chat_conversations_user ON chat_conversations (user_id, updated_at DESC, id);

CREATE TABLE chat_messages (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    -- seq orders a conversation's messages (created_at ties within a transaction).
    seq             bigint GENERATED ALWAYS AS IDENTITY,
    conversation_id uuid NOT NULL REFERENCES chat_conversations (id) ON DELETE CASCADE,
    role            text NOT NULL CHECK (role IN ('user', 'assistant', 'system', 'tool')),
    content         text NOT NULL DEFAULT '' CHECK (length(content) <= 100000),
    status          text NOT NULL DEFAULT 'complete' CHECK (status IN ('streaming', 'complete', 'failed', 'stopped')),
    -- An assistant message that asked for tools: the provider's tool_calls
    -- (id, name, arguments); a tool message answers one of them.
    tool_calls      jsonb,
    tool_call_id    text,
    tool_name       text,
    error           text,
    model           text,
    prompt_tokens     integer NOT NULL DEFAULT 0,
    completion_tokens integer NOT NULL DEFAULT 0,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX chat_messages_conversation ON chat_messages (conversation_id, seq);
-- One answer at a time per conversation.
CREATE UNIQUE INDEX chat_messages_one_streaming ON chat_messages (conversation_id) WHERE status = 'streaming';

-- An action the model (or a typed command) proposed. It changes nothing
-- until the user confirms it; confirming requests the same directive the
-- rest of the app requests, keyed by idempotency_key.
CREATE TABLE chat_actions (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    conversation_id uuid NOT NULL REFERENCES chat_conversations (id) ON DELETE CASCADE,
    message_id      uuid REFERENCES chat_messages (id) ON DELETE SET NULL,
    kind            text NOT NULL CHECK (kind IN ('install_package', 'uninstall_package', 'create_thread', 'lock_thread')),
    payload         jsonb NOT NULL DEFAULT '{}',
    summary         text NOT NULL DEFAULT '',
    status          text NOT NULL DEFAULT 'proposed' CHECK (status IN ('proposed', 'confirmed')),
    idempotency_key text NOT NULL UNIQUE,
    directive_id    uuid,
    confirmed_by_user_id bigint,
    confirmed_at    timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX chat_actions_conversation ON chat_actions (conversation_id, created_at, id);
