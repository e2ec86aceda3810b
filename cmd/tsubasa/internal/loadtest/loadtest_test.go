package loadtest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"
)

func TestHistBucketsHoldTheirValues(t *testing.T) {
	check := func(v uint64) {
		i := histIndex(v)
		if i < 0 || i >= histBuckets {
			t.Fatalf("histIndex(%d) = %d, out of [0, %d)", v, i, histBuckets)
		}
		lo, hi := histRange(i)
		if v < lo || v >= hi {
			t.Fatalf("value %d in bucket %d holding [%d, %d)", v, i, lo, hi)
		}
		if v >= histLinear && float64(hi-lo)/float64(lo) > 1.0/histSub+1e-9 {
			t.Fatalf("bucket %d [%d, %d) wider than 1/%d of its values", i, lo, hi, histSub)
		}
	}
	for v := range uint64(5000) {
		check(v)
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 100000 {
		check(r.Uint64N(1 << (histMaxBits - 1)))
	}
	if got := histIndex(1 << 62); got != histBuckets-1 {
		t.Errorf("huge value in bucket %d, want the last (%d)", got, histBuckets-1)
	}
}

func TestHistQuantiles(t *testing.T) {
	var a, b latencyHist
	// 1..10000µs, split over two histograms as over two workers.
	for v := 1; v <= 10000; v++ {
		h := &a
		if v%2 == 0 {
			h = &b
		}
		h.record(time.Duration(v) * time.Microsecond)
	}
	a.merge(&b)
	for _, c := range []struct {
		q    float64
		want time.Duration
	}{{0.5, 5 * time.Millisecond}, {0.95, 9500 * time.Microsecond}, {0.99, 9900 * time.Microsecond}} {
		got := a.quantile(c.q)
		if d := float64(got-c.want) / float64(c.want); d < -0.035 || d > 0.035 {
			t.Errorf("quantile(%v) = %v, want %v within 3.5%%", c.q, got, c.want)
		}
	}
	if a.max() != 10*time.Millisecond || a.n != 10000 {
		t.Errorf("max %v, n %d", a.max(), a.n)
	}
	if got := a.mean(); got < 4990*time.Microsecond || got > 5010*time.Microsecond {
		t.Errorf("mean %v, want about 5ms", got)
	}
	var empty latencyHist
	if empty.quantile(0.99) != 0 || empty.mean() != 0 {
		t.Error("an empty histogram must report zeros")
	}
}

func TestProcReaders(t *testing.T) {
	if _, err := os.Stat("/proc/self/status"); err != nil {
		t.Skip("no /proc here")
	}
	st, err := procStatus(os.Getpid())
	if err != nil || st["VmRSS"] == 0 || st["VmHWM"] < st["VmRSS"] {
		t.Fatalf("procStatus: %v %v", st, err)
	}
	if _, err := procCPU(os.Getpid()); err != nil {
		t.Fatal(err)
	}
	if machineCPU() <= 0 {
		t.Error("machineCPU is zero")
	}
	if _, err := startProc(1 << 30); err == nil {
		t.Error("startProc of a missing process did not fail")
	}
}

func TestJWTAlgAndHelpers(t *testing.T) {
	// {"alg":"ES256","kid":"k"}.{}.sig
	if got := jwtAlg("eyJhbGciOiJFUzI1NiIsImtpZCI6ImsifQ.e30.c2ln"); got != "ES256" {
		t.Errorf("jwtAlg = %q", got)
	}
	if jwtAlg("garbage") != "" {
		t.Error("jwtAlg of garbage must be empty")
	}
	page := `<html><head><title>Login</title></head><body><div class="alert" role="alert"><p class="error"><span>!</span> Too busy</p></div><form>…</form></body></html>`
	if got := answerText([]byte(page)); !strings.HasPrefix(got, "! Too busy") {
		t.Errorf("answerText of a page = %q", got)
	}
	if got := answerText([]byte(`{"error":"invalid_grant"}`)); got != `{"error":"invalid_grant"}` {
		t.Errorf("answerText of JSON = %q", got)
	}
	if got := answerText(bytes.Repeat([]byte("空"), 100)); len(got) > 200 || !utf8.ValidString(got) {
		t.Errorf("answerText not cut at a rune boundary: %q", got)
	}
	if got := htmlUnescape("a&#43;b&amp;c"); got != "a+b&c" {
		t.Errorf("htmlUnescape = %q", got)
	}
	l := &loader{o: Options{Member: "9000000", Members: 3}, firstMember: 9000000}
	if got := l.memberNumber(4); got != "9000001" {
		t.Errorf("memberNumber(4) = %q", got)
	}
}

// TestRunRefusesBadOptions: options no run can use are refused as usage
// errors before anything is sent.
func TestRunRefusesBadOptions(t *testing.T) {
	for _, o := range []Options{
		{Issuer: "http://127.0.0.1:1", Concurrency: 1, Duration: time.Second},
		{Issuer: "http://127.0.0.1:1", Scenario: "nope", Concurrency: 1, Duration: time.Second},
		{Issuer: "http://127.0.0.1:1", Scenario: "sso", ClientID: "c", ClientSecret: "s", Concurrency: 1, Duration: time.Second},
		{Issuer: "http://127.0.0.1:1", Scenario: "jwks", Concurrency: 0, Duration: time.Second},
		{Issuer: "http://127.0.0.1:1", Scenario: "login", ClientID: "c", ClientSecret: "s", Member: "12", Password: "p",
			Concurrency: 1, Duration: time.Second},
		{Issuer: "ftp://127.0.0.1:1", Scenario: "jwks", Concurrency: 1, Duration: time.Second},
		// --target: the issuer's scheme and only a host and port.
		{Issuer: "http://127.0.0.1:1", Targets: []string{"https://127.0.0.1:2"}, Scenario: "jwks", Concurrency: 1, Duration: time.Second},
		{Issuer: "http://127.0.0.1:1", Targets: []string{"http://127.0.0.1:2/keys"}, Scenario: "jwks", Concurrency: 1, Duration: time.Second},
		{Issuer: "http://127.0.0.1:1", Targets: []string{"127.0.0.1:2"}, Scenario: "jwks", Concurrency: 1, Duration: time.Second},
		{Issuer: "http://127.0.0.1:1", Targets: []string{"http://10.0.0.1:2"}, SourceAddrs: 2, Scenario: "jwks", Concurrency: 1, Duration: time.Second},
	} {
		var ue UsageError
		if err := Run(t.Context(), o, io.Discard); !errors.As(err, &ue) {
			t.Errorf("%+v: %v, want a usage error", o, err)
		}
	}
	if got := MemberNumber("0900000", 12); got != "0900012" {
		t.Errorf("MemberNumber = %q", got)
	}
}

// fakeOP is a stand-in server: discovery, a JWKS, a token endpoint for the
// client credentials grant (client "c", secret "s"), userinfo and
// introspection for the access token "at" of subject "sub-1", and /slow,
// which answers after a second. fail makes the JWKS answer 503; every
// fourth token answer is chunked and closes the connection.
func fakeOP(t *testing.T, fail *atomic.Bool) *httptest.Server {
	var srv *httptest.Server
	var tokens atomic.Int64
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/.well-known/openid-configuration":
			_ = json.NewEncoder(w).Encode(map[string]string{
				"issuer": srv.URL, "token_endpoint": srv.URL + "/oauth/token", "jwks_uri": srv.URL + "/keys",
				"userinfo_endpoint": srv.URL + "/userinfo", "introspection_endpoint": srv.URL + "/oauth/introspect",
			})
		case "/keys":
			if fail.Load() {
				w.Header().Set("Retry-After", "0")
				http.Error(w, "busy", http.StatusServiceUnavailable)
				return
			}
			_, _ = w.Write([]byte(`{"keys": [ {"kty":"EC","kid":"k"}]}`))
		case "/oauth/token":
			if id, secret, _ := r.BasicAuth(); id != "c" || secret != "s" || r.PostFormValue("grant_type") != "client_credentials" {
				http.Error(w, `{"error":"invalid_client"}`, http.StatusUnauthorized)
				return
			}
			if tokens.Add(1)%4 == 0 {
				w.Header().Set("Connection", "close")
				w.(http.Flusher).Flush() // chunked
			}
			_, _ = w.Write([]byte(`{"access_token":"at","token_type":"Bearer","expires_in":60}`))
		case "/userinfo":
			if r.Header.Get("Authorization") != "Bearer at" {
				http.Error(w, `{"error":"invalid_token"}`, http.StatusUnauthorized)
				return
			}
			_, _ = w.Write([]byte(`{"sub":"sub-1","name":"A \"sub\": \"x\""}`))
		case "/oauth/introspect":
			_, _ = fmt.Fprintf(w, `{"active": %t}`, r.PostFormValue("token") == "at")
		case "/slow":
			select {
			case <-time.After(time.Second):
			case <-r.Context().Done():
			}
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

// TestLoadtestAgainstFake runs the scenarios that need no member against a
// stand-in server: the worker loop, the counting of errors per status and
// the JSON report.
func TestLoadtestAgainstFake(t *testing.T) {
	var fail atomic.Bool
	srv := fakeOP(t, &fail)
	for _, c := range []struct {
		scenario string
		fail     bool
		wantErr  string
	}{{"discovery", false, ""}, {"jwks", false, ""}, {"jwks", true, "503"}, {"client-credentials", false, ""}} {
		fail.Store(c.fail)
		var out bytes.Buffer
		o := Options{Issuer: srv.URL, Scenario: c.scenario, Concurrency: 2, Duration: 200 * time.Millisecond,
			Timeout: 30 * time.Second, JSON: true, ClientID: "c", ClientSecret: "s", HonorRetryAfter: true}
		_, err := os.Stat("/proc/self/status")
		withProc := err == nil
		if withProc {
			o.PID = os.Getpid()
		}
		if err := Run(t.Context(), o, &out); err != nil {
			t.Fatalf("%+v: %v", o, err)
		}
		var rep map[string]any
		if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
			t.Fatalf("not JSON: %v\n%s", err, out.String())
		}
		for _, k := range []string{"requests_per_second", "p50_ms", "p95_ms", "p99_ms", "errors"} {
			if _, ok := rep[k]; !ok {
				t.Errorf("%s: no %q in %s", c.scenario, k, out.String())
			}
		}
		errs, _ := rep["errors"].(map[string]any)
		if c.wantErr == "" && (len(errs) != 0 || rep["iterations"].(float64) == 0) {
			t.Errorf("%s: errors %v, iterations %v", c.scenario, errs, rep["iterations"])
		}
		if c.wantErr != "" && errs[c.wantErr] == nil {
			t.Errorf("%s: errors %v, want some %s", c.scenario, errs, c.wantErr)
		}
		if _, ok := rep["server"]; withProc && !ok {
			t.Errorf("--pid given but no server figures: %s", out.String())
		}
	}
}

// TestClockFileMarksTheMeasuredRun: --clock-file gets "start" after the
// preparation and "stop" after the run, appended, so that a script
// reading CPU between them leaves the preparation out; an unwritable
// file stops the run with an error naming the flag.
func TestClockFileMarksTheMeasuredRun(t *testing.T) {
	var fail atomic.Bool
	srv := fakeOP(t, &fail)
	clock := filepath.Join(t.TempDir(), "clock")
	o := Options{Issuer: srv.URL, Scenario: "discovery", Concurrency: 1, Duration: 50 * time.Millisecond,
		Timeout: 30 * time.Second, JSON: true, HonorRetryAfter: true, ClockFile: clock}
	for range 2 {
		if err := Run(t.Context(), o, io.Discard); err != nil {
			t.Fatal(err)
		}
	}
	if b, err := os.ReadFile(clock); err != nil || string(b) != "start\nstop\nstart\nstop\n" {
		t.Errorf("clock file %q, %v; want start and stop of each run", b, err)
	}
	o.ClockFile = filepath.Join(t.TempDir(), "missing", "clock")
	if err := Run(t.Context(), o, io.Discard); err == nil || !strings.Contains(err.Error(), "--clock-file") {
		t.Errorf("unwritable clock file: %v, want an error naming --clock-file", err)
	}
}

// TestLoadtestChecks runs single iterations of the one-request scenarios,
// on the lean path and through net/http, against answers right and wrong.
func TestLoadtestChecks(t *testing.T) {
	var fail atomic.Bool
	srv := fakeOP(t, &fail)
	ctx := t.Context()
	for _, lean := range []bool{true, false} {
		l, err := newLoader(ctx, Options{Issuer: srv.URL, Concurrency: 1, Timeout: 5 * time.Second,
			ClientID: "c", ClientSecret: "s"})
		if err != nil {
			t.Fatal(err)
		}
		if !l.token.lean || !l.userinfo.lean {
			t.Fatal("the lean path is not taken for a plain HTTP issuer")
		}
		for _, c := range []*call{l.discovery, l.jwks, l.userinfo, l.introspect, l.token} {
			c.lean = lean
		}
		w := newWorker(l, 0)
		w.bearer, w.sub, w.tokenForm = "Bearer at", "sub-1", "token=at"
		for _, name := range []string{"discovery", "jwks", "userinfo", "introspect", "client-credentials"} {
			for range 5 { // past the token endpoint's closed connection
				if err := scenarios[name].run(ctx, w); err != nil {
					t.Errorf("lean %v, %s: %v", lean, name, err)
				}
			}
		}
		wrong := func(name, key string) {
			t.Helper()
			var fe *flowError
			if err := scenarios[name].run(ctx, w); !errors.As(err, &fe) || fe.key != key {
				t.Errorf("lean %v, %s: error %v, want %s", lean, name, err, key)
			}
		}
		w.sub = "sub-2"
		wrong("userinfo", "invalid")
		w.tokenForm = "token=other"
		wrong("introspect", "invalid")
		w.bearer = "Bearer other"
		wrong("userinfo", "401")
		fail.Store(true)
		wrong("jwks", "503")
		fail.Store(false)
		if w.requests != 5*5+4 || w.req.n != w.requests {
			t.Errorf("lean %v: %d requests counted, %d timed", lean, w.requests, w.req.n)
		}
		w.closeLean()
	}
}

// TestLeanExchange covers the lean path's connection handling: a
// connection the server closed is replaced, the request timeout and the
// end of the context cut a request short.

// TestRateOffersOnASchedule: with --rate the run offers exactly rate ×
// duration iterations, on a schedule, whatever the workers; against a
// server slower than the schedule, the iterations that waited for a free
// worker start late, and their latency counts from when they were due,
// so the queue shows in the latency instead of hiding as a lower rate.
func TestRateOffersOnASchedule(t *testing.T) {
	for _, rate := range []float64{-1, math.NaN(), 2_000_000} {
		o := Options{Issuer: "http://127.0.0.1:1", Scenario: "jwks", Concurrency: 1, Duration: time.Second, Rate: rate}
		var ue UsageError
		if err := Run(t.Context(), o, io.Discard); !errors.As(err, &ue) {
			t.Errorf("--rate %v: %v, want a usage error", rate, err)
		}
	}
	run := func(issuer string, o Options) loadReport {
		t.Helper()
		o.Issuer, o.Scenario, o.Timeout, o.JSON = issuer, "discovery", 30*time.Second, true
		var out bytes.Buffer
		if err := Run(t.Context(), o, &out); err != nil {
			t.Fatalf("%+v: %v", o, err)
		}
		var rep loadReport
		if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
			t.Fatalf("not JSON: %v\n%s", err, out.String())
		}
		if len(rep.Errors) != 0 {
			t.Fatalf("errors: %v", rep.Errors)
		}
		return rep
	}
	var fail atomic.Bool
	fast := fakeOP(t, &fail)
	rep := run(fast.URL, Options{Concurrency: 4, Duration: 500 * time.Millisecond, Rate: 200})
	if rep.Iterations != 100 || rep.OfferedRate != 200 {
		t.Errorf("200/s for 0.5s: %d iterations offered at %v/s, want 100 at 200", rep.Iterations, rep.OfferedRate)
	}

	// One worker, 20 ms per answer, 100 due a second: it falls behind.
	var slow *httptest.Server
	slow = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(20 * time.Millisecond)
		_ = json.NewEncoder(w).Encode(map[string]string{
			"issuer": slow.URL, "token_endpoint": slow.URL + "/oauth/token", "jwks_uri": slow.URL + "/keys",
			"userinfo_endpoint": slow.URL + "/userinfo", "introspection_endpoint": slow.URL + "/oauth/introspect",
		})
	}))
	t.Cleanup(slow.Close)
	rep = run(slow.URL, Options{Concurrency: 1, Duration: 300 * time.Millisecond, Rate: 100})
	if rep.Iterations != 30 || rep.LateStarts == 0 || rep.MaxStartLagMS < 100 {
		t.Errorf("a worker behind its schedule: %d iterations, %d late, the longest %.1fms late; want 30, some late by over 100ms",
			rep.Iterations, rep.LateStarts, rep.MaxStartLagMS)
	}
	if rep.P99 < 100 || rep.P50 < 50 {
		t.Errorf("latency p50 %.1fms, p99 %.1fms behind the schedule: want the wait for the worker counted (answers take 20ms)", rep.P50, rep.P99)
	}
	closed := run(slow.URL, Options{Concurrency: 1, Duration: 300 * time.Millisecond})
	if closed.OfferedRate != 0 || closed.LateStarts != 0 || closed.P50 > rep.P50/2 {
		t.Errorf("closed loop: offered %v, %d late, p50 %.1fms; want no schedule and the answers' own latency, well under the open loop's %.1fms",
			closed.OfferedRate, closed.LateStarts, closed.P50, rep.P50)
	}
}
