package loadtest

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httputil"
	"strconv"
	"time"
)

// The lean HTTP/1.x client of the flows reads answers itself (wire.go
// says why): the status, the headers the flows use and the body.

var errMalformed = errors.New("malformed HTTP answer")

// maxLeanBody bounds an answer's body.
const maxLeanBody = 64 << 20

// readAnswer reads an HTTP/1.x answer: the status, the headers that frame
// the body (Content-Length, Transfer-Encoding, Connection), Location and
// Retry-After, then the body into the worker's buffer. keep says whether
// the connection can carry the next request; got whether any byte came.
func (w *worker) readAnswer(br *bufio.Reader) (a answer, keep, got bool, err error) {
	for {
		line, err := br.ReadSlice('\n')
		if err != nil {
			return a, false, len(line) > 0, err
		}
		got = true
		if a, keep, err = readStatus(line); err != nil {
			return a, false, got, err
		}
		f, err := readHeaders(br, &a, keep)
		if err != nil {
			return a, false, got, err
		}
		if a.status >= 100 && a.status < 200 {
			continue // informational: the answer follows
		}
		if err := w.readBody(br, &a, &f); err != nil {
			return a, false, got, err
		}
		return a, f.keep, got, nil
	}
}

// readStatus parses a status line; keep is HTTP/1.1's default (HTTP/1.0
// closes unless told otherwise).
func readStatus(line []byte) (a answer, keep bool, err error) {
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.")) || line[8] != ' ' {
		return a, false, errMalformed
	}
	for _, d := range line[9:12] {
		if d < '0' || d > '9' {
			return a, false, errMalformed
		}
		a.status = a.status*10 + int(d-'0')
	}
	return a, line[7] == '1', nil
}

// framing is how an answer's body is delimited, and whether the
// connection stays open after it.
type framing struct {
	length  int64 // -1: no Content-Length
	chunked bool
	keep    bool
}

// readHeaders reads the header block into a (the headers the flows use)
// and returns the body's framing.
func readHeaders(br *bufio.Reader, a *answer, keep bool) (framing, error) {
	f := framing{length: -1, keep: keep}
	for {
		line, err := br.ReadSlice('\n')
		if err == bufio.ErrBufferFull { // a long line: none of the headers read here
			for err == bufio.ErrBufferFull {
				_, err = br.ReadSlice('\n')
			}
			if err == nil {
				continue
			}
		}
		if err != nil {
			return f, err
		}
		if len(bytes.TrimRight(line, "\r\n")) == 0 {
			return f, nil
		}
		name, val, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			return f, errMalformed
		}
		if err := f.header(a, name, bytes.TrimSpace(val)); err != nil {
			return f, err
		}
	}
}

// header takes one header line into the answer or its framing.
func (f *framing) header(a *answer, name, val []byte) error {
	switch {
	case headerIs(name, "Content-Length"):
		n, err := strconv.ParseInt(string(val), 10, 64)
		if err != nil || n < 0 || n > maxLeanBody || (f.length >= 0 && n != f.length) {
			return errMalformed
		}
		f.length = n
	case headerIs(name, "Transfer-Encoding"):
		if !bytes.EqualFold(val, []byte("chunked")) {
			return fmt.Errorf("unsupported Transfer-Encoding %q", val)
		}
		f.chunked = true
	case headerIs(name, "Connection"):
		if bytes.EqualFold(val, []byte("close")) {
			f.keep = false
		} else if bytes.EqualFold(val, []byte("keep-alive")) {
			f.keep = true
		}
	case headerIs(name, "Location"):
		a.location = string(val)
	case headerIs(name, "Set-Cookie"):
		a.setCookie = append(a.setCookie, string(val))
	case headerIs(name, "Retry-After"):
		if s, err := strconv.Atoi(string(val)); err == nil {
			a.retryAfter = time.Duration(s) * time.Second
		}
	}
	return nil
}

// readBody reads the body f frames into the worker's reused buffers.
func (w *worker) readBody(br *bufio.Reader, a *answer, f *framing) error {
	switch {
	case a.status == http.StatusNoContent || a.status == http.StatusNotModified:
		a.body = w.body[:0]
	case f.length >= 0:
		if int64(cap(w.body)) < f.length {
			w.body = make([]byte, f.length)
		}
		a.body = w.body[:f.length]
		_, err := io.ReadFull(br, a.body)
		return err
	default: // chunked, or delimited by the end of the connection
		var r io.Reader = br
		if f.chunked {
			r = httputil.NewChunkedReader(br)
		} else {
			f.keep = false
		}
		w.buf.Reset()
		if _, err := w.buf.ReadFrom(io.LimitReader(r, maxLeanBody)); err != nil {
			return err
		}
		for chunked := f.chunked; chunked; { // the trailer
			line, err := br.ReadSlice('\n')
			if err != nil {
				return err
			}
			chunked = len(bytes.TrimRight(line, "\r\n")) > 0
		}
		a.body = w.buf.Bytes()
	}
	return nil
}

func headerIs(name []byte, want string) bool {
	return len(name) == len(want) && bytes.EqualFold(name, []byte(want))
}
