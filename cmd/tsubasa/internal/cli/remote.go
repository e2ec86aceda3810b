package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/pflag"

	"tsubasa/cmd/tsubasa/internal/adminremote"
)

// remoteFlags are the --server mode's: the admin commands go to a
// server's (or a cluster's) HTTP admin API with a client's credentials,
// instead of the admin socket or the database. Secrets come from files
// only: a command line is visible to every user of the machine.
type remoteFlags struct {
	server, clientID, secretFile, keyFile, agent string
}

func (f *remoteFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&f.server, "server", os.Getenv("TSUBASA_SERVER"),
		"run admin commands through this server's HTTP admin API, e.g. https://id.example.com (env TSUBASA_SERVER)")
	fs.StringVar(&f.clientID, "client-id", os.Getenv("TSUBASA_CLIENT_ID"),
		"with --server: the client_credentials client allowed the admin scopes (env TSUBASA_CLIENT_ID)")
	fs.StringVar(&f.secretFile, "client-secret-file", os.Getenv("TSUBASA_CLIENT_SECRET_FILE"),
		"with --server: file holding the client's secret (env TSUBASA_CLIENT_SECRET_FILE)")
	fs.StringVar(&f.keyFile, "client-key", os.Getenv("TSUBASA_CLIENT_KEY"),
		"with --server: the client's private key for private_key_jwt, a JWK or PEM file (env TSUBASA_CLIENT_KEY)")
	fs.StringVar(&f.agent, "agent", os.Getenv("TSUBASA_AGENT"),
		"with --server: who you are (an agent id), recorded with every call (env TSUBASA_AGENT)")
}

// client is the admin API's client the flags describe.
func (f *remoteFlags) client(ctx context.Context) (*adminremote.Client, error) {
	o := adminremote.Options{Server: f.server, ClientID: f.clientID, Agent: f.agent}
	switch {
	case f.clientID == "":
		return nil, usageError{errors.New("--server needs --client-id (or TSUBASA_CLIENT_ID)")}
	case (f.secretFile == "") == (f.keyFile == ""):
		return nil, usageError{errors.New("--server needs one of --client-secret-file and --client-key")}
	case f.secretFile != "":
		b, err := os.ReadFile(f.secretFile)
		if err != nil {
			return nil, fmt.Errorf("--client-secret-file: %w", err)
		}
		if o.Secret = strings.TrimSpace(string(b)); o.Secret == "" {
			return nil, fmt.Errorf("--client-secret-file %s is empty", f.secretFile)
		}
	default:
		k, err := adminremote.ReadKey(f.keyFile)
		if err != nil {
			return nil, err
		}
		o.Key = k
	}
	return adminremote.New(ctx, o)
}

// local refuses --server for a command that works on the database's host
// only, rather than ignore it and act on a local database instead.
func (f *remoteFlags) local(command string) error {
	if f.server == "" {
		return nil
	}
	return usageError{fmt.Errorf("%s works on the database's host (its admin socket or file), not through --server: run it there, without --server and TSUBASA_SERVER", command)}
}
