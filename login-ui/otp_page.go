package loginui

import (
	"net/http"
	"slices"
	"strconv"
	"strings"

	"tsubasa/provider/otp"
)

// otpPage is the code entry page's data.
type otpPage struct {
	page
	LeadKey     string
	Action      string
	Resend      string
	Cancel      string // link back; "" = a cancel form posting to Action+"/cancel"
	Hidden      []hiddenField
	Open        bool   // a code can be entered
	Sent        bool   // it was sent just now
	Failed      bool   // sending it failed: say nothing of where it went
	Channel     string // where the open code went: email or sms
	Masked      string // h***@example.com; "" on the reset pages
	Generic     bool   // reset: never say where the code went
	Pictogram   bool
	Length      int
	Positions   []int // 1..Length: one radio group per position
	Pictograms  []otp.Pictogram
	Others      []string // channels the member may ask for instead
	CanResend   bool
	NoChannel   bool     // nothing to send to: explain how to register a contact
	Missing     []string // channels the action accepts that the member lacks
	SMSOnly     bool     // the action accepts SMS only (passkey registration)
	SMSCountry  bool     // the member lives where SMS is offered
	MailFrom    string
	SMSSender   string
	Minutes     int
	ContactsURL string
}

// renderEntry renders the entry page for e in state st.
func (u *UI) renderEntry(w http.ResponseWriter, r *http.Request, e otpEntry, status int, st entryState) {
	f := u.otp
	p := otpPage{
		page: u.newPage(r, e.lang, e.titleKey), LeadKey: e.leadKey,
		Action: e.action, Resend: e.resend, Cancel: e.cancel, Hidden: e.hidden,
		Open: st.open, Sent: st.sent, Failed: st.failed, Generic: e.generic, NoChannel: st.noChannel, Missing: e.missing,
		MailFrom: f.MailFrom, SMSSender: f.SMSSender, Minutes: minutes(f.TTL), ContactsURL: "/account/contacts",
		CanResend: !st.noChannel,
	}
	p.Error, p.ErrorArg = st.errKey, st.errArg
	format := f.Service.Format(e.purpose)
	if st.ch.ID != "" {
		p.Channel, p.Masked, format = st.ch.Channel, st.ch.MaskedDestination, st.ch.Format
	}
	if e.generic {
		p.Channel, p.Masked = "", ""
	}
	if format == otp.FormatPictogram {
		p.Pictogram, p.Pictograms = true, otp.Pictograms(e.lang)
	}
	p.Length = f.Service.Length(format)
	for i := 1; i <= p.Length; i++ {
		p.Positions = append(p.Positions, i)
	}
	if e.purpose != otp.PurposeContact {
		p.Others = slices.DeleteFunc(slices.Clone(e.allowed), func(c string) bool { return c == p.Channel })
	}
	p.SMSOnly = slices.Equal(append(slices.Clone(e.allowed), e.missing...), []string{otp.ChannelSMS})
	p.SMSCountry = slices.ContainsFunc(f.SMSCountries, func(c string) bool { return strings.EqualFold(c, e.member.Country) })
	u.render(w, r, status, "otp", p)
}

// Pos is the field name of a pictogram position.
func (p otpPage) Pos(i int) string { return "p" + strconv.Itoa(i) }

// BySMS is whether the open code went by SMS.
func (p otpPage) BySMS() bool { return p.Channel == otp.ChannelSMS }

// IsSMS tells the SMS channel from email in a list of channels.
func (p otpPage) IsSMS(c string) bool { return c == otp.ChannelSMS }

// EmailHelp and SMSHelp choose the parts of "Didn't receive it?": the
// channel the code went by, or both when the page does not say.
func (p otpPage) EmailHelp() bool { return p.Channel != otp.ChannelSMS }
func (p otpPage) SMSHelp() bool   { return p.Channel != otp.ChannelEmail }
