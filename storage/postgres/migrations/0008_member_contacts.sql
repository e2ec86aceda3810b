-- Tsubasa schema: the members' email and phone as columns of their own,
-- each with its index, for the back office's lookup by contact
-- (MembersByEmail, MembersByPhone), which scanned the members table.
--
-- The columns hold what bolt's contact indexes hold: the record's Email
-- and Phone exactly as stored (the caller normalises), NULL when empty.
-- The Go code writes them with every write of a member (contactCols).
-- Not unique: a family may share a mailbox, a number may pass on.
--
-- Not expression indexes on data->>'Email': computing one parses every
-- record, and a record holding a NUL (which the store keeps, in a name,
-- say) makes ->> fail; the index build, and with it the migration, would
-- fail on one member's odd name.
--
-- The backfill therefore has two parts. Here, in SQL, the rows whose
-- JSON text holds no \u escape at all: for those ->> only undoes \" \\
-- \/ \b \f \n \r \t and cannot fail (json input validated everything
-- else when the row was written). The CASE keeps ->> from being
-- evaluated on any other row (PostgreSQL may reorder the terms of an AND,
-- never a CASE's). The other rows (a NUL, or & < > which encoding/json
-- writes as \u escapes) are filled in Go right after this SQL, in the same
-- transaction and under the migrations' advisory lock (migrate.go,
-- backfillContacts): decoded as the store decodes them, so nothing can
-- make the migration fail or leave a member out.
--
-- Every step is skipped where an operator has done it already (see the
-- README, "Migrations", for a large programme: the columns added, the
-- backfill run in batches and the indexes built CONCURRENTLY before the
-- rollout): the columns and indexes are created only when missing (an
-- invalid index, a failed concurrent build, is built again), and the
-- backfill writes only rows whose columns differ from the record. Then
-- this migration takes no lock on the table: it reads every row once and
-- locks only the few rows it writes (those an older replica created or
-- changed since the preparation) until it commits.

DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_attribute WHERE attrelid = 'members'::regclass AND attname = 'email' AND NOT attisdropped)
       OR NOT EXISTS (SELECT FROM pg_attribute WHERE attrelid = 'members'::regclass AND attname = 'phone' AND NOT attisdropped) THEN
        ALTER TABLE members ADD COLUMN IF NOT EXISTS email text, ADD COLUMN IF NOT EXISTS phone text;
    END IF;
END $$;

UPDATE members SET email = NULLIF(data->>'Email', ''), phone = NULLIF(data->>'Phone', '')
WHERE CASE WHEN strpos(data::text, chr(92) || 'u') = 0
           THEN email IS DISTINCT FROM NULLIF(data->>'Email', '')
                OR phone IS DISTINCT FROM NULLIF(data->>'Phone', '')
           ELSE false END;

DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_index WHERE indexrelid = to_regclass('members_by_email') AND indisvalid) THEN
        DROP INDEX IF EXISTS members_by_email;
        CREATE INDEX members_by_email ON members (email) WHERE email IS NOT NULL;
    END IF;
    IF NOT EXISTS (SELECT FROM pg_index WHERE indexrelid = to_regclass('members_by_phone') AND indisvalid) THEN
        DROP INDEX IF EXISTS members_by_phone;
        CREATE INDEX members_by_phone ON members (phone) WHERE phone IS NOT NULL;
    END IF;
END $$;
