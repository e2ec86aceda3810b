package loginui

import (
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/sessions"

	"tsubasa/provider/otp"
	"tsubasa/storage"
)

// The code entry page is shared by the login's second step, the gate, the
// contact check and the password reset. Each describes itself with an
// otpEntry; showEntry, resendEntry and verifyEntry do the rest.
//
// The page tracks in the session which challenge it showed (otp_ch.<purpose>),
// so arriving on it sends a new code unless this browser already has one
// open, and a refresh shows the same code's form instead of sending again.

// otpEntry describes one use of the entry page.
type otpEntry struct {
	titleKey, leadKey string
	lang              string
	member            storage.Member
	purpose           string
	allowed           []string // channels the code may go by, preferred first
	missing           []string // channels the action accepts that the member has not set up
	action, resend    string   // POST targets of the code and resend forms
	cancel            string   // link back (GET), or "" for a cancel form at action+"/cancel"
	hidden            []hiddenField
	destination       string // PurposeContact: the new address or number being checked
	generic           bool   // never say where the code went, or whether it did (reset)
	sess              *sessions.Session
}

// hiddenField is a hidden input every form of a page carries.
type hiddenField struct{ Name, Value string }

// entryState is what happened: a code sent, a wrong entry, a failure.
type entryState struct {
	ch        otp.Challenge
	open      bool // ch can be answered: show the entry form
	sent      bool // ch was sent just now
	errKey    string
	errArg    any
	noChannel bool // nothing to send to: explain how to register a contact
	failed    bool // the send failed (a late delivery would still work)
}

func chKey(purpose string) string { return "otp_ch." + purpose }

// postForm parses the form and returns the posted values only.
func postForm(r *http.Request) url.Values {
	_ = r.ParseForm()
	return r.PostForm
}

// showEntry renders the page for the challenge this browser has open, or
// sends a new code first.
func (u *UI) showEntry(w http.ResponseWriter, r *http.Request, e otpEntry) {
	ch, err := u.otp.Service.Current(r.Context(), e.member.ID, e.purpose)
	if ch.ID != "" && ch.ID == value(e.sess, chKey(e.purpose)) && u.usable(e, ch) {
		st := entryState{ch: ch, open: err == nil}
		if err != nil {
			st.errKey = otp.CatalogKey(err)
		}
		u.renderEntry(w, r, e, http.StatusOK, st)
		return
	}
	channel := ""
	if len(e.allowed) > 0 {
		channel = e.allowed[0]
	}
	u.sendEntry(w, r, e, channel)
}

// usable is whether a stored challenge went where this page sends codes.
func (u *UI) usable(e otpEntry, ch otp.Challenge) bool {
	if e.purpose == otp.PurposeContact {
		return ch.MaskedDestination == otp.MaskDestination(ch.Channel, e.destination)
	}
	return slices.Contains(e.allowed, ch.Channel)
}

// resendEntry sends a new code by the channel the member chose.
func (u *UI) resendEntry(w http.ResponseWriter, r *http.Request, e otpEntry) {
	channel := postForm(r)["channel"]
	c := ""
	if len(channel) > 0 {
		c = channel[0]
	}
	if e.purpose != otp.PurposeContact && !slices.Contains(e.allowed, c) {
		if len(e.allowed) == 0 {
			c = ""
		} else {
			c = e.allowed[0]
		}
	}
	u.sendEntry(w, r, e, c)
}

