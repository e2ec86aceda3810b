// Package adminapi is the vocabulary of Tsubasa's admin API: the name of
// every operation with the types of its request and response (Op), the
// request and response types themselves, and the error an operation
// reports to the operator (Error).
//
// It is shared by the two sides that must agree on it: the operations
// (package tsubasa/provider/admin), and their callers, the CLI and the
// transports that carry the calls (the admin socket today, in
// cmd/tsubasa/internal/adminsock). It imports nothing of Tsubasa's, so a
// caller learns the API without depending on the server.
//
// The wire form: POST /v1/<op name>, the request as a JSON body (a CSV file
// for member/import, whose options travel in the query), the response as
// JSON; an error as {"error": message, "field": field} with an HTTP status
// that says what went wrong (Error.Status).
package adminapi
