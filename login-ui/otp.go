package loginui

import (
	"errors"
	"time"

	"tsubasa/provider/otp"
)

// When a login needs a one-time password after the password (OTPOptions.OnLogin).
const (
	OTPOnLoginAlways    = "always"
	OTPOnLoginNewDevice = "new_device"
	OTPOnLoginNever     = "never"
)

// OTPOptions configure the one-time-password feature.
type OTPOptions struct {
	Service *otp.Service
	// OnLogin says when a login needs a code after the password:
	// OTPOnLoginAlways, OTPOnLoginNewDevice (when the risk feature sees a
	// new environment; the default) or OTPOnLoginNever. A relying party
	// asking for acr urn:tsubasa:acr:otp always gets one, even from an SSO
	// session (step-up).
	OnLogin string
	// MailFrom and SMSSender are shown in "Didn't receive it?" so the
	// member knows what to look for (and what to allow in a filter).
	MailFrom  string
	SMSSender string
	// SMSCountries are the countries of residence whose members may get
	// codes by SMS (for the explanations; the Service enforces them).
	SMSCountries []string
	// TTL is a code's lifetime, as the pages state it.
	TTL time.Duration
}

// otpFeature is one-time passwords: the login's second step, step-up for
// the account pages, the contacts pages, the password reset and the gate
// other features put in front of sensitive actions (requireOTP).
type otpFeature struct {
	OTPOptions
}

// OTP enables one-time passwords by mail and SMS.
func OTP(o OTPOptions) Feature { return &otpFeature{OTPOptions: o} }

func (f *otpFeature) register(u *UI) error {
	if f.Service == nil {
		return errors.New("loginui: the otp feature needs a service")
	}
	switch f.OnLogin {
	case "":
		f.OnLogin = OTPOnLoginNewDevice
	case OTPOnLoginAlways, OTPOnLoginNewDevice, OTPOnLoginNever:
	default:
		return errors.New("loginui: otp on_login must be always, new_device or never")
	}
	if f.TTL <= 0 {
		f.TTL = 10 * time.Minute
	}
	u.otp = f
	u.stepUp = true
	u.addStep(false, f.step(u))
	u.pageNames = append(u.pageNames, "otp", "contacts", "reset")
	u.partials["login"] = append(u.partials["login"], "templates/login_reset.html")
	u.addSection(accountSection{order: 20, titleKey: "contacts.title", descKey: "contacts.section.desc", path: contactsPath})

	u.handle("GET "+otpStepPath, u.showOTPStep)
	u.handle("POST "+otpStepPath, u.postOTPStep)
	u.handle("POST "+otpStepPath+"/resend", u.resendOTPStep)
	u.handle("POST "+otpStepPath+"/cancel", u.cancelOTPStep)
	u.registerGate()

	u.handle("GET "+contactsPath, u.showContacts)
	u.handle("POST "+contactsPath+"/email", u.postContactEmail)
	u.handle("POST "+contactsPath+"/phone", u.postContactPhone)
	u.handle("POST "+contactsPath+"/channel", u.postContactChannel)
	u.handle("GET "+contactsPath+"/verify", u.showContactVerify)
	u.handle("POST "+contactsPath+"/verify", u.postContactVerify)
	u.handle("POST "+contactsPath+"/verify/resend", u.resendContactVerify)

	u.handle("GET "+resetPath, u.showReset)
	u.handle("POST "+resetPath, u.postReset)
	u.handle("GET "+resetPath+"/code", u.showResetCode)
	u.handle("POST "+resetPath+"/code", u.postResetCode)
	u.handle("POST "+resetPath+"/code/resend", u.resendResetCode)
	u.handle("GET "+resetPath+"/password", u.showResetPassword)
	u.handle("POST "+resetPath+"/password", u.postResetPassword)
	u.handle("GET "+resetPath+"/done", u.showResetDone)
	return nil
}
