-- Accounts (issue 3).
-- Deleting a user keeps the row, so that foreign keys (conversation
-- assignees, devices, later the audit log) stay valid, but erases its
-- personal data: e-mail and display name are replaced, the password hash
-- emptied (no password verifies against it), the account disabled.
ALTER TABLE user ADD COLUMN deleted_at INTEGER;
