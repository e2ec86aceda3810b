package loadtest

// The browser's side of the code flows: following redirects, the SSO
// /authorize on the lean path, and the login form.

import (
	"bytes"
	"context"
	"net/http"
	"net/url"
	"strings"
)

// follow GETs u and follows redirects until one points at the redirect URI
// (returned as cb) or a page answers 200 (returned with its URL and body).
func (w *worker) follow(ctx context.Context, u string) (cb, page *url.URL, body []byte, err error) {
	for range 10 {
		resp, b, err := w.get(ctx, u)
		if err != nil {
			return nil, nil, nil, err
		}
		switch {
		case resp.StatusCode == http.StatusOK:
			return nil, resp.Request.URL, b, nil
		case resp.StatusCode >= 300 && resp.StatusCode < 400:
			next, err := resp.Location()
			if err != nil {
				return nil, nil, nil, statusError("redirect", resp, b)
			}
			if strings.HasPrefix(next.String(), w.l.o.RedirectURI) {
				return next, nil, nil, nil
			}
			u = next.String()
		default:
			return nil, nil, nil, statusError("GET "+resp.Request.URL.Path, resp, b)
		}
	}
	return nil, nil, nil, invalidAnswer("more than 10 redirects from /authorize")
}

// authorizeSSO is follow for an SSO flow, whose /authorize answers with the
// redirect to the relying party at once: that request goes on the lean
// path (see send) with the browser's cookies, and anything else it answers
// is followed through net/http, as follow does.
func (w *worker) authorizeSSO(ctx context.Context, u string) (cb, page *url.URL, body []byte, err error) {
	c := w.l.newCall(http.MethodGet, u)
	if !c.lean || w.client.Jar == nil {
		return w.follow(ctx, u)
	}
	target, err := url.Parse(u)
	if err != nil {
		return nil, nil, nil, err
	}
	var cookie strings.Builder
	for i, k := range w.client.Jar.Cookies(target) {
		if i > 0 {
			cookie.WriteString("; ")
		}
		cookie.WriteString(k.Name + "=" + k.Value)
	}
	a, err := w.sendLean(ctx, c, "", cookie.String(), "", "")
	if err != nil {
		return nil, nil, nil, err
	}
	if len(a.setCookie) > 0 {
		var set []*http.Cookie
		for _, line := range a.setCookie {
			if k, err := http.ParseSetCookie(line); err == nil {
				set = append(set, k)
			}
		}
		w.client.Jar.SetCookies(target, set)
	}
	switch {
	case a.status == http.StatusOK:
		return nil, target, a.body, nil
	case a.status >= 300 && a.status < 400:
		next, err := target.Parse(a.location)
		if err != nil || a.location == "" {
			return nil, nil, nil, answerError("redirect", a)
		}
		if strings.HasPrefix(next.String(), w.l.o.RedirectURI) {
			return next, nil, nil, nil
		}
		return w.follow(ctx, next.String())
	default:
		return nil, nil, nil, answerError("GET "+c.path, a)
	}
}

var authRequestField = []byte(`name="authRequestID" value="`)

// login submits the login form on page with the worker's member number and
// the password, as a same-origin browser would, and follows the answer to
// the relying party.
func (w *worker) login(ctx context.Context, page *url.URL, body []byte) (*url.URL, error) {
	i := bytes.Index(body, authRequestField)
	if i < 0 {
		return nil, invalidAnswer("no authRequestID on the page at %s", page.Path)
	}
	rest := body[i+len(authRequestField):]
	j := bytes.IndexByte(rest, '"')
	if j < 0 {
		return nil, invalidAnswer("unterminated authRequestID on the page at %s", page.Path)
	}
	form := url.Values{
		"authRequestID": {htmlUnescape(string(rest[:j]))},
		"member_number": {w.number},
		"password":      {w.l.o.Password},
	}
	target := page.ResolveReference(&url.URL{Path: "/login"})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target.String(), strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", page.Scheme+"://"+page.Host)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	resp, b, err := w.do(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode < 300 || resp.StatusCode >= 400 {
		return nil, statusError("POST /login", resp, b)
	}
	next, err := resp.Location()
	if err != nil {
		return nil, statusError("POST /login", resp, b)
	}
	if strings.HasPrefix(next.String(), w.l.o.RedirectURI) {
		return next, nil
	}
	if strings.HasPrefix(next.Path, "/login/") {
		// Not followed: a one-time password page would send a code.
		return nil, invalidAnswer("the login continued to %s, a step the load test cannot answer "+
			"(a one-time password? set otp.on_login: never for load tests)", next.Path)
	}
	cb, _, _, err := w.follow(ctx, next.String())
	if err == nil && cb == nil {
		err = invalidAnswer("after POST /login: a page instead of the redirect to the relying party")
	}
	return cb, err
}

// htmlUnescape undoes html/template's escaping of an attribute value (ids
// are URL-safe, so only a few entities can appear).
func htmlUnescape(s string) string {
	if !strings.Contains(s, "&") {
		return s
	}
	return strings.NewReplacer("&amp;", "&", "&#43;", "+", "&#34;", `"`, "&#39;", "'", "&lt;", "<", "&gt;", ">").Replace(s)
}
