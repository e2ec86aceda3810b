package admin

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"tsubasa/provider/admin/adminapi"
	"tsubasa/storage/bolt"
)

// call runs op through Handle, as a transport does.
func call[In, Out any](t *testing.T, s *Service, op adminapi.Op[In, Out], in string) (Out, error) {
	t.Helper()
	var out Out
	res, err := s.Handle(t.Context(), op.Name, adminapi.Request{Body: strings.NewReader(in)})
	if err != nil {
		return out, err
	}
	return res.(Out), nil
}

// TestBackupReadToTheEnd: a session read to its end yields the whole
// database, verifiable, and leaves no session behind.
func TestBackupReadToTheEnd(t *testing.T) {
	t.Parallel()
	s, _ := newService(t, asIs)
	begun, err := call(t, s, adminapi.BackupBegin, `{}`)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	for {
		chunk, err := call(t, s, adminapi.BackupRead, `{"id":"`+begun.ID+`"}`)
		if err != nil {
			t.Fatal(err)
		}
		buf.Write(chunk.Data)
		if chunk.Done {
			if chunk.Size != int64(buf.Len()) {
				t.Errorf("reported %d bytes, sent %d", chunk.Size, buf.Len())
			}
			break
		}
	}
	if n := s.backups.running(); n != 0 {
		t.Errorf("%d backup sessions left running after the backup", n)
	}
	path := t.TempDir() + "/copy.db"
	if err := writeFile(path, buf.Bytes()); err != nil {
		t.Fatal(err)
	}
	if err := bolt.Verify(t.Context(), path); err != nil {
		t.Errorf("the copy does not verify: %v", err)
	}
}

// TestBackupSessionAbort: an aborted session releases its read
// transaction; reading it afterwards is a clear not-found.
func TestBackupSessionAbort(t *testing.T) {
	t.Parallel()
	s, st := newService(t, asIs)
	b, err := call(t, s, adminapi.BackupBegin, `{}`)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := call(t, s, adminapi.BackupAbort, `{"id":"`+b.ID+`"}`); err != nil {
		t.Fatal(err)
	}
	var ae *adminapi.Error
	if _, err := call(t, s, adminapi.BackupRead, `{"id":"`+b.ID+`"}`); !errors.As(err, &ae) || ae.Status != http.StatusNotFound {
		t.Fatalf("read after abort: %v, want not found", err)
	}
	// The store closes (it would block on a leaked read transaction).
	done := make(chan error, 1)
	go func() { done <- st.Close() }()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-ctx.Done():
		t.Fatal("store did not close: the aborted backup still holds its read transaction")
	}
}

// TestBackupSessionsAreBounded: a third concurrent backup is refused, and
// one abandoned frees its slot.
func TestBackupSessionsAreBounded(t *testing.T) {
	t.Parallel()
	s, _ := newService(t, asIs)
	var ids []string
	for range maxBackupSessions {
		b, err := call(t, s, adminapi.BackupBegin, `{}`)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, b.ID)
	}
	var ae *adminapi.Error
	if _, err := call(t, s, adminapi.BackupBegin, `{}`); !errors.As(err, &ae) || ae.Status != http.StatusConflict {
		t.Errorf("backup beyond the limit: %v", err)
	}
	s.backups.end(ids[0], errBackupAbandoned) // as the idle timer does
	b, err := call(t, s, adminapi.BackupBegin, `{}`)
	if err != nil {
		t.Fatalf("backup after one ended: %v", err)
	}
	for _, id := range append(ids[1:], b.ID) {
		s.backups.end(id, errBackupAborted)
	}
}
