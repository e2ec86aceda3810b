package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"

	"tsubasa/cmd/tsubasa/internal/adminsock"
	"tsubasa/cmd/tsubasa/internal/loadtest"
	"tsubasa/config"
	"tsubasa/provider/admin/adminapi"
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
	ClientSecret string `json:"client_secret,omitempty"`
	ClientAuth   string `json:"client_auth"`
	ClientKey    string `json:"client_key,omitempty"` // the private key's file, with private_key_jwt
	RedirectURI  string `json:"redirect_uri"`
	IDTokenAlg   string `json:"id_token_alg"`
	Member       string `json:"member"`
	Members      int    `json:"members"`
	Created      int    `json:"created_members"`
	Password     string `json:"password"`
	Flags        string `json:"flags"`
	// The admin client of the admin scenarios (admin-member-read,
	// admin-import): client_credentials with the members' admin scopes.
	AdminClientID     string `json:"admin_client_id"`
	AdminClientSecret string `json:"admin_client_secret"`
	AdminFlags        string `json:"admin_flags"`
}

// loadAdminClient is the admin scenarios' client that --setup creates.
const loadAdminClient = "loadtest-admin"

// loadtestSetup creates (or re-creates) the load-test client and the
// members through the running server's admin socket, or on the database
// file when no server holds it, and fills o with them.
func (g *globals) loadtestSetup(ctx context.Context, cfg config.Config, o *loadtest.Options, algFlag string) (setupResult, error) {
	alg := strings.ToUpper(algFlag)
	if alg != config.AlgRS256 && alg != config.AlgES256 {
		return setupResult{}, usageError{fmt.Errorf("loadtest: --alg %q: RS256 or ES256", algFlag)}
	}
	pkjwt := o.ClientAuth == loadtest.ClientAuthPrivateKeyJWT
	if o.ClientID == "" {
		o.ClientID = "loadtest-" + strings.ToLower(alg)
		if pkjwt {
			o.ClientID += "-pkjwt"
		}
	}
	if pkjwt && o.ClientKey == "" {
		return setupResult{}, usageError{errors.New("loadtest --setup --client-auth private_key_jwt: --client-key FILE is required (the private key is written there)")}
	}
	if o.Member == "" {
		o.Member = defaultLoadMember
	}
	if err := loadtest.CheckMember(o.Member); err != nil {
		return setupResult{}, err
	}
	res := setupResult{ClientID: o.ClientID, RedirectURI: o.RedirectURI, IDTokenAlg: alg,
		Member: o.Member, Members: o.Members, Password: o.Password, ClientAuth: loadtest.ClientAuthBasic}
	in := adminapi.ClientInput{
		ID:           o.ClientID,
		Name:         "Load test (" + alg + ")",
		RedirectURIs: []string{o.RedirectURI},
		GrantTypes:   []string{config.GrantAuthorizationCode, config.GrantRefreshToken, config.GrantClientCredentials},
		Scopes:       []string{"openid", "profile", "email", "membership", "offline_access"},
		IDTokenAlg:   alg,
	}
	if pkjwt {
		jwks, err := writeClientKey(o.ClientKey, o.ClientID)
		if err != nil {
			return res, err
		}
		in.TokenEndpointAuthMethod, in.JWKS = config.AuthMethodPrivateKey, jwks
		res.ClientAuth, res.ClientKey = loadtest.ClientAuthPrivateKeyJWT, o.ClientKey
	}
	err := g.withAdmin(ctx, func(r adminsock.Runner) error {
		secret, err := setupClient(ctx, r, in)
		if err != nil {
			return err
		}
		res.ClientSecret, o.ClientSecret = secret, secret
		if res.AdminClientSecret, err = setupClient(ctx, r, adminClientInput()); err != nil {
			return err
		}
		res.Created, err = setupMembers(ctx, r, *o)
		return err
	})
	if err != nil {
		return res, fmt.Errorf("loadtest setup: %w", err)
	}
	auth := "--client-secret " + shellQuote(res.ClientSecret)
	if pkjwt {
		auth = "--client-auth private_key_jwt --client-key " + shellQuote(o.ClientKey)
	}
	res.Flags = fmt.Sprintf("--issuer %s --client %s %s --redirect-uri %s --member %s --members %d --password %s",
		o.Issuer, o.ClientID, auth, o.RedirectURI, o.Member, o.Members, shellQuote(o.Password))
	res.AdminClientID = loadAdminClient
	res.AdminFlags = fmt.Sprintf("--issuer %s --client %s --client-secret %s --member %s --members %d",
		o.Issuer, loadAdminClient, shellQuote(res.AdminClientSecret), o.Member, o.Members)
	return res, nil
}

// adminClientInput is the admin scenarios' client: a back office's,
// limited to reading and writing members (the import needs write).
func adminClientInput() adminapi.ClientInput {
	return adminapi.ClientInput{
		ID:         loadAdminClient,
		Name:       "Load test (admin API)",
		GrantTypes: []string{config.GrantClientCredentials},
		Scopes:     []string{adminapi.ScopeMembersRead, adminapi.ScopeMembersWrite},
	}
}

