// Package notifytest holds test support for code that sends mail or SMS: a
// real SMTP server on 127.0.0.1 (built on github.com/emersion/go-smtp) that
// records and decodes what it receives and can be stopped and restarted on
// the same port, an SMS webhook receiver that can be told to fail or hang,
// and a throw-away self-signed certificate for STARTTLS and implicit TLS.
//
// It deliberately imports nothing of ours, so tests inside package notify
// can use it without an import cycle.
package notifytest
