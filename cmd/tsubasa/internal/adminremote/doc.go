// Package adminremote is the CLI's client of the HTTP admin API
// (/admin/v1/, tsubasa/provider/admin/adminhttp): the --server mode, in
// which the admin commands reach a server, or a cluster behind its load
// balancer, over HTTPS instead of the admin socket or the database.
//
// Client is an adminsock.Runner: a command runs the same operation and
// prints the same output whichever way it went. An operation becomes its
// route of adminapi.Routes (the table the server is built from): the
// request's fields go to the path, the query or the JSON body as the
// route binds them, and a problem answer (RFC 9457) comes back as the
// *adminapi.Error the operation would have returned. A member import
// streams its file and waits for the job to end.
//
// Tokens: the client gets an access token for each route's scope by the
// client_credentials grant at the server's token endpoint (from its
// discovery document), authenticating with a secret (HTTP Basic) or a
// private key (private_key_jwt, RFC 7523: a fresh assertion with a new
// jti for every token request), and keeps it until shortly before it
// expires. Secrets and keys come from files, never from the command line.
package adminremote
