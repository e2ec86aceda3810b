package notify

import (
	"errors"
	"fmt"
	"strings"

	"github.com/nyaruka/phonenumbers"
)

// SMS toll fraud ("SMS pumping") makes a service send SMS to numbers whose
// operator shares the termination fee with the attacker: premium-rate and
// shared-cost ranges, international networks (+881, +882, +883, …), and
// the mobile ranges of countries with high termination rates. SMSPolicy
// decides by the destination number itself, never by what the member says
// about where they live: the number's country (its region in libphonenumber
// metadata) must be one of the configured countries, and its type must be
// one that receives SMS on a handset the member holds.
//
// Allowed types: MOBILE, and FIXED_LINE_OR_MOBILE (the plans of the US,
// Canada and a few others do not tell the two apart by number). Refused:
//
//   - PREMIUM_RATE, SHARED_COST, UAN (Japan's 0570 navi-dial, the UK's 03
//     and 055 ranges), PERSONAL_NUMBER (the UK's 070 "follow-me" numbers,
//     a classic toll-fraud range), VOICEMAIL: the caller pays a surcharge
//     or the number forwards where nobody can see; nobody needs them for a
//     one-time password.
//   - VOIP (Japan's 050, the UK's 056, most of +882/+883): in Japan they
//     cannot receive SMS, elsewhere they are not tied to a handset, which
//     out-of-band authenticators require (NIST SP 800-63B, 5.1.3).
//   - FIXED_LINE: Japanese landlines receive no SMS, and the "text to
//     landline" services elsewhere read the code aloud to whoever answers,
//     or to an answering machine.
//   - TOLL_FREE, PAGER, UNKNOWN: no SMS arrives there.
//   - Non-geographic numbers (region 001: +800, +808, +870, +878, +881,
//     +882, +883, +888, +979), satellite phones included, whatever their
//     type: they belong to no country, so no sms_countries entry allows them.

// SMS refusal reasons, the values of SMSDestinationError.Reason and of the
// refusal metric's label.
const (
	SMSReasonInvalid       = "invalid"            // not a valid E.164 number
	SMSReasonCountry       = "country"            // its country is not one SMS is sent to
	SMSReasonNonGeographic = "non_geographic"     // an international network or satellite service
	SMSReasonBudget        = "budget"             // the hourly budget is spent (ErrSMSBudget, not a destination)
	SMSReasonBudgetDown    = "budget_unavailable" // the budget could not be read: refused, failing closed
)

// typeReasons names each refused number type.
var typeReasons = map[phonenumbers.PhoneNumberType]string{
	phonenumbers.FIXED_LINE:      "fixed_line",
	phonenumbers.TOLL_FREE:       "toll_free",
	phonenumbers.PREMIUM_RATE:    "premium_rate",
	phonenumbers.SHARED_COST:     "shared_cost",
	phonenumbers.VOIP:            "voip",
	phonenumbers.PERSONAL_NUMBER: "personal_number",
	phonenumbers.PAGER:           "pager",
	phonenumbers.UAN:             "uan",
	phonenumbers.VOICEMAIL:       "voicemail",
	phonenumbers.UNKNOWN:         "unknown_type",
}

// SMSRefusalReasons lists every reason an SMS can be refused for, so a
// metric can be initialised with each of them.
func SMSRefusalReasons() []string {
	out := []string{SMSReasonInvalid, SMSReasonCountry, SMSReasonNonGeographic, SMSReasonBudget, SMSReasonBudgetDown}
	for _, t := range []phonenumbers.PhoneNumberType{
		phonenumbers.FIXED_LINE, phonenumbers.TOLL_FREE, phonenumbers.PREMIUM_RATE, phonenumbers.SHARED_COST,
		phonenumbers.VOIP, phonenumbers.PERSONAL_NUMBER, phonenumbers.PAGER, phonenumbers.UAN,
		phonenumbers.VOICEMAIL, phonenumbers.UNKNOWN,
	} {
		out = append(out, typeReasons[t])
	}
	return out
}

// ErrSMSDestination matches every *SMSDestinationError.
var ErrSMSDestination = errors.New("notify: SMS to this number refused")

// SMSDestinationError says why a number may not receive SMS. It never
// holds the number (which is personal data, and errors reach logs). It
// matches ErrSMSDestination and ErrPermanent: sending again to the same
// number cannot work.
type SMSDestinationError struct {
	Reason string // SMSReasonInvalid, SMSReasonCountry, SMSReasonNonGeographic, or the number type ("premium_rate", …)
	Region string // the number's ISO 3166 alpha-2 region, "001" when non-geographic, "" when unknown
}

func (e *SMSDestinationError) Error() string {
	if e.Region == "" {
		return "notify: SMS refused: " + e.Reason
	}
	return fmt.Sprintf("notify: SMS refused: %s (region %s)", e.Reason, e.Region)
}

// Is makes errors.Is match ErrSMSDestination and ErrPermanent.
func (e *SMSDestinationError) Is(target error) bool {
	return target == ErrSMSDestination || target == ErrPermanent
}

// CountryRefused reports a refusal for the number's country (or for having
// none), as opposed to its type: the member needs another country's
// number, not another kind of number.
func (e *SMSDestinationError) CountryRefused() bool {
	return e.Reason == SMSReasonCountry || e.Reason == SMSReasonNonGeographic
}

// SMSPolicy decides which numbers may receive SMS. The zero value refuses
// every number.
type SMSPolicy struct {
	countries map[string]bool
}

// NewSMSPolicy allows mobile numbers of countries (ISO 3166 alpha-2; case
// and spaces do not matter). An empty list allows no number at all.
func NewSMSPolicy(countries []string) SMSPolicy {
	p := SMSPolicy{countries: make(map[string]bool, len(countries))}
	for _, c := range countries {
		if c = strings.ToUpper(strings.TrimSpace(c)); c != "" {
			p.countries[c] = true
		}
	}
	return p
}

// Check returns nil when an SMS may go to e164 (a number in E.164 form,
// "+819012345678"), or an *SMSDestinationError.
func (p SMSPolicy) Check(e164 string) error {
	if len(e164) < 2 || len(e164) > 17 || e164[0] != '+' {
		return &SMSDestinationError{Reason: SMSReasonInvalid}
	}
	num, err := phonenumbers.Parse(e164, "")
	if err != nil || num.GetExtension() != "" || !phonenumbers.IsValidNumber(num) {
		return &SMSDestinationError{Reason: SMSReasonInvalid}
	}
	region := phonenumbers.GetRegionCodeForNumber(num)
	switch {
	case region == phonenumbers.UNKNOWN_REGION || region == "":
		return &SMSDestinationError{Reason: SMSReasonInvalid}
	case region == phonenumbers.REGION_CODE_FOR_NON_GEO_ENTITY:
		return &SMSDestinationError{Reason: SMSReasonNonGeographic, Region: region}
	case !p.countries[region]:
		return &SMSDestinationError{Reason: SMSReasonCountry, Region: region}
	}
	switch t := phonenumbers.GetNumberType(num); t {
	case phonenumbers.MOBILE, phonenumbers.FIXED_LINE_OR_MOBILE:
		return nil
	default:
		reason, ok := typeReasons[t]
		if !ok {
			reason = typeReasons[phonenumbers.UNKNOWN]
		}
		return &SMSDestinationError{Reason: reason, Region: region}
	}
}
