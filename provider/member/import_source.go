package member

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
)

// Import formats (ImportOptions.Format).
const (
	FormatCSV       = "csv"   // a header row naming ImportColumns, then one member per record
	FormatJSONLines = "jsonl" // one JSON object per line, keyed by ImportColumns
)

// maxImportLine bounds a JSON line: a member with every field at its
// longest fits many times over.
const maxImportLine = 64 << 10

// rowSource yields an import's rows: next returns the next row's fields
// by column name and the line it starts on, io.EOF after the last, a
// *RowError for a row that cannot be read (reported; the import goes on),
// or any other error, which stops the import.
type rowSource interface {
	next() (get func(string) string, line int, err error)
}

// newRowSource reads the header of a CSV file (refusing unknown, repeated
// and missing columns); JSON lines have none.
func newRowSource(r io.Reader, format string) (rowSource, error) {
	switch format {
	case "", FormatCSV:
		cr := csv.NewReader(r)
		cr.ReuseRecord = true
		header, err := cr.Read()
		if err != nil {
			return nil, fmt.Errorf("member: import: reading header: %w", err)
		}
		cols, err := importHeader(header)
		if err != nil {
			return nil, err
		}
		return &csvSource{r: cr, cols: cols}, nil
	case FormatJSONLines:
		return &jsonSource{r: bufio.NewReaderSize(r, 64<<10)}, nil
	}
	return nil, fmt.Errorf("member: import: unknown format %q (%s or %s)", format, FormatCSV, FormatJSONLines)
}

type csvSource struct {
	r    *csv.Reader
	cols map[string]int
	rec  []string
}

func (s *csvSource) next() (func(string) string, int, error) {
	rec, err := s.r.Read()
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return nil, 0, &RowError{Line: pe.StartLine, Reason: pe.Err.Error()}
	}
	if err != nil {
		if !errors.Is(err, io.EOF) {
			err = fmt.Errorf("member: import: reading: %w", err)
		}
		return nil, 0, err
	}
	line, _ := s.r.FieldPos(0)
	s.rec = rec
	return func(c string) string {
		if i, ok := s.cols[c]; ok && i < len(s.rec) {
			return s.rec[i]
		}
		return ""
	}, line, nil
}

type jsonSource struct {
	r    *bufio.Reader
	line int
}

func (s *jsonSource) next() (func(string) string, int, error) {
	for {
		raw, tooLong, err := s.readLine()
		if err != nil {
			return nil, 0, err
		}
		s.line++
		if tooLong {
			return nil, s.line, &RowError{Line: s.line, Reason: fmt.Sprintf("line longer than %d bytes", maxImportLine)}
		}
		raw = bytes.TrimSpace(bytes.TrimPrefix(raw, []byte("\ufeff")))
		if len(raw) == 0 {
			continue // blank lines separate nothing
		}
		fields, err := parseJSONRow(raw)
		if err != nil {
			return nil, s.line, &RowError{Line: s.line, Reason: err.Error()}
		}
		return func(c string) string { return fields[c] }, s.line, nil
	}
}

// readLine returns the next line without its ending, or tooLong for a
// line over maxImportLine (read to its end, kept nowhere); io.EOF after
// the last.
func (s *jsonSource) readLine() (line []byte, tooLong bool, err error) {
	var buf []byte
	for {
		chunk, err := s.r.ReadSlice('\n')
		if !tooLong {
			if len(buf)+len(chunk) > maxImportLine+2 { // + the line ending
				tooLong, buf = true, nil
			} else {
				buf = append(buf, chunk...)
			}
		}
		switch {
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case err != nil && !errors.Is(err, io.EOF):
			return nil, false, fmt.Errorf("member: import: reading: %w", err)
		case tooLong:
			return nil, true, nil
		case err != nil && len(buf) == 0:
			return nil, false, io.EOF
		}
		return bytes.TrimRight(buf, "\r\n"), false, nil
	}
}

// parseJSONRow reads one object whose keys are ImportColumns and whose
// values are strings (numbers are taken as written, null as empty).
func parseJSONRow(raw []byte) (map[string]string, error) {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err != nil {
		return nil, errors.New("not a JSON object")
	}
	out := make(map[string]string, len(obj))
	for k, v := range obj {
		key := strings.ToLower(strings.TrimSpace(k))
		if !slices.Contains(ImportColumns, key) {
			return nil, fmt.Errorf("unknown field %q (known: %s)", k, strings.Join(ImportColumns, ", "))
		}
		switch v := bytes.TrimSpace(v); {
		case bytes.Equal(v, []byte("null")):
		case len(v) > 0 && v[0] == '"':
			var s string
			if err := json.Unmarshal(v, &s); err != nil {
				return nil, fmt.Errorf("field %s: %v", key, err)
			}
			out[key] = s
		case len(v) > 0 && (v[0] == '-' || v[0] >= '0' && v[0] <= '9'):
			out[key] = string(v)
		default:
			return nil, fmt.Errorf("field %s: must be a string", key)
		}
	}
	return out, nil
}

// CheckImportHeader checks the header row of a CSV import (its first
// line) as Import would, so that a caller can refuse a bad file before
// it starts a long import. io.EOF for an empty one.
func CheckImportHeader(line []byte) error {
	if len(bytes.TrimSpace(line)) == 0 {
		return fmt.Errorf("member: import: reading header: %w", io.EOF)
	}
	header, err := csv.NewReader(bytes.NewReader(line)).Read()
	if err != nil {
		return fmt.Errorf("member: import: reading header: %w", err)
	}
	_, err = importHeader(header)
	return err
}
