package loadtest

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"
)

// TestTargetsSpreadConnectionsOverReplicas runs scenarios with two
// --target replicas behind an issuer that no one listens on (a name that
// does not resolve): every request must reach one of the replicas, both
// must get connections and requests, and every request must still name
// the issuer (Host and the URLs from discovery), as behind a load
// balancer.
func TestTargetsSpreadConnectionsOverReplicas(t *testing.T) {
	const issuer = "http://id.tsubasa.test"
	var replicas [2]*httptest.Server
	var served [2]atomic.Int64
	var wrongHost atomic.Value
	for i := range replicas {
		replicas[i] = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			served[i].Add(1)
			if r.Host != "id.tsubasa.test" {
				wrongHost.Store(r.Host)
			}
			switch r.URL.Path {
			case "/.well-known/openid-configuration":
				_ = json.NewEncoder(w).Encode(map[string]string{
					"issuer": issuer, "token_endpoint": issuer + "/oauth/token", "jwks_uri": issuer + "/keys",
					"userinfo_endpoint": issuer + "/userinfo", "introspection_endpoint": issuer + "/oauth/introspect",
				})
			case "/keys":
				// Close every other connection, so that the run keeps
				// opening new ones and the round robin shows.
				if served[i].Load()%2 == 0 {
					w.Header().Set("Connection", "close")
				}
				_, _ = w.Write([]byte(`{"keys": [ {"kty":"EC","kid":"k"}]}`))
			default:
				http.NotFound(w, r)
			}
		}))
		t.Cleanup(replicas[i].Close)
	}
	for _, sc := range []string{"discovery", "jwks"} { // jwks takes the lean path, discovery net/http
		var out bytes.Buffer
		o := Options{Issuer: issuer, Targets: []string{replicas[0].URL, replicas[1].URL}, Scenario: sc,
			Concurrency: 4, Duration: 300 * time.Millisecond, Timeout: 10 * time.Second, JSON: true}
		if err := Run(t.Context(), o, &out); err != nil {
			t.Fatalf("%s: %v", sc, err)
		}
		var rep loadReport
		if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
			t.Fatalf("not JSON: %v\n%s", err, out.String())
		}
		if len(rep.Errors) != 0 || rep.Iterations == 0 {
			t.Errorf("%s: %d iterations, errors %v %v", sc, rep.Iterations, rep.Errors, rep.ErrorSamples)
		}
		if len(rep.Targets) != 2 || rep.Targets[0].Connections == 0 || rep.Targets[1].Connections == 0 {
			t.Errorf("%s: connections per target %+v, want some on each of two", sc, rep.Targets)
		}
	}
	if served[0].Load() == 0 || served[1].Load() == 0 {
		t.Errorf("requests served: %d and %d, want some on each replica", served[0].Load(), served[1].Load())
	}
	if h := wrongHost.Load(); h != nil {
		t.Errorf("a replica got Host %q, want the issuer's", h)
	}
}
