package outbound

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"syscall"
	"time"
)

// ErrRefusedAddress: the target resolves only to addresses in a
// special-use range (Refused).
var ErrRefusedAddress = errors.New("outbound: the address is in a special-use range")

// ErrTooLarge: the answer is longer than Options.MaxBytes.
var ErrTooLarge = errors.New("outbound: the answer is too large")

// Resolver finds the addresses of a host name; net.DefaultResolver is one.
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// Options shape a Client. The zero value is usable: 5 s, 256 KiB, no
// special-use addresses, the system resolver.
type Options struct {
	// Timeout bounds a whole request: connection, TLS, headers and body.
	Timeout time.Duration
	// MaxBytes bounds the body read from an answer.
	MaxBytes int64
	// AllowPrivateNetworks lifts the special-use address check.
	AllowPrivateNetworks bool
	// Resolver resolves host names (tests give a fake one).
	Resolver Resolver
}

// Client sends requests to registered addresses; see the package doc.
type Client struct {
	http     *http.Client
	maxBytes int64
	resolver Resolver
	dialer   *net.Dialer
	allowAll bool
}

const (
	defaultTimeout  = 5 * time.Second
	defaultMaxBytes = 256 << 10
)

// New builds a Client.
func New(o Options) *Client {
	if o.Timeout <= 0 {
		o.Timeout = defaultTimeout
	}
	if o.MaxBytes <= 0 {
		o.MaxBytes = defaultMaxBytes
	}
	if o.Resolver == nil {
		o.Resolver = net.DefaultResolver
	}
	c := &Client{maxBytes: o.MaxBytes, resolver: o.Resolver, allowAll: o.AllowPrivateNetworks}
	c.dialer = &net.Dialer{Timeout: o.Timeout, Control: c.control}
	tr := &http.Transport{
		Proxy:                  nil, // never the environment's: the check must judge the target
		DialContext:            c.dial,
		ForceAttemptHTTP2:      true,
		TLSHandshakeTimeout:    o.Timeout,
		ResponseHeaderTimeout:  o.Timeout,
		MaxResponseHeaderBytes: 16 << 10,
		MaxIdleConns:           16,
		IdleConnTimeout:        30 * time.Second,
	}
	c.http = &http.Client{
		Transport: tr,
		Timeout:   o.Timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse // a redirect is an answer, not a new target
		},
	}
	return c
}

// Answer is a response with its body read (at most Options.MaxBytes).
type Answer struct {
	Status int
	Header http.Header
	Body   []byte
}

// Do sends req and reads its answer. A body over the limit is
// ErrTooLarge; an address in a special-use range ErrRefusedAddress.
func (c *Client) Do(req *http.Request) (Answer, error) {
	resp, err := c.http.Do(req)
	if err != nil {
		return Answer{}, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, c.maxBytes+1))
	if err != nil {
		return Answer{}, fmt.Errorf("outbound: reading the answer of %s: %w", req.URL.Redacted(), err)
	}
	if int64(len(body)) > c.maxBytes {
		return Answer{}, fmt.Errorf("%w: more than %d bytes from %s", ErrTooLarge, c.maxBytes, req.URL.Redacted())
	}
	return Answer{Status: resp.StatusCode, Header: resp.Header, Body: body}, nil
}

// Delivered reports whether the answer takes a delivery (a webhook, a
// SET, a logout token): any 2xx.
func (a Answer) Delivered() bool { return a.Status >= 200 && a.Status < 300 }

// FailsForGood reports whether the same delivery sent again would be
// refused again, so that a sender stops retrying: an answer of 4xx other
// than 408 Request Timeout and 429 Too Many Requests, or err from Do
// refusing a special-use address (a cancelled ctx is not for good). Every
// other failure is worth a retry.
func FailsForGood(ctx context.Context, a Answer, err error) bool {
	if err != nil {
		return ctx.Err() == nil && errors.Is(err, ErrRefusedAddress)
	}
	s := a.Status
	return s >= 400 && s < 500 && s != http.StatusRequestTimeout && s != http.StatusTooManyRequests
}

// Get fetches url, asking for accept, and returns the body of a 200.
func (c *Client) Get(ctx context.Context, url, accept string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, fmt.Errorf("outbound: %w", err)
	}
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	a, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	if a.Status != http.StatusOK {
		return nil, fmt.Errorf("outbound: %s answered %d", req.URL.Redacted(), a.Status)
	}
	return a.Body, nil
}

// dial resolves address's host and dials the first of its addresses that
// is allowed, by address, so that the address checked is the address
// connected to.
func (c *Client) dial(ctx context.Context, network, address string) (net.Conn, error) {
	host, port, err := net.SplitHostPort(address)
	if err != nil {
		return nil, err
	}
	p, err := strconv.ParseUint(port, 10, 16)
	if err != nil {
		return nil, fmt.Errorf("outbound: port %q: %w", port, err)
	}
	var addrs []netip.Addr
	if ip, err := netip.ParseAddr(host); err == nil {
		addrs = []netip.Addr{ip}
	} else if addrs, err = c.resolver.LookupNetIP(ctx, "ip", host); err != nil {
		return nil, err
	}
	var firstErr error
	for _, ip := range addrs {
		if !c.allowed(ip) {
			continue
		}
		conn, err := c.dialer.DialContext(ctx, network, netip.AddrPortFrom(ip.Unmap(), uint16(p)).String())
		if err == nil {
			return conn, nil
		}
		if firstErr == nil {
			firstErr = err
		}
	}
	if firstErr != nil {
		return nil, firstErr
	}
	return nil, fmt.Errorf("%w: %s resolves to %v", ErrRefusedAddress, host, addrs)
}

// control is the dialer's last look before connect: the socket's own
// address, whatever resolved it.
func (c *Client) control(_, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("outbound: dialling %q: %w", address, err)
	}
	if !c.allowed(ap.Addr()) {
		return fmt.Errorf("%w: %s", ErrRefusedAddress, ap.Addr())
	}
	return nil
}

func (c *Client) allowed(ip netip.Addr) bool { return c.allowAll || !Refused(ip) }
