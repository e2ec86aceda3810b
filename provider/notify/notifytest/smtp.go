package notifytest

import (
	"crypto/tls"
	"errors"
	"io"
	"log"
	"net"
	"net/mail"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// ReceivedMail is one message as the SMTP server saw it.
type ReceivedMail struct {
	From     string      // envelope sender (MAIL FROM)
	To       []string    // envelope recipients (RCPT TO)
	Header   mail.Header // top-level header, undecoded
	Subject  string      // decoded from RFC 2047 encoded words
	Text     string      // decoded text/plain part, if any
	HTML     string      // decoded text/html part, if any
	Raw      []byte      // the DATA exactly as received
	TLS      bool        // the session was encrypted when DATA arrived
	AuthUser string      // the user that authenticated, if any
}

// Option configures an SMTPServer.
type Option func(*serverConfig)

type serverConfig struct {
	startTLS    *tls.Config
	implicitTLS *tls.Config
	user, pass  string
}

// WithSTARTTLS offers STARTTLS with the given certificate configuration.
func WithSTARTTLS(cfg *tls.Config) Option {
	return func(c *serverConfig) { c.startTLS = cfg }
}

// WithImplicitTLS makes the listener speak TLS from the first byte (the
// "smtps" style used on port 465).
func WithImplicitTLS(cfg *tls.Config) Option {
	return func(c *serverConfig) { c.implicitTLS = cfg }
}

// WithAuth requires AUTH PLAIN with these credentials before MAIL FROM.
func WithAuth(username, password string) Option {
	return func(c *serverConfig) { c.user, c.pass = username, password }
}

// SMTPServer is a recording SMTP server on 127.0.0.1.
type SMTPServer struct {
	t   testing.TB
	cfg serverConfig

	mu       sync.Mutex
	addr     string // fixed after the first Start so restarts reuse the port
	srv      *smtp.Server
	lis      net.Listener
	served   chan struct{} // closed when the current Serve returns
	stopping chan struct{} // closed by Stop; releases delayed DATA replies
	msgs     []ReceivedMail
	arrived  chan struct{} // closed and replaced on every new message
	rcptErr  error
	delay    time.Duration
	drop     bool // cut the connection once a message is accepted
}

// NewSMTPServer starts a server on 127.0.0.1 with a free port. It is stopped
// when the test ends.
func NewSMTPServer(t testing.TB, opts ...Option) *SMTPServer {
	t.Helper()
	s := &SMTPServer{t: t, addr: "127.0.0.1:0", arrived: make(chan struct{})}
	for _, o := range opts {
		o(&s.cfg)
	}
	s.Start()
	t.Cleanup(s.Stop)
	return s
}

// Addr reports where the server listens.
func (s *SMTPServer) Addr() (host string, port int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	h, p, err := net.SplitHostPort(s.addr)
	if err != nil {
		s.t.Fatalf("notifytest: bad address %q: %v", s.addr, err)
	}
	n, _ := strconv.Atoi(p)
	return h, n
}

// Start (re)starts the server on the same address. Calling it on a running
// server does nothing.
func (s *SMTPServer) Start() {
	s.t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.srv != nil {
		return
	}
	l, err := listenRetry(s.addr)
	if err != nil {
		s.t.Fatalf("notifytest: listen %s: %v", s.addr, err)
	}
	s.addr = l.Addr().String()
	if s.cfg.implicitTLS != nil {
		l = tls.NewListener(l, s.cfg.implicitTLS)
	}
	stopping := make(chan struct{})
	srv := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		return &session{s: s, conn: c, stopping: stopping}, nil
	}))
	srv.Domain = "localhost"
	srv.ReadTimeout = 10 * time.Second
	srv.WriteTimeout = 10 * time.Second
	srv.MaxMessageBytes = 1 << 20
	srv.AllowInsecureAuth = true
	srv.TLSConfig = s.cfg.startTLS
	srv.ErrorLog = log.New(io.Discard, "", 0)
	served := make(chan struct{})
	go func() {
		defer close(served)
		_ = srv.Serve(l)
	}()
	s.srv, s.lis, s.served, s.stopping = srv, l, served, stopping
}

