package loginui

import (
	"net/http"
	"slices"
	"strings"

	"github.com/gorilla/sessions"

	"tsubasa/provider/audit"
	"tsubasa/provider/member"
	"tsubasa/provider/otp"
	"tsubasa/storage"
)

// Contacts ("Manage your account" → Contacts), with the otp feature:
//
//	GET  /account/contacts                 email, mobile number, where one-time passwords go
//	POST /account/contacts/email           new address: checked (seed-004 rules), a code sent to it
//	POST /account/contacts/phone           new mobile number (E.164) of an SMS country: a code sent to it by SMS
//	GET  /account/contacts/verify          the code entry for the address or number being added
//	POST /account/contacts/verify          right code: the contact is saved, verified (contact.changed)
//	POST /account/contacts/verify/resend   a new code to the same address or number
//	POST /account/contacts/channel         choose email or SMS for one-time passwords
//
// Saving a contact or the channel changes where one-time passwords and
// alerts go, so it is a credential change (credential.go): every session
// of the member ends and every token is revoked in the commit that saves
// it, and this browser stays logged in or not as configured.
//
// Every page needs a step-up (a one-time password within StepUpMaxAge),
// except for a member with no confirmed contact at all: nothing could be
// sent to them, so a password login lets them register the first one
// (otherwise the login's one-time-password step could never be met).
// A contact is changed only once a code sent to the NEW address or number
// comes back, so a typo never locks the member out.

const (
	contactsPath   = "/account/contacts"
	keyContactDest = "contact_pending" // the address or number being checked
)

type contactsPage struct {
	page
	credentialNotes
	Member      storage.Member
	Notice      string
	EmailInput  string
	PhoneInput  string
	Field       string // the form the error belongs to: email, phone or channel
	Channel     string // where one-time passwords go now
	CanEmail    bool
	CanSMS      bool
	SMSResident bool
	Countries   string
	// Check is "do messages reach you?" (contact_check.go); nil when off.
	Check *contactCheckView
}

// contactsAccess is requireStepUp, or requireMember for a member nothing
// can be sent to.
func (u *UI) contactsAccess(w http.ResponseWriter, r *http.Request) (*sessions.Session, storage.Member, bool) {
	sess := u.session(r)
	if m, ok := u.ssoMember(r.Context(), sess); ok && len(u.otp.Service.Channels(m)) == 0 {
		return sess, m, true
	}
	return u.requireStepUp(w, r)
}

func (u *UI) smsResident(m storage.Member) bool {
	return slices.ContainsFunc(u.otp.SMSCountries, func(c string) bool { return strings.EqualFold(c, m.Country) })
}

func (u *UI) renderContacts(w http.ResponseWriter, r *http.Request, m storage.Member, status int, p contactsPage) {
	errKey, errArg := p.Error, p.ErrorArg
	p.page = u.newPage(r, u.memberLang(r, m), "contacts.title")
	p.Error, p.ErrorArg = errKey, errArg
	p.Member = m
	open := u.otp.Service.Channels(m)
	p.CanEmail, p.CanSMS = slices.Contains(open, otp.ChannelEmail), slices.Contains(open, otp.ChannelSMS)
	if len(open) > 0 {
		p.Channel = open[0]
	}
	p.SMSResident = u.smsResident(m)
	p.Countries = strings.Join(u.otp.SMSCountries, ", ")
	p.Effect = u.credentialEffect()
	if u.contactCheck != nil {
		p.Check = u.contactCheck.view(p.Lang, m)
	}
	u.render(w, r, status, "contacts", p)
}

func (u *UI) showContacts(w http.ResponseWriter, r *http.Request) {
	_, m, ok := u.contactsAccess(w, r)
	if !ok {
		return
	}
	p := contactsPage{}
	if d := r.URL.Query().Get("done"); slices.Contains([]string{"email", "phone", "channel", "test_email", "test_sms"}, d) {
		p.Notice = "contacts.done." + d
		p.SignedOut = signedOutKey(r)
	}
	u.renderContacts(w, r, m, http.StatusOK, p)
}

func (u *UI) contactError(w http.ResponseWriter, r *http.Request, m storage.Member, status int, field, key string, arg any) {
	p := contactsPage{Field: field}
	p.Error, p.ErrorArg = key, arg
	if field == "email" {
		p.EmailInput = r.PostFormValue("email")
	} else if field == "phone" {
		p.PhoneInput = r.PostFormValue("phone")
	}
	u.renderContacts(w, r, m, status, p)
}

