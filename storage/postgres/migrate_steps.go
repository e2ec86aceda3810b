package postgres

import (
	"context"
	"log/slog"

	"github.com/jackc/pgx/v5"

	"tsubasa/storage"
)

// migrationSteps are the parts of migrations that SQL cannot do safely,
// run right after the migration's SQL in its transaction, under the
// migrations' advisory lock. The checksum covers the SQL only: a step
// must never change what an applied migration did.
var migrationSteps = map[int]func(ctx context.Context, tx pgx.Tx, log *slog.Logger) error{
	8: backfillContacts,
}

const (
	// contactsLeftSQL selects the members whose JSON migration 8's SQL
	// left alone: any with a \u escape, among them a NUL that ->> refuses.
	// A cursor reads them in chunks, so memory stays bounded on any table;
	// it reads the snapshot of its DECLARE, so the updates below do not
	// show up in it again.
	contactsLeftSQL = `DECLARE contacts_left NO SCROLL CURSOR FOR
    SELECT id, data FROM members WHERE strpos(data::text, chr(92) || 'u') > 0`
	contactsFetchSQL  = "FETCH 1000 FROM contacts_left"
	contactsCloseSQL  = "CLOSE contacts_left"
	contactsUpdateSQL = `UPDATE members SET email = $2, phone = $3
    WHERE id = $1 AND (email IS DISTINCT FROM $2 OR phone IS DISTINCT FROM $3)`
)

// backfillContacts fills the contact columns of the members whose JSON
// migration 8's SQL could not read safely, from the record decoded as
// every read decodes it, with the columns every write writes
// (contactCol).
func backfillContacts(ctx context.Context, tx pgx.Tx, log *slog.Logger) error {
	if _, err := tx.Exec(ctx, contactsLeftSQL); err != nil {
		return err
	}
	var read, written int64
	for {
		b := &pgx.Batch{}
		n, err := queueContactUpdates(ctx, tx, b, log)
		if err != nil {
			return err
		}
		if n == 0 {
			break
		}
		read += int64(n)
		res := tx.SendBatch(ctx, b)
		for range n {
			tag, err := res.Exec()
			if err != nil {
				res.Close()
				return err
			}
			written += tag.RowsAffected()
		}
		if err := res.Close(); err != nil {
			return err
		}
	}
	if _, err := tx.Exec(ctx, contactsCloseSQL); err != nil {
		return err
	}
	log.Info("member contacts backfilled from decoded records", "members_read", read, "members_written", written)
	return nil
}

// queueContactUpdates fetches the cursor's next chunk and queues the update
// of each member in it; it returns how many it queued.
func queueContactUpdates(ctx context.Context, tx pgx.Tx, b *pgx.Batch, log *slog.Logger) (int, error) {
	rows, err := tx.Query(ctx, contactsFetchSQL)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	for rows.Next() {
		var (
			id   string
			data []byte
			m    storage.Member
		)
		if err := rows.Scan(&id, &data); err != nil {
			return 0, err
		}
		if err := decode(data, &m); err != nil {
			// Every read of this member fails as well; the migration
			// must not, and their contacts stay unindexed (NULL).
			log.WarnContext(ctx, "member record undecodable: its contacts stay out of the lookup", "member_id", id, "err", err)
			continue
		}
		b.Queue(contactsUpdateSQL, id, contactCol(m.Email), contactCol(m.Phone))
	}
	return b.Len(), rows.Err()
}
