-- Tsubasa schema, version 8: the back office finds members by email
-- address and by telephone number (storage.MemberContacts, contacts.go).
-- Contacts are not unique, so the indexes are not either. On a database
-- that already holds millions of members, building them takes minutes
-- and holds writes to members meanwhile: run `tsubasa db migrate` in a
-- quiet hour, or create them beforehand with CREATE INDEX CONCURRENTLY
-- under these names (IF NOT EXISTS then skips them here).
CREATE INDEX IF NOT EXISTS members_by_email ON members ((data->>'Email'));
CREATE INDEX IF NOT EXISTS members_by_phone ON members ((data->>'Phone'));
