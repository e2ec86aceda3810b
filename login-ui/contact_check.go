package loginui

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/gorilla/sessions"

	"tsubasa/provider/contactcheck"
	"tsubasa/provider/otp"
	"tsubasa/storage"
)

// Whether the contacts still receive messages (provider/contactcheck), with
// the otp feature's contacts page:
//
//	POST /account/contacts/test              "send me a test message" (email or sms)    (step-up)
//	GET  /account/contacts/received?t=       the test message's link: what it confirms,
//	                                         and a button (no login: holding it is the proof)
//	POST /account/contacts/received          confirm: the link is spent, the date stored
//	GET  /login/contacts-check?authRequestID= after-step (nudge.go): asked after a login when
//	                                         the address was not confirmed for ConfirmEvery
//	POST /login/contacts-check               send a test message, or go on to the app
//
// The contacts page shows when each contact was last confirmed and the
// sender address and SMS sender the messages come from (so members can
// allow them in their filters). The link's page asks for a click before
// spending it, since mail scanners open every link.

// ContactCheckOptions configure the feature.
type ContactCheckOptions struct {
	Service *contactcheck.Service
	// ConfirmEvery is how long a confirmation lasts before the member is
	// reminded after a login (contacts.confirm_every); 0 never reminds.
	ConfirmEvery time.Duration
	// Location shows the confirmation dates [UTC].
	Location *time.Location
}

type contactCheckFeature struct {
	ContactCheckOptions
	u *UI
}

// ContactChecks enables the test message, its link and the reminder. It
// needs the one-time-password feature (its contacts page), listed first.
func ContactChecks(o ContactCheckOptions) Feature {
	return &contactCheckFeature{ContactCheckOptions: o}
}

const (
	contactTestPath     = contactsPath + "/test"
	contactReceivedPath = contactcheck.ConfirmPath
	contactRemindPath   = "/login/contacts-check"
)

func (f *contactCheckFeature) register(u *UI) error {
	if f.Service == nil {
		return errors.New("loginui: the contact check feature needs a service")
	}
	if u.otp == nil {
		return errors.New("loginui: the contact check feature needs the one-time-password feature (its contacts page); list it first")
	}
	if f.Location == nil {
		f.Location = time.UTC
	}
	f.u = u
	u.contactCheck = f
	u.pageNames = append(u.pageNames, "contact_received", "contact_remind")
	u.partials["contacts"] = append(u.partials["contacts"], "templates/contacts_check.html")
	u.addStep(true, step{order: 61, name: "contacts_check", path: contactRemindPath, needed: f.remindNeeded})
	u.handle("POST "+contactTestPath, f.postTest)
	u.handle("GET "+contactReceivedPath, f.showReceived)
	u.handle("POST "+contactReceivedPath, f.postReceived)
	u.handle("GET "+contactRemindPath, f.showRemind)
	u.handle("POST "+contactRemindPath, f.postRemind)
	return nil
}

// contactCheckView is the contacts page's "do messages reach you?" part.
type contactCheckView struct {
	Rows      []contactCheckRow
	MailFrom  string
	SMSSender string
}

type contactCheckRow struct {
	Channel, Destination, Confirmed string // Confirmed: a date, "" when never
}

// view is the contacts page's part for m in lang: a row per channel open
// to m (a confirmed address, an SMS number).
func (f *contactCheckFeature) view(lang string, m storage.Member) *contactCheckView {
	v := &contactCheckView{MailFrom: f.u.otp.MailFrom, SMSSender: f.u.otp.SMSSender}
	for _, c := range f.u.otp.Service.Channels(m) {
		v.Rows = append(v.Rows, contactCheckRow{Channel: c, Destination: contactcheck.Destination(m, c),
			Confirmed: f.u.cat.formatTime(lang, contactcheck.ConfirmedAt(m, c), f.Location, true)})
	}
	slices.SortFunc(v.Rows, func(a, b contactCheckRow) int { return cmpChannel(a.Channel) - cmpChannel(b.Channel) })
	return v
}

// cmpChannel orders email before SMS, as the contacts page does.
func cmpChannel(c string) int {
	if c == otp.ChannelEmail {
		return 0
	}
	return 1
}

// send sends a test message by channel and says how it went: "" when it
// went, else the catalog key of the error and its argument.
func (f *contactCheckFeature) send(ctx context.Context, r *http.Request, m storage.Member, channel string) (string, any) {
	if !slices.Contains(f.u.otp.Service.Channels(m), channel) {
		return "contacts.test.error.channel", nil
	}
	err := f.Service.Send(ctx, m, channel, f.u.memberLang(r, m))
	var te *contactcheck.ThrottledError
	switch {
	case errors.As(err, &te):
		return "contacts.test.error.throttled", minutes(te.RetryAfter)
	case err != nil:
		f.u.log.WarnContext(ctx, "contact test message not sent", "member_id", m.ID, "channel", channel, "err", err)
		return "contacts.test.error.failed", nil
	}
	return "", nil
}

func (f *contactCheckFeature) postTest(w http.ResponseWriter, r *http.Request) {
	u := f.u
	_, m, ok := u.contactsAccess(w, r)
	if !ok {
		return
	}
	channel := r.PostFormValue("channel")
	if key, arg := f.send(r.Context(), r, m, channel); key != "" {
		status := http.StatusBadGateway
		if key == "contacts.test.error.throttled" {
			status = http.StatusTooManyRequests
			w.Header().Set("Retry-After", strconv.Itoa(arg.(int)*60))
		} else if key == "contacts.test.error.channel" {
			status = http.StatusUnprocessableEntity
		}
		u.contactError(w, r, m, status, "test", key, arg)
		return
	}
	http.Redirect(w, r, contactsPath+"?done=test_"+channel, http.StatusSeeOther)
}

