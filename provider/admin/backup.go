package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"sync"
	"time"
)

// Online backup through the admin socket. The admin API answers each call
// with one JSON value, so the server streams the hot backup (one bbolt
// read transaction: a consistent snapshot while writes go on) as a session
// of calls: backup/begin starts Store.Backup into a pipe, each backup/read
// returns the next chunk, and the last one says done with the total size,
// which the CLI compares with what it wrote. backup/abort ends a session
// early. A session nobody reads for backupIdle is aborted, so a CLI that
// died cannot hold the read transaction (and with it the file's growth)
// for long.

const (
	backupChunkSize   = 1 << 20
	backupIdle        = 15 * time.Second
	maxBackupSessions = 2
)

// backupStore is the hot-backup capability of the bbolt store.
type backupStore interface {
	Backup(ctx context.Context, w io.Writer) (int64, error)
}

type backupBegun struct {
	ID string `json:"id"`
}

type backupIDInput struct {
	ID string `json:"id"`
}

type backupChunk struct {
	Data []byte `json:"data"`
	Done bool   `json:"done,omitempty"`
	Size int64  `json:"size,omitempty"` // total bytes, with Done
}

// backupSession is one running backup: the store writes into pw while
// reads drain pr.
type backupSession struct {
	pr   *io.PipeReader
	mu   sync.Mutex // one read at a time
	idle *time.Timer
	done chan struct{} // closed when Backup has returned
	size int64
	err  error
}

var backups = struct {
	sync.Mutex
	m map[string]*backupSession
}{m: map[string]*backupSession{}}

var (
	errBackupAbandoned = errors.New("backup abandoned: no read for " + backupIdle.String())
	errBackupAborted   = errors.New("backup aborted by the client")
)

func init() {
	adminRoutes["backup/begin"] = jsonOp(func(o *adminOps, _ context.Context, _ empty) (backupBegun, error) {
		return o.beginBackup()
	})
	adminRoutes["backup/read"] = jsonOp(func(o *adminOps, _ context.Context, in backupIDInput) (backupChunk, error) {
		return readBackup(in.ID)
	})
	adminRoutes["backup/abort"] = jsonOp(func(o *adminOps, _ context.Context, in backupIDInput) (empty, error) {
		endBackup(in.ID, errBackupAborted)
		return empty{}, nil
	})
}

func (o *adminOps) beginBackup() (backupBegun, error) {
	st, ok := o.store.(backupStore)
	if !ok {
		return backupBegun{}, &adminError{Status: http.StatusNotImplemented, Message: "this storage backend has no online backup"}
	}
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	id := hex.EncodeToString(b)
	pr, pw := io.Pipe()
	s := &backupSession{pr: pr, done: make(chan struct{})}
	backups.Lock()
	if len(backups.m) >= maxBackupSessions {
		backups.Unlock()
		return backupBegun{}, conflict("", "%d backups are already running; wait for them to finish", maxBackupSessions)
	}
	backups.m[id] = s
	s.idle = time.AfterFunc(backupIdle, func() { endBackup(id, errBackupAbandoned) })
	backups.Unlock()
	go func() {
		// Not the request's context: the backup outlives backup/begin. It
		// ends when the pipe is drained or closed (abort, idle).
		n, err := st.Backup(context.Background(), pw)
		s.size, s.err = n, err
		pw.CloseWithError(err) // nil: readers see io.EOF
		close(s.done)
	}()
	return backupBegun{ID: id}, nil
}

// endBackup closes a session: its Backup call fails on its next write and
// releases the read transaction.
func endBackup(id string, why error) {
	backups.Lock()
	s, ok := backups.m[id]
	delete(backups.m, id)
	backups.Unlock()
	if ok {
		s.idle.Stop()
		s.pr.CloseWithError(why)
	}
}

func readBackup(id string) (backupChunk, error) {
	backups.Lock()
	s, ok := backups.m[id]
	backups.Unlock()
	if !ok {
		return backupChunk{}, notFound("no running backup %q (finished, aborted, or idle for more than %s)", id, backupIdle)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.idle.Reset(backupIdle)
	buf := make([]byte, backupChunkSize)
	n, err := io.ReadFull(s.pr, buf)
	switch {
	case err == nil:
		return backupChunk{Data: buf[:n]}, nil
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		<-s.done
		endBackup(id, nil)
		if s.err != nil {
			return backupChunk{}, s.err
		}
		return backupChunk{Data: buf[:n], Done: true, Size: s.size}, nil
	default:
		endBackup(id, err)
		return backupChunk{}, err
	}
}
