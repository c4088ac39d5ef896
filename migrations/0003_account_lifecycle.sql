-- Account lifecycle: an admin can disable an account (it can no longer sign in or refresh,
-- its sessions are revoked), and a user can delete their own account: the row stays as an
-- anonymous tombstone (no handle, no password, a neutral name) so that audit entries and the
-- other players' matches keep their references; see server/accounts/store.py delete_user.

ALTER TABLE users ADD COLUMN disabled_at timestamptz;

ALTER TABLE users DROP CONSTRAINT users_check;
ALTER TABLE users ADD CONSTRAINT users_credentials_check
    CHECK (is_guest OR deleted_at IS NOT NULL OR (handle IS NOT NULL AND password_hash IS NOT NULL));