type contactReceivedPage struct {
	page
	Token       string
	Channel     string
	Destination string
	Done        bool
}

// showReceived is the link's page: what it confirms, and the button. It
// changes nothing.
func (f *contactCheckFeature) showReceived(w http.ResponseWriter, r *http.Request) {
	tok := r.URL.Query().Get("t")
	channel, dest, err := f.Service.Peek(r.Context(), tok)
	if err != nil {
		f.refused(w, r, err)
		return
	}
	p := contactReceivedPage{page: f.u.newPage(r, f.u.langs.negotiate(r, nil), "contacts.received.title"),
		Token: tok, Channel: channel, Destination: otp.MaskDestination(channel, dest)}
	f.u.render(w, r, http.StatusOK, "contact_received", p)
}

// postReceived spends the link and stores the confirmation.
func (f *contactCheckFeature) postReceived(w http.ResponseWriter, r *http.Request) {
	m, channel, err := f.Service.Confirm(r.Context(), r.PostFormValue("t"))
	if err != nil {
		f.refused(w, r, err)
		return
	}
	p := contactReceivedPage{page: f.u.newPage(r, f.u.memberLang(r, m), "contacts.received.title"),
		Channel: channel, Destination: otp.MaskDestination(channel, contactcheck.Destination(m, channel)), Done: true}
	f.u.render(w, r, http.StatusOK, "contact_received", p)
}

// refused answers a link that does not hold with one message, whatever
// was wrong with it.
func (f *contactCheckFeature) refused(w http.ResponseWriter, r *http.Request, err error) {
	if !errors.Is(err, contactcheck.ErrLink) {
		f.u.serverError(w, r, err)
		return
	}
	f.u.renderError(w, r, http.StatusBadRequest, "contacts.received.error")
}

// remindNeeded is the reminder step's test: a fresh login, no nudge yet,
// and an address not confirmed for ConfirmEvery (contactcheck.ReminderDue).
func (f *contactCheckFeature) remindNeeded(_ context.Context, _ *http.Request, st flowState, req storage.AuthRequest) (bool, error) {
	return mayNudge(st.sess, req) && contactcheck.ReminderDue(st.Member, f.u.now(), f.ConfirmEvery), nil
}

type contactRemindPage struct {
	page
	AuthRequestID string
	Channel       string
	Destination   string
	Confirmed     string // the last confirmation's date, "" when never
	MailFrom      string
	SMSSender     string
	Sent          bool
}

// remindMember is the member the reminder of req is for: the session's,
// logged in for this request; anything else goes to the login page.
func (f *contactCheckFeature) remindMember(w http.ResponseWriter, r *http.Request, sess *sessions.Session, req storage.AuthRequest) (storage.Member, bool) {
	m, ok := f.u.ssoMember(r.Context(), sess)
	if !ok || !freshLogin(sess, req) {
		http.Redirect(w, r, LoginURL(req.ID), http.StatusSeeOther)
		return storage.Member{}, false
	}
	return m, true
}

func (f *contactCheckFeature) showRemind(w http.ResponseWriter, r *http.Request) {
	u := f.u
	sess := u.session(r)
	req, ok := u.request(w, r, sess, r.URL.Query().Get("authRequestID"))
	if !ok {
		return
	}
	m, ok := f.remindMember(w, r, sess, req)
	if !ok {
		return
	}
	if value(sess, keyNudged) != req.ID {
		// Shown: not again for 30 days, whatever the member does.
		if err := f.Service.Reminded(r.Context(), m.ID); err != nil {
			u.serverError(w, r, err)
			return
		}
		nudgeShown(sess, req)
		if err := u.sessions.Save(r, w, sess); err != nil {
			u.serverError(w, r, err)
			return
		}
	}
	f.renderRemind(w, r, req, m, http.StatusOK, r.URL.Query().Get("sent") == "1", "", nil)
}

func (f *contactCheckFeature) renderRemind(w http.ResponseWriter, r *http.Request, req storage.AuthRequest, m storage.Member, status int, sent bool, errKey string, errArg any) {
	u := f.u
	channel := contactcheck.RemindChannel(m)
	p := contactRemindPage{page: u.newPage(r, u.memberLang(r, m), "contacts.remind.title"), AuthRequestID: req.ID,
		Channel: channel, Destination: otp.MaskDestination(channel, contactcheck.Destination(m, channel)),
		MailFrom: u.otp.MailFrom, SMSSender: u.otp.SMSSender, Sent: sent}
	p.Confirmed = u.cat.formatTime(p.Lang, contactcheck.ConfirmedAt(m, channel), f.Location, true)
	p.Error, p.ErrorArg = errKey, errArg
	u.render(w, r, status, "contact_remind", p)
}

// postRemind sends the test message (and comes back to say so), or goes
// on to the app.
func (f *contactCheckFeature) postRemind(w http.ResponseWriter, r *http.Request) {
	u := f.u
	sess := u.session(r)
	req, ok := u.request(w, r, sess, r.PostFormValue("authRequestID"))
	if !ok {
		return
	}
	m, ok := f.remindMember(w, r, sess, req)
	if !ok {
		return
	}
	if r.PostFormValue("action") != "send" {
		nudgeShown(sess, req)
		u.finish(w, r, sess, req)
		return
	}
	if key, arg := f.send(r.Context(), r, m, contactcheck.RemindChannel(m)); key != "" {
		f.renderRemind(w, r, req, m, http.StatusOK, false, key, arg)
		return
	}
	http.Redirect(w, r, contactRemindPath+"?authRequestID="+url.QueryEscape(req.ID)+"&sent=1", http.StatusSeeOther)
}
