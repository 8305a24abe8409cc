-- Invitations by link (SPEC §16). An invitation makes an `invited`
-- membership at once (SPEC §3: it grants nothing until it is active), so
-- the members page lists it with the others; the person it is for may
-- have no account yet, so until it is accepted the membership names an
-- email instead of a user.
ALTER TABLE organization_memberships ALTER COLUMN user_id DROP NOT NULL;
ALTER TABLE organization_memberships ADD COLUMN invited_email text CHECK (length(invited_email) BETWEEN 3 AND 254);
ALTER TABLE organization_memberships ADD CONSTRAINT organization_memberships_person
    CHECK (user_id IS NOT NULL OR (status = 'invited' AND invited_email IS NOT NULL));
-- One open invitation per email and organization.
CREATE UNIQUE INDEX organization_memberships_invited_email ON organization_memberships (organization_id, lower(invited_email))
    WHERE user_id IS NULL;

-- The link's token is random (32 bytes) and only its SHA-256 is kept, like
-- a session's. A row outlives its membership: accepted (the membership is
-- active, named by its user), revoked (the membership is deleted) or
-- expired, it still tells whoever opens the link what became of it.
CREATE TABLE invitations (
    id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    organization_id     bigint NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    membership_id       bigint REFERENCES organization_memberships (id) ON DELETE SET NULL,
    email               text NOT NULL CHECK (length(email) BETWEEN 3 AND 254),
    role                text NOT NULL CHECK (role IN ('admin', 'member')),
    token_hash          bytea NOT NULL UNIQUE,
    invited_by_user_id  bigint REFERENCES users (id) ON DELETE SET NULL,
    created_at          timestamptz NOT NULL DEFAULT now(),
    expires_at          timestamptz NOT NULL,
    accepted_at         timestamptz,
    accepted_by_user_id bigint REFERENCES users (id) ON DELETE SET NULL,
    revoked_at          timestamptz,
    revoked_by_user_id  bigint REFERENCES users (id) ON DELETE SET NULL,
    CHECK (accepted_at IS NULL OR revoked_at IS NULL)
);
CREATE INDEX invitations_organization ON invitations (organization_id, id);
CREATE INDEX invitations_membership ON invitations (membership_id) WHERE membership_id IS NOT NULL;
