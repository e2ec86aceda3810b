package passkey

import (
	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"

	"tsubasa/storage"
)

// user adapts a member and some of their passkeys to webauthn.User.
type user struct {
	m     storage.Member
	creds []webauthn.Credential
}

var _ webauthn.User = user{}

// WebAuthnID is the member's random user handle, never the member id or
// number: authenticators keep it and return it at every login.
func (u user) WebAuthnID() []byte { return u.m.WebAuthnHandle }

// WebAuthnName is what the account picker and autofill show: the member
// number, which is what the member types on the password form.
func (u user) WebAuthnName() string { return u.m.Number }

// WebAuthnDisplayName is the member's name, or the number when unnamed.
func (u user) WebAuthnDisplayName() string {
	if n := u.m.DisplayName(); n != "" {
		return n
	}
	return u.m.Number
}

func (u user) WebAuthnCredentials() []webauthn.Credential { return u.creds }

// credential rebuilds go-webauthn's credential record from a stored passkey.
func credential(p storage.Passkey) webauthn.Credential {
	var flags protocol.AuthenticatorFlags
	for _, f := range []struct {
		set  bool
		flag protocol.AuthenticatorFlags
	}{
		{p.UserPresent, protocol.FlagUserPresent},
		{p.UserVerified, protocol.FlagUserVerified},
		{p.BackupEligible, protocol.FlagBackupEligible},
		{p.BackupState, protocol.FlagBackupState},
	} {
		if f.set {
			flags |= f.flag
		}
	}
	transports := make([]protocol.AuthenticatorTransport, len(p.Transports))
	for i, t := range p.Transports {
		transports[i] = protocol.AuthenticatorTransport(t)
	}
	return webauthn.Credential{
		ID:              p.ID,
		PublicKey:       p.PublicKey,
		AttestationType: p.AttestationType,
		Transport:       transports,
		Flags:           webauthn.NewCredentialFlags(flags),
		Authenticator:   webauthn.Authenticator{AAGUID: p.AAGUID, SignCount: p.SignCount},
	}
}

// descriptor is how a stored passkey is named in excludeCredentials.
func descriptor(p storage.Passkey) protocol.CredentialDescriptor {
	c := credential(p)
	return c.Descriptor()
}