// sendEntry issues a code by channel and renders the result.
func (u *UI) sendEntry(w http.ResponseWriter, r *http.Request, e otpEntry, channel string) {
	ctx := r.Context()
	if e.purpose != otp.PurposeContact && channel == "" {
		u.renderEntry(w, r, e, http.StatusOK, entryState{noChannel: true})
		return
	}
	ch, err := u.otp.Service.Issue(ctx, otp.IssueRequest{
		Member: e.member, Purpose: e.purpose, Channel: channel, Destination: e.destination,
		Locale: e.lang, IP: clientIP(r),
	})
	var wait *otp.ResendWaitError
	var de *otp.DeliveryError
	st := entryState{ch: ch, open: true, sent: true}
	status := http.StatusOK
	switch {
	case errors.As(err, &wait):
		// Keep showing the code already sent, if it can still be used.
		cur, cerr := u.otp.Service.Current(ctx, e.member.ID, e.purpose)
		st = entryState{ch: cur, open: cerr == nil && u.usable(e, cur), errKey: "otp.error.resend_wait", errArg: seconds(wait.RetryAfter)}
		if st.open {
			ch = cur
		}
		w.Header().Set("Retry-After", strconv.Itoa(seconds(wait.RetryAfter)))
		status = http.StatusTooManyRequests
	case errors.As(err, &de):
		st.sent, st.failed, st.errKey, st.errArg = false, true, "otp.error.delivery."+de.Channel, nil
		status = http.StatusBadGateway
		if errors.Is(err, otp.ErrSMSUnavailable) {
			// The service's SMS budget is spent, not the gateway down.
			st.errKey, status = otp.CatalogKey(err), http.StatusServiceUnavailable
		}
	case errors.Is(err, otp.ErrNoDestination), errors.Is(err, otp.ErrChannelNotAllowed):
		st = entryState{noChannel: e.purpose != otp.PurposeContact, errKey: otp.CatalogKey(err)}
		status = http.StatusConflict
	case err != nil:
		u.serverError(w, r, err)
		return
	}
	if st.open && ch.ID != "" {
		e.sess.Values[chKey(e.purpose)] = ch.ID
		if err := u.sessions.Save(r, w, e.sess); err != nil {
			u.serverError(w, r, err)
			return
		}
	}
	u.renderEntry(w, r, e, status, st)
}

func seconds(d time.Duration) int { return max(1, int((d+time.Second-1)/time.Second)) }

// codeInput is what the member entered, for Verify: the text field, or
// for pictograms the grid's choices when the text field is empty.
func codeInput(r *http.Request, format string, length int) (string, error) {
	form := postForm(r)
	text := strings.TrimSpace(first(form["otp"]))
	if format != otp.FormatPictogram {
		return text, nil
	}
	if text != "" {
		return otp.ParsePictogramInput([]string{text})
	}
	vals := make([]string, 0, length)
	for i := 1; i <= length; i++ {
		if v := first(form["p"+strconv.Itoa(i)]); v != "" {
			vals = append(vals, v)
		}
	}
	if len(vals) < length {
		return "", otp.ErrInvalidInput
	}
	return otp.ParsePictogramInput(vals)
}

func first(v []string) string {
	if len(v) == 0 {
		return ""
	}
	return v[0]
}

// verifyEntry checks the posted code. On failure it renders the page with
// the reason (and attempts left, or the offer of a new code) and returns
// false.
func (u *UI) verifyEntry(w http.ResponseWriter, r *http.Request, e otpEntry) (storage.OTP, bool) {
	ctx := r.Context()
	svc := u.otp.Service
	ch, cerr := svc.Current(ctx, e.member.ID, e.purpose)
	format := svc.Format(e.purpose)
	if ch.ID != "" {
		format = ch.Format
	}
	input, err := codeInput(r, format, svc.Length(format))
	if err == nil {
		var rec storage.OTP
		rec, err = svc.Verify(ctx, e.member.ID, e.purpose, input, clientIP(r))
		if err == nil {
			return rec, true
		}
	}
	st := entryState{ch: ch, open: cerr == nil && u.usable(e, ch), errKey: otp.CatalogKey(err)}
	var ice *otp.InvalidCodeError
	status := http.StatusUnauthorized
	switch {
	case errors.Is(err, otp.ErrInvalidInput):
		status = http.StatusUnprocessableEntity
	case errors.As(err, &ice):
		if ice.Malformed {
			status = http.StatusUnprocessableEntity
		} else {
			st.errArg = ice.Remaining
		}
	case st.errKey != "":
		st.open = false // expired, used, ended or never sent: offer a new code
	default:
		u.serverError(w, r, err)
		return storage.OTP{}, false
	}
	if e.generic {
		// Never tell a right member from a wrong one, nor count down.
		st = entryState{open: true, errKey: "reset.error.code"}
		if errors.Is(err, otp.ErrInvalidInput) {
			st.errKey = "otp.error.malformed"
		}
	}
	u.renderEntry(w, r, e, status, st)
	return storage.OTP{}, false
}
