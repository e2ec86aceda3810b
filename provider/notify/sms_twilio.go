package notify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// TwilioSender sends through the Twilio Messages API (or anything that
// speaks it, at another base URL).
type TwilioSender struct {
	endpoint string
	sid      string
	token    string
	from     string
	http     httpPoster
}

var _ SMSSender = (*TwilioSender)(nil)

// NewTwilioSender posts to {baseURL}/2010-04-01/Accounts/{accountSID}/Messages.json
// with basic auth. from is a phone number in E.164, or a Messaging Service
// SID (starting "MG"), which is then sent as MessagingServiceSid. A nil
// client gets one with DefaultHTTPTimeout.
func NewTwilioSender(baseURL, accountSID, authToken, from string, client *http.Client) (*TwilioSender, error) {
	var errs []error
	if err := checkBaseURL(baseURL); err != nil {
		errs = append(errs, err)
	}
	if accountSID == "" || strings.ContainsAny(accountSID, "/?#") {
		errs = append(errs, errors.New("account SID is empty or malformed"))
	}
	if authToken == "" {
		errs = append(errs, errors.New("auth token is required"))
	}
	if from == "" {
		errs = append(errs, errors.New("from is required"))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("notify: twilio: %w", err)
	}
	endpoint := strings.TrimRight(baseURL, "/") + "/2010-04-01/Accounts/" + url.PathEscape(accountSID) + "/Messages.json"
	p := newHTTPPoster("twilio", client)
	p.describe = describeTwilioError
	return &TwilioSender{endpoint: endpoint, sid: accountSID, token: authToken, from: from, http: p}, nil
}

// SendSMS sends s with the same retry rules as the webhook driver.
func (t *TwilioSender) SendSMS(ctx context.Context, s SMS) error {
	form := url.Values{"To": {s.To}, "Body": {s.Body}}
	if strings.HasPrefix(t.from, "MG") {
		form.Set("MessagingServiceSid", t.from)
	} else {
		form.Set("From", t.from)
	}
	encoded := form.Encode()
	return t.http.post(ctx, func(ctx context.Context) (*http.Request, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.endpoint, strings.NewReader(encoded))
		if err != nil {
			return nil, err
		}
		req.SetBasicAuth(t.sid, t.token)
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Accept", "application/json")
		req.Header.Set("User-Agent", "tsubasa-notify")
		return req, nil
	})
}

// describeTwilioError keeps Twilio's numeric error code only: its message
// text can quote request parameters.
func describeTwilioError(_ *http.Response, body []byte) string {
	var e struct {
		Code int `json:"code"`
	}
	if json.Unmarshal(body, &e) != nil || e.Code == 0 {
		return ""
	}
	return "twilio error " + strconv.Itoa(e.Code)
}
