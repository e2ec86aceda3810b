package bolt

import (
	"bytes"
	"fmt"
	"slices"

	"go.etcd.io/bbolt"

	"tsubasa/storage"
)

// BulkLoadMembers writes ms straight into the member buckets of the
// database at path (initialised by Open, and closed), for benchmarks that
// need a million members in seconds rather than minutes: each bucket's
// entries are put in key order, 100,000 to a transaction, with
// FillPercent 1, so every insert appends to the tree's last page and
// pages are written full. Nothing is checked: ms must not collide with
// each other or with what the file holds.
func BulkLoadMembers(path string, ms []storage.Member) error {
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{FreelistType: bbolt.FreelistMapType, NoFreelistSync: true})
	if err != nil {
		return err
	}
	defer db.Close()
	type kv struct{ k, v []byte }
	entries := map[string][]kv{}
	for i := range ms {
		m := &ms[i]
		data, err := encode(*m)
		if err != nil {
			return err
		}
		pk := members.pk(m)
		entries[string(bMembers)] = append(entries[string(bMembers)], kv{pk, data})
		for j, k := range members.keys(m) {
			if k != nil {
				b := string(members.indexes[j].bucket)
				entries[b] = append(entries[b], kv{k, pk})
			}
		}
	}
	for bucket, es := range entries {
		slices.SortFunc(es, func(a, b kv) int { return bytes.Compare(a.k, b.k) })
		for len(es) > 0 {
			chunk := es[:min(len(es), 100_000)]
			es = es[len(chunk):]
			err := db.Update(func(tx *bbolt.Tx) error {
				b := tx.Bucket([]byte(bucket))
				if b == nil {
					return fmt.Errorf("no bucket %s", bucket)
				}
				b.FillPercent = 1
				for _, e := range chunk {
					if err := b.Put(e.k, e.v); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				return err
			}
		}
	}
	return nil
}
