package notify

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/mail"
	"strconv"
	"strings"
	"sync"
	"time"

	gomail "github.com/wneessen/go-mail"
)

// SMTP transport security.
const (
	TLSNone     = "none"     // plain text; credentials are refused unless the host is loopback
	TLSStartTLS = "starttls" // plain connect, then mandatory STARTTLS (port 587)
	TLSImplicit = "tls"      // TLS from the first byte (port 465)
)

// DefaultSMTPTimeout bounds one whole SMTP session (connect to QUIT).
const DefaultSMTPTimeout = 30 * time.Second

// SMTPOptions configure an SMTPMailer.
type SMTPOptions struct {
	Host     string
	Port     int // 0 picks 25, 587 or 465 from TLS
	Username string
	Password string
	TLS      string // TLSNone, TLSStartTLS (the default) or TLSImplicit
	From     string // RFC 5322 address, e.g. "Tsubasa <no-reply@example.com>"
	HeloName string // EHLO name; empty uses the host name
	Timeout  time.Duration
	// TLSConfig is optional: a private CA (RootCAs) or a client certificate.
	// ServerName defaults to Host.
	TLSConfig *tls.Config
}

// LogValue implements slog.LogValuer so the password never reaches a log.
func (o SMTPOptions) LogValue() slog.Value {
	pw := ""
	if o.Password != "" {
		pw = "REDACTED"
	}
	return slog.GroupValue(
		slog.String("host", o.Host),
		slog.Int("port", o.Port),
		slog.String("tls", o.TLS),
		slog.String("username", o.Username),
		slog.String("password", pw),
		slog.String("from", o.From),
		slog.String("helo_name", o.HeloName),
		slog.Duration("timeout", o.Timeout),
	)
}

// SMTPMailer sends mail over SMTP, one connection per message. It is safe
// for concurrent use.
type SMTPMailer struct {
	opts SMTPOptions
	from *mail.Address
	tls  *tls.Config
}

var _ Mailer = (*SMTPMailer)(nil)

// NewSMTPMailer checks the options and returns a mailer. It does not
// connect: a mail server that is down at start-up must not stop the
// server from starting, since the outbox retries.
func NewSMTPMailer(opts SMTPOptions) (*SMTPMailer, error) {
	var errs []error
	if opts.Host == "" {
		errs = append(errs, errors.New("host is required"))
	}
	switch opts.TLS {
	case "":
		opts.TLS = TLSStartTLS
	case TLSNone, TLSStartTLS, TLSImplicit:
	default:
		errs = append(errs, fmt.Errorf("tls must be %q, %q or %q, not %q", TLSNone, TLSStartTLS, TLSImplicit, opts.TLS))
	}
	if opts.Port == 0 {
		opts.Port = map[string]int{TLSNone: 25, TLSStartTLS: 587, TLSImplicit: 465}[opts.TLS]
	}
	if opts.Port < 0 || opts.Port > 65535 {
		errs = append(errs, fmt.Errorf("port %d out of range", opts.Port))
	}
	if opts.Password != "" && opts.Username == "" {
		errs = append(errs, errors.New("password given without username"))
	}
	if opts.Timeout < 0 {
		errs = append(errs, errors.New("timeout must not be negative"))
	} else if opts.Timeout == 0 {
		opts.Timeout = DefaultSMTPTimeout
	}
	from, err := mail.ParseAddress(opts.From)
	if err != nil {
		errs = append(errs, fmt.Errorf("from %q: %w", opts.From, err))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("notify: smtp options: %w", err)
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if opts.TLSConfig != nil {
		cfg = opts.TLSConfig.Clone()
	}
	if cfg.ServerName == "" {
		cfg.ServerName = opts.Host
	}
	return &SMTPMailer{opts: opts, from: from, tls: cfg}, nil
}

// Send delivers m. It gives up when ctx ends or the session takes longer
// than the configured timeout, whichever comes first. A 5xx rejection of
// the message or recipient is returned wrapped in ErrPermanent.
func (s *SMTPMailer) Send(ctx context.Context, m Message) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("notify: smtp: %w", err)
	}
	msg, err := s.build(m)
	if err != nil {
		return Permanent(fmt.Errorf("notify: smtp: %w", err))
	}
	dialer := &ctxDialer{ctx: ctx, tls: s.tls, implicitTLS: s.opts.TLS == TLSImplicit}
	defer dialer.stop()
	client, err := gomail.NewClient(s.opts.Host, s.clientOptions(dialer)...)
	if err != nil {
		return Permanent(fmt.Errorf("notify: smtp client: %w", err))
	}
	err = client.DialAndSendWithContext(ctx, msg)
	if err == nil || msg.IsDelivered() {
		// The server accepted the message (250 after DATA): what failed
		// after that (the RSET or QUIT that ends the session, a connection
		// cut meanwhile) must not make it be sent again.
		return nil
	}
	if ctx.Err() != nil {
		// The connection was closed under the client because ctx ended;
		// the error it reports is noise.
		return fmt.Errorf("notify: smtp: %w", context.Cause(ctx))
	}
	var se *gomail.SendError
	if errors.As(err, &se) && !se.IsTemp() && se.ErrorCode() >= 500 && se.ErrorCode() < 600 {
		return Permanent(fmt.Errorf("notify: smtp: %w", err))
	}
	return fmt.Errorf("notify: smtp: %w", err)
}

