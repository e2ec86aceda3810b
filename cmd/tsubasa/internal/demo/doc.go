// Package demo is the relying party served at /demo/ in development mode:
// a web app that logs in through Tsubasa as any other would (code flow
// with PKCE and a nonce, over HTTP to the issuer, with coreos/go-oidc and
// x/oauth2) and shows the ID token's claims and userinfo, with a link to
// log out. The composition root mounts it, with the demo client it seeds,
// only when dev is set.
//
//	GET /demo/          the home page: log in, or log in with a one-time password (acr_values)
//	GET /demo/login     starts a flow: state, nonce and PKCE verifier in a sealed cookie
//	GET /demo/callback  checks state, exchanges the code, verifies the ID token and nonce
package demo
