package main

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// scenario is one kind of load. Every worker runs iterations of run until
// the duration is over; prepare (untimed, before the clock starts) gives a
// worker what its iterations need, and setup does the same once for all.
type scenario struct {
	help    string
	needs   needs
	setup   func(ctx context.Context, l *loader) error
	prepare func(ctx context.Context, w *worker) error
	// prepareSlots bounds workers preparing at once (password logins are
	// bounded by the server's hash limiter).
	prepareSlots int
	run          func(ctx context.Context, w *worker) error
}

// needs says which flags a scenario requires.
type needs int

const (
	needsNothing needs = iota
	needsClient        // client id and secret
	needsMember        // client, redirect URI, member and password
)

var scenarios = map[string]scenario{
	"login": {
		help:  "authorization code flow with a password login each iteration, in a fresh browser",
		needs: needsMember,
		run: func(ctx context.Context, w *worker) error {
			w.freshBrowser()
			tr, err := w.codeFlow(ctx, true)
			if err == nil && tr.IDToken == "" {
				err = invalidAnswer("code exchange without an ID token")
			}
			return err
		},
	},
	"sso": {
		help:         "authorization code flow on the worker's logged-in session (no password)",
		needs:        needsMember,
		prepare:      prepareSession,
		prepareSlots: 4,
		run: func(ctx context.Context, w *worker) error {
			tr, err := w.codeFlow(ctx, false)
			if err == nil && tr.IDToken == "" {
				err = invalidAnswer("code exchange without an ID token")
			}
			return err
		},
	},
	"refresh": {
		help:         "refresh token rotation: each iteration uses the token the last one returned",
		needs:        needsMember,
		setup:        setupSharedSession,
		prepare:      prepareTokens,
		prepareSlots: 16,
		run: func(ctx context.Context, w *worker) error {
			if w.refresh == "" { // lost with a failed rotation
				if err := prepareTokens(ctx, w); err != nil {
					return err
				}
			}
			tr, err := w.token(ctx, "refresh", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {w.refresh}})
			w.refresh = tr.RefreshToken
			if err == nil && tr.RefreshToken == "" {
				err = invalidAnswer("refresh without a new refresh token")
			}
			return err
		},
	},
	"client-credentials": {
		help:  "client_credentials grant with HTTP basic authentication",
		needs: needsClient,
		run: func(ctx context.Context, w *worker) error {
			_, err := w.token(ctx, "client credentials", url.Values{"grant_type": {"client_credentials"}})
			return err
		},
	},
	"userinfo": {
		help:         "GET /userinfo with the worker's access token",
		needs:        needsMember,
		setup:        setupSharedSession,
		prepare:      prepareTokens,
		prepareSlots: 16,
		run: func(ctx context.Context, w *worker) error {
			_, err := w.getOK(ctx, "userinfo", w.l.ep.Userinfo, w.access)
			return err
		},
	},
	"introspect": {
		help:         "RFC 7662 introspection of the worker's access token",
		needs:        needsMember,
		setup:        setupSharedSession,
		prepare:      prepareTokens,
		prepareSlots: 16,
		run: func(ctx context.Context, w *worker) error {
			resp, body, err := w.postForm(ctx, w.l.ep.Introspection, url.Values{"token": {w.access}}, true)
			switch {
			case err != nil:
				return err
			case resp.StatusCode != http.StatusOK:
				return statusError("introspect", resp, body)
			case !strings.Contains(string(body), `"active":true`):
				return invalidAnswer("introspection says the token is not active: %.200s", body)
			}
			return nil
		},
	},
	"discovery": {
		help: "GET /.well-known/openid-configuration",
		run: func(ctx context.Context, w *worker) error {
			_, err := w.getOK(ctx, "discovery", w.l.discoveryURL, "")
			return err
		},
	},
	"jwks": {
		help: "GET the JWKS (/keys)",
		run: func(ctx context.Context, w *worker) error {
			_, err := w.getOK(ctx, "jwks", w.l.ep.JWKS, "")
			return err
		},
	},
}

func scenarioNames() []string {
	names := make([]string, 0, len(scenarios))
	for n := range scenarios {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// retrying runs f until it succeeds, retrying answers that ask to wait
// (429, 503: the hash limiter is full while many workers log in at once).
func retrying(ctx context.Context, w *worker, f func() error) error {
	var err error
	for range 30 {
		w.retryAfter = 0
		if err = f(); err == nil {
			return nil
		}
		var fe *flowError
		if !errors.As(err, &fe) || (fe.key != "429" && fe.key != "503") {
			return err
		}
		sleepCtx(ctx, min(max(w.retryAfter, 100*time.Millisecond), 2*time.Second))
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
	return err
}

// prepareSession logs the worker's browser in with a password.
func prepareSession(ctx context.Context, w *worker) error {
	w.freshBrowser()
	return retrying(ctx, w, func() error {
		_, err := w.codeFlow(ctx, true)
		return err
	})
}

// setupSharedSession logs one browser in; the token scenarios' workers get
// their tokens from SSO flows on it, so preparing costs one password hash.
func setupSharedSession(ctx context.Context, l *loader) error {
	w := newWorker(l, 0)
	if err := prepareSession(ctx, w); err != nil {
		return err
	}
	l.sharedJar = w.client.Jar
	return nil
}

// prepareTokens gives the worker an access and a refresh token from a code
// flow on the shared session.
func prepareTokens(ctx context.Context, w *worker) error {
	w.client.Jar = w.l.sharedJar
	defer func() { w.client.Jar = nil }()
	return retrying(ctx, w, func() error {
		tr, err := w.codeFlow(ctx, false)
		if err != nil {
			return err
		}
		if tr.RefreshToken == "" {
			return invalidAnswer("code exchange without a refresh token (does the client have the refresh_token grant?)")
		}
		w.access, w.refresh = tr.AccessToken, tr.RefreshToken
		return nil
	})
}
