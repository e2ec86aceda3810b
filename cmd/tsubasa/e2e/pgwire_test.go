package e2e

import (
	"bufio"
	be "encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
)

// pgCounter is a PostgreSQL wire-protocol proxy between the server and its
// database that counts what the server sends: round trips (a Sync or a
// simple Query, each of which the client waits on) and statements (a Bind
// of a prepared statement or a simple Query), by SQL text. pgx prepares a
// statement once per connection and then names it, so the proxy keeps each
// connection's names to know which SQL a Bind runs. It reads the client's
// side only; the server's answers pass through untouched. No TLS: the test
// cluster has no certificate.
type pgCounter struct {
	ln     net.Listener
	target string // the cluster's Unix socket

	mu         sync.Mutex
	roundTrips int
	statements map[string]int // SQL text, spaces collapsed → executions
}

// newPGCounter proxies the database at pgURL (a pgtest URL over the Unix
// socket) and returns the URL to give the server instead.
func newPGCounter(t *testing.T, pgURL string) (*pgCounter, string) {
	t.Helper()
	u, err := url.Parse(pgURL)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c := &pgCounter{ln: ln, statements: map[string]int{},
		target: filepath.Join(q.Get("host"), ".s.PGSQL."+q.Get("port"))}
	t.Cleanup(func() { ln.Close() })
	go c.serve()
	proxied := url.URL{Scheme: "postgres", User: u.User, Host: ln.Addr().String(), Path: u.Path, RawQuery: "sslmode=disable"}
	return c, proxied.String()
}

func (c *pgCounter) serve() {
	for {
		conn, err := c.ln.Accept()
		if err != nil {
			return
		}
		go c.relay(conn)
	}
}

func (c *pgCounter) relay(client net.Conn) {
	defer client.Close()
	server, err := net.Dial("unix", c.target)
	if err != nil {
		return
	}
	defer server.Close()
	go func() {
		_, _ = io.Copy(client, server)
		client.Close()
	}()
	r := bufio.NewReader(client)
	if err := c.startup(r, server); err != nil {
		return
	}
	prepared := map[string]string{}
	for {
		typ, body, err := readMessage(r)
		if err != nil {
			return
		}
		c.note(typ, body, prepared)
		if err := writeMessage(server, typ, body); err != nil {
			return
		}
	}
}

// startup relays the untyped messages that open a connection: an
// SSLRequest or GSSENCRequest (refused by a server without TLS, after
// which the client goes on in plain text), then the startup message.
func (c *pgCounter) startup(r *bufio.Reader, server net.Conn) error {
	for {
		var n uint32
		if err := be.Read(r, be.BigEndian, &n); err != nil || n < 8 || n > 1<<16 {
			return errors.New("pgCounter: bad startup message")
		}
		body := make([]byte, n-4)
		if _, err := io.ReadFull(r, body); err != nil {
			return err
		}
		var head [4]byte
		be.BigEndian.PutUint32(head[:], n)
		if _, err := server.Write(append(head[:], body...)); err != nil {
			return err
		}
		code := be.BigEndian.Uint32(body)
		if code != 80877103 && code != 80877104 { // SSLRequest, GSSENCRequest
			return nil
		}
	}
}

func readMessage(r *bufio.Reader) (byte, []byte, error) {
	typ, err := r.ReadByte()
	if err != nil {
		return 0, nil, err
	}
	var n uint32
	if err := be.Read(r, be.BigEndian, &n); err != nil || n < 4 || n > 1<<28 {
		return 0, nil, fmt.Errorf("pgCounter: bad message length %d: %v", n, err)
	}
	body := make([]byte, n-4)
	_, err = io.ReadFull(r, body)
	return typ, body, err
}

func writeMessage(w io.Writer, typ byte, body []byte) error {
	buf := make([]byte, 5, 5+len(body))
	buf[0] = typ
	be.BigEndian.PutUint32(buf[1:], uint32(len(body)+4))
	_, err := w.Write(append(buf, body...))
	return err
}

// cstrings splits the first n NUL-terminated strings off body.
func cstrings(body []byte, n int) []string {
	out := make([]string, 0, n)
	for range n {
		i := strings.IndexByte(string(body), 0)
		if i < 0 {
			break
		}
		out = append(out, string(body[:i]))
		body = body[i+1:]
	}
	return out
}

var spaces = regexp.MustCompile(`\s+`)

func (c *pgCounter) note(typ byte, body []byte, prepared map[string]string) {
	switch typ {
	case 'P': // Parse: statement name, SQL
		if s := cstrings(body, 2); len(s) == 2 {
			prepared[s[0]] = strings.TrimSpace(spaces.ReplaceAllString(s[1], " "))
		}
	case 'B': // Bind: portal, statement name
		if s := cstrings(body, 2); len(s) == 2 {
			c.count(prepared[s[1]], 0)
		}
	case 'Q': // simple Query: a round trip of its own
		if s := cstrings(body, 1); len(s) == 1 {
			c.count(strings.TrimSpace(spaces.ReplaceAllString(s[0], " ")), 1)
		}
	case 'S': // Sync: the client waits for the answers
		c.count("", 1)
	}
}

func (c *pgCounter) count(sql string, roundTrips int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.roundTrips += roundTrips
	if sql != "" {
		c.statements[sql]++
	}
}

// pgCount is what the server sent between two snapshots.
type pgCount struct {
	RoundTrips int
	Statements map[string]int
}

func (c *pgCounter) snapshot() pgCount {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := pgCount{RoundTrips: c.roundTrips, Statements: make(map[string]int, len(c.statements))}
	for k, v := range c.statements {
		s.Statements[k] = v
	}
	return s
}

// since is what was sent after earlier.
func (s pgCount) since(earlier pgCount) pgCount {
	d := pgCount{RoundTrips: s.RoundTrips - earlier.RoundTrips, Statements: map[string]int{}}
	for k, v := range s.Statements {
		if n := v - earlier.Statements[k]; n > 0 {
			d.Statements[k] = n
		}
	}
	return d
}

// writeSQL matches a statement that changes rows or locks them (a row
// lock writes the row's header): what a read-only request must not run.
var writeSQL = regexp.MustCompile(`(?i)\b(insert|update|delete|merge|truncate|for (no key )?update|for (key )?share|nextval|setval)\b`)

// txSQL matches transaction control.
var txSQL = regexp.MustCompile(`(?i)^(begin|start transaction|commit|rollback|savepoint|release)\b`)

// totals are the counts of statements, writes and transactions (BEGINs).
func (s pgCount) totals() (statements, writes, transactions int) {
	for sql, n := range s.Statements {
		statements += n
		switch {
		case txSQL.MatchString(sql):
			if strings.HasPrefix(strings.ToLower(sql), "begin") || strings.HasPrefix(strings.ToLower(sql), "start") {
				transactions += n
			}
		case writeSQL.MatchString(sql):
			writes += n
		}
	}
	return statements, writes, transactions
}

// String lists the statements, most frequent first, for the test's log.
func (s pgCount) String() string {
	type row struct {
		sql string
		n   int
	}
	var rows []row
	for k, v := range s.Statements {
		rows = append(rows, row{k, v})
	}
	sort.Slice(rows, func(i, j int) bool {
		return rows[i].n > rows[j].n || rows[i].n == rows[j].n && rows[i].sql < rows[j].sql
	})
	var b strings.Builder
	for _, r := range rows {
		fmt.Fprintf(&b, "  %4d  %.160s\n", r.n, r.sql)
	}
	return b.String()
}
