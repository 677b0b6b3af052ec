-- Invitations to join an organization. An invitation is addressed to a normalized e-mail address,
-- registered or not, and is answered by whoever is signed in with that (verified) address; one per
-- organization and address (inviting again replaces it). It expires 7 days after it was sent.
CREATE TABLE org_invitations (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id INTEGER NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    email TEXT NOT NULL,
    role TEXT NOT NULL,
    invited_by INTEGER REFERENCES users (id) ON DELETE SET NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    UNIQUE (org_id, email)
);
CREATE INDEX org_invitations_email ON org_invitations (email);