// listenRetry binds addr, retrying briefly: right after Stop the kernel may
// still hold the port for a moment.
func listenRetry(addr string) (net.Listener, error) {
	var err error
	for range 50 {
		var l net.Listener
		if l, err = net.Listen("tcp", addr); err == nil {
			return l, nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return nil, err
}

// Stop closes the listener and every open connection, so clients see the
// server as down. Start brings it back on the same port.
func (s *SMTPServer) Stop() {
	s.mu.Lock()
	srv, lis, served, stopping := s.srv, s.lis, s.served, s.stopping
	s.srv, s.lis = nil, nil
	s.mu.Unlock()
	if srv == nil {
		return
	}
	close(stopping)
	// Close the listener ourselves too: if Serve has not started yet, the
	// server does not know it and its Close would leave it open.
	_ = lis.Close()
	_ = srv.Close()
	<-served
}

// RejectRecipients makes RCPT TO fail with the given SMTP reply code (for
// example 550 for a permanent or 451 for a temporary failure); code 0
// accepts recipients again.
func (s *SMTPServer) RejectRecipients(code int, message string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if code == 0 {
		s.rcptErr = nil
		return
	}
	s.rcptErr = &smtp.SMTPError{Code: code, EnhancedCode: smtp.EnhancedCodeNotSet, Message: message}
}

// SetDelay holds the reply to DATA for d, to simulate a slow server. The
// message is still recorded once the delay has passed.
func (s *SMTPServer) SetDelay(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.delay = d
}

// DropAfterAccept makes the server cut the connection right after it has
// accepted a message (its 250 to DATA sent), when the client sends its
// next command: a network failure the client sees although the message
// was delivered.
func (s *SMTPServer) DropAfterAccept(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.drop = on
}

// Messages returns a copy of everything received so far.
func (s *SMTPServer) Messages() []ReceivedMail {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]ReceivedMail(nil), s.msgs...)
}

// WaitFor returns the first received message that match accepts, waiting up
// to timeout for it to arrive; it fails the test otherwise. Call it from the
// test goroutine.
func (s *SMTPServer) WaitFor(t testing.TB, match func(ReceivedMail) bool, timeout time.Duration) ReceivedMail {
	t.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		s.mu.Lock()
		msgs, arrived := s.msgs, s.arrived
		s.mu.Unlock()
		for _, m := range msgs {
			if match(m) {
				return m
			}
		}
		select {
		case <-arrived:
		case <-deadline.C:
			t.Fatalf("notifytest: no matching mail within %v (%d received)", timeout, len(msgs))
			return ReceivedMail{}
		}
	}
}

func (s *SMTPServer) record(m ReceivedMail) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.msgs = append(s.msgs, m)
	close(s.arrived)
	s.arrived = make(chan struct{})
}

type session struct {
	s        *SMTPServer
	conn     *smtp.Conn
	stopping chan struct{}
	authUser string
	from     string
	to       []string
	// resets counts the resets since a message was accepted while the
	// server drops after accepting: go-smtp resets the session itself
	// after answering DATA, so the second is the client's next RSET.
	resets   int
	accepted bool
}

var _ smtp.AuthSession = (*session)(nil)

func (ss *session) AuthMechanisms() []string {
	if ss.s.cfg.user == "" {
		return nil
	}
	return []string{sasl.Plain}
}

func (ss *session) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, pass string) error {
		if user != ss.s.cfg.user || pass != ss.s.cfg.pass {
			return smtp.ErrAuthFailed
		}
		ss.authUser = user
		return nil
	}), nil
}

func (ss *session) Mail(from string, _ *smtp.MailOptions) error {
	if ss.s.cfg.user != "" && ss.authUser == "" {
		return smtp.ErrAuthRequired
	}
	ss.from = from
	return nil
}

func (ss *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	ss.s.mu.Lock()
	err := ss.s.rcptErr
	ss.s.mu.Unlock()
	if err != nil {
		return err
	}
	ss.to = append(ss.to, to)
	return nil
}

func (ss *session) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	ss.s.mu.Lock()
	delay := ss.s.delay
	ss.s.mu.Unlock()
	if delay > 0 {
		t := time.NewTimer(delay)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ss.stopping:
			return errors.New("server stopping")
		}
	}
	m, err := parseMail(raw)
	if err != nil {
		return &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 6, 0}, Message: "unparseable message: " + err.Error()}
	}
	m.From, m.To, m.AuthUser = ss.from, append([]string(nil), ss.to...), ss.authUser
	_, m.TLS = ss.conn.TLSConnectionState()
	ss.s.record(m)
	ss.accepted, ss.resets = true, 0
	return nil
}

func (ss *session) Reset() {
	ss.from, ss.to = "", nil
	ss.s.mu.Lock()
	drop := ss.s.drop
	ss.s.mu.Unlock()
	if drop && ss.accepted {
		if ss.resets++; ss.resets == 2 {
			// The net.Conn itself: go-smtp holds its own lock here.
			_ = ss.conn.Conn().Close()
		}
	}
}

func (ss *session) Logout() error { return nil }
