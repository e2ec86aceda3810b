package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"tsubasa/config"
	"tsubasa/provider"
)

// Load-test members are numbered from 9000000 unless --member says
// otherwise, out of the way of real numbers.
const (
	defaultLoadPassword = "Tsubame-Flight-2026"
	defaultLoadMember   = "9000000"
)

// setupResult is what --setup created: the flags for the load.
type setupResult struct {
	ClientID     string `json:"client_id"`
	ClientSecret string `json:"client_secret"`
	RedirectURI  string `json:"redirect_uri"`
	IDTokenAlg   string `json:"id_token_alg"`
	Member       string `json:"member"`
	Members      int    `json:"members"`
	Created      int    `json:"created_members"`
	Password     string `json:"password"`
	Flags        string `json:"flags"`
}

// loadtestSetup creates (or re-creates) the load-test client and the
// members through the running server's admin socket, or on the database
// file when no server holds it, and fills o with them.
func (g *globals) loadtestSetup(ctx context.Context, cfg config.Config, o *loadOptions) (setupResult, error) {
	alg := strings.ToUpper(o.alg)
	if alg != provider.AlgRS256 && alg != provider.AlgES256 {
		return setupResult{}, usageError{fmt.Errorf("loadtest: --alg %q: RS256 or ES256", o.alg)}
	}
	if o.clientID == "" {
		o.clientID = "loadtest-" + strings.ToLower(alg)
	}
	if o.member == "" {
		o.member = defaultLoadMember
	}
	if err := checkNeeds(*o, needsNothing); err != nil {
		return setupResult{}, err
	}
	res := setupResult{ClientID: o.clientID, RedirectURI: o.redirectURI, IDTokenAlg: alg,
		Member: o.member, Members: o.members, Password: o.password}
	err := withAdmin(ctx, cfg, g, func(r adminRunner) error {
		secret, err := setupClient(ctx, r, clientInput{
			ID:           o.clientID,
			Name:         "Load test (" + alg + ")",
			RedirectURIs: []string{o.redirectURI},
			GrantTypes:   []string{provider.GrantAuthorizationCode, provider.GrantRefreshToken, provider.GrantClientCredentials},
			Scopes:       []string{"openid", "profile", "email", provider.ScopeMembership, "offline_access"},
			IDTokenAlg:   alg,
		})
		if err != nil {
			return err
		}
		res.ClientSecret, o.clientSecret = secret, secret
		l := &loader{o: *o, firstMember: atoiOr(o.member)}
		res.Created, err = setupMembers(ctx, r, l)
		return err
	})
	if err != nil {
		return res, fmt.Errorf("loadtest setup: %w", err)
	}
	res.Flags = fmt.Sprintf("--issuer %s --client %s --client-secret %s --redirect-uri %s --member %s --members %d --password %s",
		o.issuer, o.clientID, shellQuote(res.ClientSecret), o.redirectURI, o.member, o.members, shellQuote(o.password))
	return res, nil
}

// withAdmin runs f with the running server's admin socket, or directly on
// the database when no server answers there.
func withAdmin(ctx context.Context, cfg config.Config, g *globals, f func(adminRunner) error) error {
	if c, ok := dialAdmin(cfg.AdminSocket()); ok {
		return f(c)
	}
	log := slog.New(slog.NewTextHandler(g.stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	d, err := openDeps(ctx, cfg, log, time.Second)
	if err != nil {
		return err
	}
	err = f(directRunner{ops: newAdminOps(d, nil)})
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

func callJSON(ctx context.Context, r adminRunner, op string, in, out any) error {
	b, err := json.Marshal(in)
	if err != nil {
		return err
	}
	return r.call(ctx, op, adminRequest{Body: bytes.NewReader(b)}, out)
}

func adminStatus(err error) int {
	var ae *adminError
	if errors.As(err, &ae) {
		return ae.Status
	}
	return 0
}

// setupClient adds the client, replacing one of the same id (removing it
// revokes its tokens: a fresh start), and returns its secret.
func setupClient(ctx context.Context, r adminRunner, in clientInput) (string, error) {
	var out clientOutput
	err := callJSON(ctx, r, "client/add", in, &out)
	if adminStatus(err) == http.StatusConflict {
		var removed removedClient
		if err := callJSON(ctx, r, "client/remove", idInput{ID: in.ID}, &removed); err != nil {
			return "", fmt.Errorf("replacing client %s: %w", in.ID, err)
		}
		err = callJSON(ctx, r, "client/add", in, &out)
	}
	if err != nil {
		return "", fmt.Errorf("client %s: %w", in.ID, err)
	}
	return out.Secret, nil
}

// setupMembers creates the members a few at a time (each costs a password
// hash); a member that exists gets the password again. It returns how many
// it created.
func setupMembers(ctx context.Context, r adminRunner, l *loader) (int, error) {
	var (
		mu      sync.Mutex
		created int
		first   error
		wg      sync.WaitGroup
	)
	next := make(chan int)
	for range 4 {
		wg.Go(func() {
			for i := range next {
				number := l.memberNumber(i)
				err := setupMember(ctx, r, number, l.o.password)
				mu.Lock()
				if err == nil {
					created++
				} else if !errors.Is(err, errMemberExisted) && first == nil {
					first = fmt.Errorf("member %s: %w", number, err)
				}
				mu.Unlock()
			}
		})
	}
	for i := range l.o.members {
		mu.Lock()
		stop := first != nil
		mu.Unlock()
		if stop || ctx.Err() != nil {
			break
		}
		next <- i
	}
	close(next)
	wg.Wait()
	if first == nil {
		first = ctx.Err()
	}
	return created, first
}

var errMemberExisted = errors.New("member existed")

func setupMember(ctx context.Context, r adminRunner, number, password string) error {
	var view memberView
	err := callJSON(ctx, r, "member/create", memberInput{
		Number: number, Password: password,
		FamilyNameLatin: "Loadtest", GivenNameLatin: "Member",
		Email: "loadtest+" + number + "@example.com", Country: "JP", Locale: "en",
	}, &view)
	if adminStatus(err) != http.StatusConflict {
		return err
	}
	err = callJSON(ctx, r, "member/password", passwordInput{Number: number, Password: password}, &empty{})
	var ae *adminError
	if err != nil && !(errors.As(err, &ae) && ae.Field == "password" && strings.Contains(ae.Message, "equals the current")) {
		return err
	}
	if err := callJSON(ctx, r, "member/status", statusInput{Number: number, Status: "enable"}, &view); err != nil {
		return err
	}
	return errMemberExisted
}

func printSetup(g *globals, o loadOptions, res setupResult) error {
	if o.json {
		enc := json.NewEncoder(g.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(res)
	}
	last := fmt.Sprintf("%0*d", len(res.Member), atoiOr(res.Member)+res.Members-1)
	fmt.Fprintf(g.stdout, "Load-test client %s (ID tokens %s) and members %s to %s (%d new) are ready.\n",
		res.ClientID, res.IDTokenAlg, res.Member, last, res.Created)
	fmt.Fprintf(g.stdout, "Client secret: %s\n\nRun a scenario (%s) with:\n\n", res.ClientSecret, strings.Join(scenarioNames(), ", "))
	cfgFlag := ""
	if g.configPath != "" {
		cfgFlag = " --config " + shellQuote(g.configPath)
	}
	fmt.Fprintf(g.stdout, "  tsubasa loadtest%s %s --scenario sso --concurrency 16 --duration 10s\n", cfgFlag, res.Flags)
	return nil
}

// atoiOr is s as a number, 0 if it is none (checked earlier).
func atoiOr(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./:=@") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
