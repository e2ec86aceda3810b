package app

import (
	"bytes"
	"fmt"
	"html/template"
	"net/http"
	"time"

	"tsubasa/cmd/tsubasa/internal/metrics"
	"tsubasa/config"
	"tsubasa/provider"
	"tsubasa/provider/audit"
	"tsubasa/provider/notify"
	"tsubasa/storage"
)

// messaging is the notification side of the server: the mailers (one for
// one-time passwords, which may use its own SMTP transport, one for
// everything else), the SMS driver, the templates, the durable outbox worker
// and, in development, the in-memory outbox shown at /dev/outbox. The SMS
// driver is wrapped in the SMS guard (destination policy from
// otp.sms_countries, the sms.max_per_hour budget in storage) before anyone
// gets it, so one-time passwords and the outbox worker both go through it.
type messaging struct {
	mail     notify.Mailer
	otpMail  notify.Mailer
	sms      notify.SMSSender
	renderer *notify.Renderer
	worker   *notify.OutboxWorker
	devMail  *notify.OutboxMailer
	devSMS   *notify.OutboxSMS
}

func newMessaging(d *Deps, met *metrics.Metrics, p *provider.Provider) (*messaging, error) {
	cfg := d.Config
	m := &messaging{}
	var err error
	m.renderer, err = notify.NewRendererWith(notify.RendererOptions{
		Languages: cfg.UI.Languages,
		Links:     notify.Links{Support: cfg.Brand.SupportURL, Privacy: cfg.Brand.PrivacyURL, Terms: cfg.Brand.TermsURL},
	})
	if err != nil {
		return nil, err
	}
	if m.mail, err = mailerFor(cfg, cfg.Mail.SMTP, d); err != nil {
		return nil, fmt.Errorf("mail.smtp: %w", err)
	}
	if cfg.Mail.OTPSMTP != nil {
		if m.otpMail, err = mailerFor(cfg, *cfg.Mail.OTPSMTP, d); err != nil {
			return nil, fmt.Errorf("mail.otp_smtp: %w", err)
		}
	} else {
		m.otpMail = m.mail
	}
	if dm, ok := m.mail.(*notify.OutboxMailer); ok {
		m.devMail = dm
	}
	switch cfg.SMS.Driver {
	case config.SMSDriverWebhook:
		m.sms, err = notify.NewWebhookSender(cfg.SMS.Webhook.URL, cfg.SMS.Webhook.Token, &http.Client{Timeout: cfg.SMS.Webhook.Timeout})
	case config.SMSDriverTwilio:
		tw := cfg.SMS.Twilio
		m.sms, err = notify.NewTwilioSender(tw.BaseURL, tw.AccountSID, tw.AuthToken, tw.From, nil)
	default: // outbox: development only (config validation enforces it)
		m.devSMS = notify.NewOutboxSMS(0, d.Log)
		m.sms = m.devSMS
	}
	if err != nil {
		return nil, fmt.Errorf("sms: %w", err)
	}
	sm := met.SMS()
	guard, err := notify.NewSMSGuard(m.sms, notify.SMSGuardOptions{
		Policy:     notify.NewSMSPolicy(cfg.OTP.SMSCountries),
		Budget:     d.Store,
		MaxPerHour: cfg.SMS.MaxPerHour,
		Hooks:      sm.Hooks(),
		Logger:     d.Log,
	})
	if err != nil {
		return nil, fmt.Errorf("sms: %w", err)
	}
	sm.Watch(guard)
	m.sms = guard
	m.worker = notify.NewOutboxWorker(d.Store, m.mail, m.sms, notify.WorkerOptions{
		Logger: d.Log,
		// Logout tokens go out from the outbox too (wire_backchannel.go).
		// And webhooks (wire_webhooks.go).
		Deliverers: map[string]notify.Deliverer{storage.ChannelBackchannelLogout: backchannelDeliverer(p),
			storage.ChannelWebhook: d.webhookDeliverer(p)},
		DeadLetter: deadLetter(audit.New(d.Store, siemLogger(cfg)),
			met.OutboxDeadLetters(storage.ChannelEmail, storage.ChannelSMS, storage.ChannelBackchannelLogout, storage.ChannelWebhook)),
	})
	kick := m.worker.Kick
	d.kick.Store(&kick)
	return m, nil
}

// mailerFor is real SMTP when a host is configured; without one (development
// only) mail lands in the in-memory outbox.
func mailerFor(cfg config.Config, s config.SMTPConfig, d *Deps) (notify.Mailer, error) {
	if s.Host == "" {
		return notify.NewOutboxMailer(0, d.Log), nil
	}
	from := s.From
	if from == "" {
		from = cfg.Mail.From
	}
	return notify.NewSMTPMailer(notify.SMTPOptions{
		Host: s.Host, Port: s.Port, Username: s.Username, Password: s.Password,
		TLS: s.TLS, From: from, Timeout: 20 * time.Second,
	})
}

var devOutboxPage = template.Must(template.New("outbox").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Development outbox</title><link rel="stylesheet" href="/static/style.css"></head>
<body><header class="site"><div class="brand">Development outbox</div></header><main>
<h1>Development outbox</h1>
<p class="help">Mail and SMS Tsubasa would have sent, newest first. Shown only in development mode.</p>
{{range .}}<div class="card"><p><strong>{{.Channel}}</strong> to {{.To}} · {{.Time.Format "15:04:05"}} · {{.Purpose}}</p>
{{with .Subject}}<p>{{.}}</p>{{end}}<pre>{{.Body}}</pre></div>{{else}}<p>Nothing sent yet.</p>{{end}}
</main></body></html>`))

// devOutbox lists what development mode "sent" (dev only: it shows codes).
func (m *messaging) devOutbox(w http.ResponseWriter, _ *http.Request) {
	var all []notify.DevMessage
	if m.devSMS != nil {
		all = append(all, m.devSMS.List()...)
	}
	if m.devMail != nil {
		all = append(all, m.devMail.List()...)
	}
	sortNewestFirst(all)
	var buf bytes.Buffer
	if err := devOutboxPage.Execute(&buf, all); err != nil {
		http.Error(w, "render failed", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Security-Policy", "default-src 'self'; frame-ancestors 'none'")
	_, _ = buf.WriteTo(w)
}

func sortNewestFirst(ms []notify.DevMessage) {
	for i := 1; i < len(ms); i++ {
		for j := i; j > 0 && ms[j].Time.After(ms[j-1].Time); j-- {
			ms[j], ms[j-1] = ms[j-1], ms[j]
		}
	}
}