func (u *UI) postContactEmail(w http.ResponseWriter, r *http.Request) {
	sess, m, ok := u.contactsAccess(w, r)
	if !ok {
		return
	}
	addr, err := member.ParseEmail(r.PostFormValue("email"))
	if err != nil {
		key := member.CatalogKey(err)
		if key == "" {
			key = "member.error.email_syntax"
		}
		u.contactError(w, r, m, http.StatusUnprocessableEntity, "email", key, nil)
		return
	}
	if strings.EqualFold(addr, m.Email) && m.EmailVerified {
		u.contactError(w, r, m, http.StatusUnprocessableEntity, "email", "contacts.error.same_email", nil)
		return
	}
	u.startContactCheck(w, r, sess, m, otp.ChannelEmail, addr)
}

func (u *UI) postContactPhone(w http.ResponseWriter, r *http.Request) {
	sess, m, ok := u.contactsAccess(w, r)
	if !ok {
		return
	}
	region := m.Country
	if region == "" {
		region = "JP"
	}
	phone, err := member.ParsePhone(r.PostFormValue("phone"), region)
	if err != nil {
		u.contactError(w, r, m, http.StatusUnprocessableEntity, "phone", "member.error.phone_format", nil)
		return
	}
	if !u.smsResident(m) {
		u.contactError(w, r, m, http.StatusUnprocessableEntity, "phone", "contacts.error.sms_country", strings.Join(u.otp.SMSCountries, ", "))
		return
	}
	// The number itself must be able to take our SMS (toll fraud sends
	// codes to premium-rate and foreign numbers): say so here, before a
	// code is sent. The SMS driver checks again whatever the path.
	if err := u.otp.Service.CheckSMSNumber(phone); err != nil {
		if otp.CatalogKey(err) == "otp.error.sms_country" {
			u.contactError(w, r, m, http.StatusUnprocessableEntity, "phone", "contacts.error.sms_number_country", strings.Join(u.otp.SMSCountries, ", "))
		} else {
			u.contactError(w, r, m, http.StatusUnprocessableEntity, "phone", "contacts.error.sms_number_type", nil)
		}
		return
	}
	if phone == m.Phone && m.PhoneVerified {
		u.contactError(w, r, m, http.StatusUnprocessableEntity, "phone", "contacts.error.same_phone", nil)
		return
	}
	u.startContactCheck(w, r, sess, m, otp.ChannelSMS, phone)
}

// startContactCheck remembers the address or number being added and sends
// the browser to the code entry, which sends the code.
func (u *UI) startContactCheck(w http.ResponseWriter, r *http.Request, sess *sessions.Session, m storage.Member, channel, dest string) {
	sess.Values[keyContactDest] = channel + " " + dest
	delete(sess.Values, chKey(otp.PurposeContact)) // a new address: a new code
	if err := u.sessions.Save(r, w, sess); err != nil {
		u.serverError(w, r, err)
		return
	}
	http.Redirect(w, r, contactsPath+"/verify", http.StatusSeeOther)
}

// contactEntry is the entry page for the pending contact; false when none.
func (u *UI) contactEntry(r *http.Request, sess *sessions.Session, m storage.Member) (otpEntry, bool) {
	channel, dest, ok := strings.Cut(value(sess, keyContactDest), " ")
	if !ok || dest == "" {
		return otpEntry{}, false
	}
	title := "contacts.verify.title_email"
	if channel == otp.ChannelSMS {
		title = "contacts.verify.title_phone"
	}
	return otpEntry{
		sess: sess, titleKey: title, leadKey: "contacts.verify.lead", lang: u.memberLang(r, m), member: m,
		purpose: otp.PurposeContact, allowed: []string{channel}, destination: dest,
		action: contactsPath + "/verify", resend: contactsPath + "/verify/resend", cancel: contactsPath,
	}, true
}

// pendingContact checks access to the contacts pages and returns the entry
// page of the contact being checked; without one it sends the browser back
// to the contacts page.
func (u *UI) pendingContact(w http.ResponseWriter, r *http.Request) (otpEntry, bool) {
	sess, m, ok := u.contactsAccess(w, r)
	if !ok {
		return otpEntry{}, false
	}
	e, ok := u.contactEntry(r, sess, m)
	if !ok {
		http.Redirect(w, r, contactsPath, http.StatusSeeOther)
	}
	return e, ok
}

