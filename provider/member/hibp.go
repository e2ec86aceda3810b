package member

import (
	"bufio"
	"context"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// hibpTimeout bounds a lookup when the caller's client has no timeout: a
// slow breach service must not hold a password change for long.
const hibpTimeout = 3 * time.Second

// hibpMaxBody bounds the range response (about 40 KB with padding).
const hibpMaxBody = 4 << 20

// HIBPChecker asks a Have I Been Pwned compatible range API whether a
// password is breached, by k-anonymity: only the first five hex digits of
// the password's SHA-1 leave the process, and the answer lists every suffix
// sharing them. It fails open.
type HIBPChecker struct {
	base   string
	client *http.Client
	logger *slog.Logger
}

var _ BreachChecker = (*HIBPChecker)(nil)

// NewHIBPChecker returns a checker for the range API at baseURL (e.g.
// "https://api.pwnedpasswords.com"; the path /range/XXXXX is appended). A nil
// client gets a 3-second timeout; a nil logger is slog.Default().
func NewHIBPChecker(baseURL string, client *http.Client, logger *slog.Logger) *HIBPChecker {
	if client == nil {
		client = &http.Client{Timeout: hibpTimeout}
	}
	if logger == nil {
		logger = slog.Default()
	}
	return &HIBPChecker{base: strings.TrimRight(baseURL, "/"), client: client, logger: logger}
}

// Breached reports whether password appears in the breach corpus. On any
// failure (network, timeout, bad status, unreadable answer) it logs a warning
// and returns false with a nil error: an outage must not stop members from
// choosing a password.
func (c *HIBPChecker) Breached(ctx context.Context, password string) (bool, error) {
	sum := sha1.Sum([]byte(password))
	digest := strings.ToUpper(hex.EncodeToString(sum[:]))
	hit, err := c.lookup(ctx, digest[:5], digest[5:])
	if err != nil {
		// The error text never carries the password or its hash: lookup
		// strips the URL (which holds the prefix) from transport errors.
		c.logger.WarnContext(ctx, "breach check failed, allowing password", "error", err.Error())
		return false, nil
	}
	return hit, nil
}

func (c *HIBPChecker) lookup(ctx context.Context, prefix, suffix string) (bool, error) {
	if c.client.Timeout == 0 {
		if _, ok := ctx.Deadline(); !ok {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, hibpTimeout)
			defer cancel()
		}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+"/range/"+prefix, nil)
	if err != nil {
		return false, errors.New("bad breach service URL")
	}
	// Padding makes every answer about the same size, so the response length
	// does not hint at the prefix to an observer of the encrypted traffic.
	req.Header.Set("Add-Padding", "true")
	req.Header.Set("User-Agent", "tsubasa")
	resp, err := c.client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return false, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return false, fmt.Errorf("breach service answered %s", resp.Status)
	}
	sc := bufio.NewScanner(io.LimitReader(resp.Body, hibpMaxBody))
	found := false
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		got, count, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		// Padding entries are fake suffixes with a count of 0.
		if n, err := strconv.Atoi(count); err == nil && n > 0 && strings.EqualFold(got, suffix) {
			found = true
		}
	}
	if err := sc.Err(); err != nil {
		return false, errors.New("reading breach service answer: " + err.Error())
	}
	return found, nil
}
