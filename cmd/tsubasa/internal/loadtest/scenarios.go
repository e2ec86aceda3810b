package loadtest

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
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
	"admin-import":      adminImport,
	"admin-member-read": adminMemberRead,
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
			tr, err := w.token(ctx, "refresh", "grant_type=refresh_token&refresh_token="+url.QueryEscape(w.refresh))
			w.refresh = tr.RefreshToken
			if err == nil && tr.RefreshToken == "" {
				err = invalidAnswer("refresh without a new refresh token")
			}
			return err
		},
	},
	"client-credentials": {
		help:  "client_credentials grant, the client authenticated as --client-auth says",
		needs: needsClient,
		run: func(ctx context.Context, w *worker) error {
			_, err := w.token(ctx, "client credentials", "grant_type=client_credentials")
			return err
		},
	},
	"userinfo": {
		help:  "GET /userinfo with the worker's access token (DPoP-bound, with a proof, with --dpop)",
		needs: needsMember,
		setup: setupSharedSession,
		prepare: func(ctx context.Context, w *worker) error {
			return errors.Join(prepareTokens(ctx, w), w.presignUserinfo())
		},
		prepareSlots: 16,
		run: func(ctx context.Context, w *worker) error {
			var proof string
			if w.proofs != nil {
				var err error
				if proof, err = w.proofs.take(); err != nil {
					return err
				}
			}
			a, err := w.sendProof(ctx, w.l.userinfo, w.bearer, proof, "")
			switch {
			case err != nil:
				return err
			case a.status != http.StatusOK:
				return answerError("userinfo", a)
			}
			if sub, ok := jsonString(a.body, "sub"); !ok || string(sub) != w.sub || !jsonObject(a.body) {
				return invalidAnswer("userinfo without the subject %q of the ID token: %.200s", w.sub, a.body)
			}
			return nil
		},
	},
	"introspect": {
		help:         "RFC 7662 introspection of the worker's access token",
		needs:        needsMember,
		setup:        setupSharedSession,
		prepare:      prepareTokens,
		prepareSlots: 16,
		run: func(ctx context.Context, w *worker) error {
			auth, form, err := w.l.auth.apply(w.tokenForm)
			if err != nil {
				return err
			}
			a, err := w.send(ctx, w.l.introspect, auth, form)
			switch {
			case err != nil:
				return err
			case a.status != http.StatusOK:
				return answerError("introspect", a)
			case !bytes.HasPrefix(jsonValue(a.body, "active"), []byte("true")) || !jsonObject(a.body):
				return invalidAnswer("introspection says the token is not active: %.200s", a.body)
			}
			return nil
		},
	},
	"discovery": {
		help: "GET /.well-known/openid-configuration",
		run: func(ctx context.Context, w *worker) error {
			a, err := w.send(ctx, w.l.discovery, "", "")
			switch {
			case err != nil:
				return err
			case a.status != http.StatusOK:
				return answerError("discovery", a)
			}
			if iss, ok := jsonString(a.body, "issuer"); !ok || string(iss) != w.l.ep.Issuer || !jsonObject(a.body) {
				return invalidAnswer("discovery without the issuer %s: %.200s", w.l.ep.Issuer, a.body)
			}
			return nil
		},
	},
	"jwks": {
		help: "GET the JWKS (/keys)",
		run: func(ctx context.Context, w *worker) error {
			a, err := w.send(ctx, w.l.jwks, "", "")
			switch {
			case err != nil:
				return err
			case a.status != http.StatusOK:
				return answerError("jwks", a)
			}
			// At least one key: the array opens with an object.
			if keys := jsonValue(a.body, "keys"); len(keys) < 2 || keys[0] != '[' ||
				!bytes.HasPrefix(bytes.TrimLeft(keys[1:], " \t\r\n"), []byte("{")) || !jsonObject(a.body) {
				return invalidAnswer("a JWKS without keys: %.200s", a.body)
			}
			return nil
		},
	},
}

// Scenarios are the scenarios' names, sorted.
func Scenarios() []string {
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
	defer w.closeLean()
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
		w.bearer, w.tokenForm = "Bearer "+tr.AccessToken, "token="+url.QueryEscape(tr.AccessToken)
		if w.l.dpop != nil {
			w.bearer = "DPoP " + tr.AccessToken
		}
		if w.sub = jwtField(tr.IDToken, 1, "sub"); w.sub == "" {
			return invalidAnswer("code exchange without an ID token naming its subject (is openid among the scopes?)")
		}
		return nil
	})
}
