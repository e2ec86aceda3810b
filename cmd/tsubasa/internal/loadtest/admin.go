package loadtest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
)

// adminReadScope is what the admin-member-read scenario's token asks for
// unless --scopes says otherwise.
const adminReadScope = "admin:members:read"

// adminMemberRead reads members through the HTTP admin API as a back
// office does: a client_credentials token (one per worker, fetched before
// the clock starts) and GET /admin/v1/members/{number} of a member drawn
// at random from --member and the --members after it, which must exist.
var adminMemberRead = scenario{
	help:         "GET /admin/v1/members/{number} of a random member of --member/--members, with a client_credentials admin token",
	needs:        needsClient,
	prepare:      prepareAdminToken,
	prepareSlots: 4,
	run: func(ctx context.Context, w *worker) error {
		n := w.l.firstMember + rand.IntN(max(w.l.o.Members, 1))
		number := fmt.Sprintf("%0*d", len(w.l.o.Member), n)
		c := w.l.newCall(http.MethodGet, w.l.o.Issuer+"/admin/v1/members/"+number)
		a, err := w.send(ctx, c, w.bearer, "")
		switch {
		case err != nil:
			return err
		case a.status != http.StatusOK:
			return answerError("admin member read", a)
		}
		if got, ok := jsonString(a.body, "number"); !ok || string(got) != number || !jsonObject(a.body) {
			return invalidAnswer("member %s read as: %.200s", number, a.body)
		}
		return nil
	},
}

// prepareAdminToken gets the worker an admin token by client_credentials.
func prepareAdminToken(ctx context.Context, w *worker) error {
	if w.l.o.Member == "" {
		return usage("loadtest: %s needs --member (and --members)", w.l.o.Scenario)
	}
	// --scope defaults to the OpenID scopes of the other scenarios: an
	// admin client is allowed admin scopes only.
	scope := w.l.o.Scopes
	if !strings.Contains(scope, "admin:") {
		scope = adminReadScope
		if w.l.imp != nil {
			scope = adminImportScope
		}
	}
	tr, err := w.token(ctx, "admin token", "grant_type=client_credentials&scope="+url.QueryEscape(scope))
	if err != nil {
		return err
	}
	w.bearer = "Bearer " + tr.AccessToken
	return nil
}