func (s *SMTPMailer) build(m Message) (*gomail.Msg, error) {
	if m.Text == "" && m.HTML == "" {
		return nil, errors.New("message has no body")
	}
	msg := gomail.NewMsg(gomail.WithNoDefaultUserAgent())
	msg.FromMailAddress(s.from)
	if err := msg.To(m.To); err != nil {
		return nil, fmt.Errorf("recipient: %w", err)
	}
	// A subject comes from a template; a stray line break must not turn
	// into a header of its own.
	msg.Subject(strings.Join(strings.Fields(m.Subject), " "))
	msg.SetDate()
	msg.SetMessageID()
	// RFC 3834: tells auto-responders not to answer notification mail.
	msg.SetGenHeader(gomail.Header("Auto-Submitted"), "auto-generated")
	switch {
	case m.Text != "" && m.HTML != "":
		msg.SetBodyString(gomail.TypeTextPlain, m.Text)
		msg.AddAlternativeString(gomail.TypeTextHTML, m.HTML)
	case m.Text != "":
		msg.SetBodyString(gomail.TypeTextPlain, m.Text)
	default:
		msg.SetBodyString(gomail.TypeTextHTML, m.HTML)
	}
	return msg, nil
}

func (s *SMTPMailer) clientOptions(d *ctxDialer) []gomail.Option {
	opts := []gomail.Option{
		gomail.WithPort(s.opts.Port),
		gomail.WithTimeout(s.opts.Timeout),
		gomail.WithTLSConfig(s.tls),
		gomail.WithDialContextFunc(d.dial),
	}
	switch s.opts.TLS {
	case TLSNone, TLSImplicit:
		// Implicit TLS is done by our dialer, so the client must not try
		// STARTTLS on top of it.
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
	default:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	}
	if s.opts.HeloName != "" {
		opts = append(opts, gomail.WithHELO(s.opts.HeloName))
	}
	if s.opts.Username != "" {
		// PLAIN and LOGIN refuse to send credentials over a connection
		// that is not encrypted, except to a loopback host.
		opts = append(opts,
			gomail.WithOpportunisticSMTPAuth(gomail.SMTPAuthSCRAMSHA256, gomail.SMTPAuthPlain, gomail.SMTPAuthLogin),
			gomail.WithUsername(s.opts.Username),
			gomail.WithPassword(s.opts.Password),
		)
	}
	return opts
}

// ctxDialer dials for the SMTP client and closes the connection as soon as
// the caller's ctx ends. The client itself only watches ctx while dialling
// and then relies on a fixed deadline; closing the connection is what makes
// a per-message timeout real when a server stalls mid-session.
type ctxDialer struct {
	ctx         context.Context
	tls         *tls.Config
	implicitTLS bool

	mu    sync.Mutex
	stops []func() bool
}

func (d *ctxDialer) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	var nd net.Dialer
	conn, err := nd.DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	if d.implicitTLS {
		tc := tls.Client(conn, d.tls)
		if err := tc.HandshakeContext(ctx); err != nil {
			_ = conn.Close()
			return nil, err
		}
		conn = tc
	}
	stop := context.AfterFunc(d.ctx, func() { _ = conn.Close() })
	d.mu.Lock()
	d.stops = append(d.stops, stop)
	d.mu.Unlock()
	return conn, nil
}

func (d *ctxDialer) stop() {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, s := range d.stops {
		s()
	}
}

// String shows where mail goes, for start-up logs.
func (s *SMTPMailer) String() string {
	return "smtp://" + net.JoinHostPort(s.opts.Host, strconv.Itoa(s.opts.Port)) + " (" + s.opts.TLS + ")"
}