func (u *UI) showContactVerify(w http.ResponseWriter, r *http.Request) {
	if e, ok := u.pendingContact(w, r); ok {
		u.showEntry(w, r, e)
	}
}

func (u *UI) resendContactVerify(w http.ResponseWriter, r *http.Request) {
	if e, ok := u.pendingContact(w, r); ok {
		u.sendEntry(w, r, e, e.allowed[0])
	}
}

func (u *UI) postContactVerify(w http.ResponseWriter, r *http.Request) {
	e, ok := u.pendingContact(w, r)
	if !ok {
		return
	}
	sess, m := e.sess, e.member
	rec, ok := u.verifyEntry(w, r, e)
	if !ok {
		return
	}
	// Save what the code proved: the record's own address or number.
	field := map[string]string{otp.ChannelEmail: "email", otp.ChannelSMS: "phone"}[rec.Channel]
	c := contactChange(r, sess, field, otp.MaskDestination(rec.Channel, rec.Destination))
	// The code came back from there: the contact receives, as of now.
	now := u.now().UTC()
	c.Update = func(old storage.Member) (storage.Member, error) {
		switch rec.Channel {
		case otp.ChannelEmail:
			old.Email, old.EmailVerified, old.EmailConfirmedAt = rec.Destination, true, now
		case otp.ChannelSMS:
			old.Phone, old.PhoneVerified, old.PhoneConfirmedAt = rec.Destination, true, now
		}
		return old, nil
	}
	delete(sess.Values, keyContactDest)
	delete(sess.Values, chKey(otp.PurposeContact))
	u.saveContact(w, r, sess, m, c, field)
}

// postContactChannel chooses where one-time passwords go: only a channel
// open to the member (a confirmed address, or a confirmed number of a
// resident of an SMS country).
func (u *UI) postContactChannel(w http.ResponseWriter, r *http.Request) {
	sess, m, ok := u.contactsAccess(w, r)
	if !ok {
		return
	}
	ch := r.PostFormValue("channel")
	if !slices.Contains(u.otp.Service.Channels(m), ch) {
		u.contactError(w, r, m, http.StatusUnprocessableEntity, "channel", "contacts.error.channel", nil)
		return
	}
	if open := u.otp.Service.Channels(m); open[0] == ch {
		// Nothing changes (codes go there already): nothing to end.
		http.Redirect(w, r, contactsPath+"?done=channel", http.StatusSeeOther)
		return
	}
	c := contactChange(r, sess, "otp_channel", ch)
	c.Update = func(old storage.Member) (storage.Member, error) {
		old.OTPChannel = ch
		return old, nil
	}
	u.saveContact(w, r, sess, m, c, "channel")
}

// contactChange is the credential change of a contact, with its
// contact.changed event (recorded in the same commit).
func contactChange(r *http.Request, sess *sessions.Session, field, to string) member.Change {
	c := changeContext(r, sess, member.ChangeContact)
	c.Events = []storage.Event{{Type: audit.EventContactChanged, Success: true, Detail: map[string]string{"field": field, "to": to}}}
	return c
}

// saveContact makes the change: every session of the member ends and
// every token is revoked with it; then this browser is kept or signed out
// and sent to the contacts page, which confirms done.
func (u *UI) saveContact(w http.ResponseWriter, r *http.Request, sess *sessions.Session, m storage.Member, c member.Change, done string) {
	ended, err := u.opts.Members.CredentialChanged(r.Context(), m.ID, c)
	if err != nil {
		u.serverError(w, r, err)
		return
	}
	next, err := u.afterCredentialChange(w, r, sess, ended, contactsPath+"?done="+done)
	if err != nil {
		u.serverError(w, r, err)
		return
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// FieldIs is whether the page's error belongs to form f.
func (p contactsPage) FieldIs(f string) bool { return p.Field == f }

// ChannelIs is whether one-time passwords go to c now.
func (p contactsPage) ChannelIs(c string) bool { return p.Channel == c }

// AnyChannel is whether there is a choice to make at all.
func (p contactsPage) AnyChannel() bool { return p.CanEmail || p.CanSMS }