// writeClientKey makes the load-test client's key, writes its private
// half to path (owner-only) and returns the public JWK Set to register.
func writeClientKey(path, clientID string) (string, error) {
	private, jwks, err := loadtest.NewClientKey(clientID + "-1")
	if err != nil {
		return "", err
	}
	if err := os.WriteFile(path, private, 0o600); err != nil {
		return "", fmt.Errorf("loadtest setup: --client-key: %w", err)
	}
	return jwks, nil
}

func adminStatus(err error) int {
	var ae *adminapi.Error
	if errors.As(err, &ae) {
		return ae.Status
	}
	return 0
}

// setupClient adds the client, replacing one of the same id (removing it
// revokes its tokens: a fresh start), and returns its secret.
func setupClient(ctx context.Context, r adminsock.Runner, in adminapi.ClientInput) (string, error) {
	out, err := adminsock.Call(ctx, r, adminapi.ClientAdd, in)
	if adminStatus(err) == http.StatusConflict {
		if _, err := adminsock.Call(ctx, r, adminapi.ClientRemove, adminapi.IDInput{ID: in.ID}); err != nil {
			return "", fmt.Errorf("replacing client %s: %w", in.ID, err)
		}
		out, err = adminsock.Call(ctx, r, adminapi.ClientAdd, in)
	}
	if err != nil {
		return "", fmt.Errorf("client %s: %w", in.ID, err)
	}
	return out.Secret, nil
}

// setupMembers creates the members a few at a time (each costs a password
// hash); a member that exists gets the password again. It returns how many
// it created.
func setupMembers(ctx context.Context, r adminsock.Runner, o loadtest.Options) (int, error) {
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
				number := loadtest.MemberNumber(o.Member, i)
				err := setupMember(ctx, r, number, o.Password)
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
	for i := range o.Members {
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

func setupMember(ctx context.Context, r adminsock.Runner, number, password string) error {
	_, err := adminsock.Call(ctx, r, adminapi.MemberCreate, adminapi.MemberInput{
		Number: number, Password: password,
		FamilyNameLatin: "Loadtest", GivenNameLatin: "Member",
		Email: "loadtest+" + number + "@example.com", Country: "JP", Locale: "en",
	})
	if adminStatus(err) != http.StatusConflict {
		return err
	}
	_, err = adminsock.Call(ctx, r, adminapi.MemberPassword, adminapi.PasswordInput{Number: number, Password: password})
	var ae *adminapi.Error
	if err != nil && !(errors.As(err, &ae) && ae.Field == "password" && strings.Contains(ae.Message, "equals the current")) {
		return err
	}
	if _, err := adminsock.Call(ctx, r, adminapi.MemberEnable, adminapi.NumberInput{Number: number}); err != nil {
		return err
	}
	return errMemberExisted
}

func printSetup(g *globals, o loadtest.Options, res setupResult) error {
	if o.JSON {
		enc := json.NewEncoder(g.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(res)
	}
	last := fmt.Sprintf("%0*d", len(res.Member), atoiOr(res.Member)+res.Members-1)
	fmt.Fprintf(g.stdout, "Load-test client %s (ID tokens %s) and members %s to %s (%d new) are ready.\n",
		res.ClientID, res.IDTokenAlg, res.Member, last, res.Created)
	if res.ClientKey != "" {
		fmt.Fprintf(g.stdout, "Client key (private_key_jwt): %s\n", res.ClientKey)
	} else {
		fmt.Fprintf(g.stdout, "Client secret: %s\n", res.ClientSecret)
	}
	fmt.Fprintf(g.stdout, "\nRun a scenario (%s) with:\n\n", strings.Join(loadtest.Scenarios(), ", "))
	cfgFlag := ""
	if g.configPath != "" {
		cfgFlag = " --config " + shellQuote(g.configPath)
	}
	fmt.Fprintf(g.stdout, "  tsubasa loadtest%s %s --scenario sso --concurrency 16 --duration 10s\n", cfgFlag, res.Flags)
	fmt.Fprintf(g.stdout, "\nThe admin scenarios with client %s (secret %s):\n\n", res.AdminClientID, res.AdminClientSecret)
	fmt.Fprintf(g.stdout, "  tsubasa loadtest%s %s --scenario admin-member-read --concurrency 16 --duration 10s\n", cfgFlag, res.AdminFlags)
	fmt.Fprintf(g.stdout, "  tsubasa loadtest%s --issuer %s --client %s --client-secret %s --member 500000000 --members 100000 --batch %d --scenario admin-import --concurrency 2 --duration 10m\n",
		cfgFlag, o.Issuer, res.AdminClientID, shellQuote(res.AdminClientSecret), loadtest.DefaultImportBatch)
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
