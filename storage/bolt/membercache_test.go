package bolt

import (
	"fmt"
	"sync"
	"testing"

	"tsubasa/storage"
)

// Readers racing an updater never see a value older than the last update
// that returned, and a returned member cannot change the cache.
func TestMemberCacheNeverServesAStaleRecord(t *testing.T) {
	s := openInternal(t)
	ctx := t.Context()
	m := storage.Member{ID: "mem-1", Number: "1234567", FamilyNameLatin: "v0", WebAuthnHandle: []byte("handle")}
	if err := s.CreateMember(ctx, m); err != nil {
		t.Fatal(err)
	}
	got, err := s.MemberByID(ctx, "mem-1")
	if err != nil {
		t.Fatal(err)
	}
	got.WebAuthnHandle[0] = 'X' // a caller scribbling on its copy
	if again, _ := s.MemberByID(ctx, "mem-1"); string(again.WebAuthnHandle) != "handle" {
		t.Fatalf("cached member changed through a returned copy: %q", again.WebAuthnHandle)
	}

	var wg sync.WaitGroup
	stop := make(chan struct{})
	for range 4 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				if _, err := s.MemberByID(ctx, "mem-1"); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	for i := 1; i <= 50; i++ {
		want := fmt.Sprintf("v%d", i)
		err := s.UpdateMember(ctx, "mem-1", func(m storage.Member) (storage.Member, error) {
			m.FamilyNameLatin = want
			return m, nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if got, _ := s.MemberByID(ctx, "mem-1"); got.FamilyNameLatin != want {
			t.Fatalf("after update %d read %q", i, got.FamilyNameLatin)
		}
	}
	close(stop)
	wg.Wait()
}
