package admin

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	"sync"
	"time"

	"tsubasa/provider/admin/adminapi"
)

// Online backup. The admin API answers each call with one JSON value, so
// the hot backup (one read transaction of the store: a consistent snapshot
// while writes go on) is streamed as a session of calls: backup/begin
// starts the store's Backup into a pipe, each backup/read returns the next
// chunk, and the last one says done with the total size, which the caller
// compares with what it wrote. backup/abort ends a session early. A
// session nobody reads for backupIdle is aborted, so a caller that died
// cannot hold the read transaction (and with it the file's growth) for
// long.
//
// Sessions live in the process that holds the store: the one that serves
// the admin socket. They are not shared, and nothing is lost with them: a
// backup cut short is started again.

const (
	backupChunkSize   = 1 << 20
	backupIdle        = 15 * time.Second
	maxBackupSessions = 2
)

// backupStore is the hot-backup capability of a store (bolt has it).
type backupStore interface {
	Backup(ctx context.Context, w io.Writer) (int64, error)
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

// backups are the running sessions by id.
type backups struct {
	mu sync.Mutex
	m  map[string]*backupSession
}

func newBackups() *backups { return &backups{m: map[string]*backupSession{}} }

var (
	errBackupAbandoned = errors.New("backup abandoned: no read for " + backupIdle.String())
	errBackupAborted   = errors.New("backup aborted by the client")
)

func (s *Service) beginBackup(_ context.Context, _ adminapi.Empty) (adminapi.BackupBegun, error) {
	st, ok := s.store.(backupStore)
	if !ok {
		return adminapi.BackupBegun{}, adminapi.Unsupported("this storage backend has no online backup")
	}
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	id := hex.EncodeToString(b)
	pr, pw := io.Pipe()
	sess := &backupSession{pr: pr, done: make(chan struct{})}
	bs := s.backups
	bs.mu.Lock()
	if len(bs.m) >= maxBackupSessions {
		bs.mu.Unlock()
		return adminapi.BackupBegun{}, adminapi.Conflict("", "%d backups are already running; wait for them to finish", maxBackupSessions)
	}
	bs.m[id] = sess
	sess.idle = time.AfterFunc(backupIdle, func() { bs.end(id, errBackupAbandoned) })
	bs.mu.Unlock()
	go func() {
		// Not the request's context: the backup outlives backup/begin. It
		// ends when the pipe is drained or closed (abort, idle).
		n, err := st.Backup(context.Background(), pw)
		sess.size, sess.err = n, err
		pw.CloseWithError(err) // nil: readers see io.EOF
		close(sess.done)
	}()
	return adminapi.BackupBegun{ID: id}, nil
}

func (s *Service) abortBackup(_ context.Context, in adminapi.BackupIDInput) (adminapi.Empty, error) {
	s.backups.end(in.ID, errBackupAborted)
	return adminapi.Empty{}, nil
}

// end closes a session: its Backup call fails on its next write and
// releases the read transaction.
func (bs *backups) end(id string, why error) {
	bs.mu.Lock()
	sess, ok := bs.m[id]
	delete(bs.m, id)
	bs.mu.Unlock()
	if ok {
		sess.idle.Stop()
		sess.pr.CloseWithError(why)
	}
}

// running is how many sessions are open.
func (bs *backups) running() int {
	bs.mu.Lock()
	defer bs.mu.Unlock()
	return len(bs.m)
}

func (s *Service) readBackup(_ context.Context, in adminapi.BackupIDInput) (adminapi.BackupChunk, error) {
	bs := s.backups
	bs.mu.Lock()
	sess, ok := bs.m[in.ID]
	bs.mu.Unlock()
	if !ok {
		return adminapi.BackupChunk{}, adminapi.NotFound("no running backup %q (finished, aborted, or idle for more than %s)", in.ID, backupIdle)
	}
	sess.mu.Lock()
	defer sess.mu.Unlock()
	sess.idle.Reset(backupIdle)
	buf := make([]byte, backupChunkSize)
	n, err := io.ReadFull(sess.pr, buf)
	switch {
	case err == nil:
		return adminapi.BackupChunk{Data: buf[:n]}, nil
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		<-sess.done
		bs.end(in.ID, nil)
		if sess.err != nil {
			return adminapi.BackupChunk{}, sess.err
		}
		return adminapi.BackupChunk{Data: buf[:n], Done: true, Size: sess.size}, nil
	default:
		bs.end(in.ID, err)
		return adminapi.BackupChunk{}, err
	}
}
