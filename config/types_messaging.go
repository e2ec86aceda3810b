package config

import "time"

// Outgoing mail and SMS: the servers and drivers that carry one-time
// passwords, alerts and other notifications.

// MailConfig is outgoing mail.
type MailConfig struct {
	From string     `yaml:"from"`
	SMTP SMTPConfig `yaml:"smtp"`
	// OTPSMTP is a separate server for one-time passwords; nil = SMTP.
	// Use MailConfig.ForOTP.
	OTPSMTP *SMTPConfig `yaml:"otp_smtp"`
}

// SMTPConfig is one SMTP server. Empty Host = no SMTP (dev outbox).
type SMTPConfig struct {
	Host         string `yaml:"host"`
	Port         int    `yaml:"port"`
	Username     string `yaml:"username"`
	Password     string `yaml:"password" secret:"true"`
	PasswordFile string `yaml:"password_file"`
	TLS          string `yaml:"tls"`  // none|starttls|tls
	From         string `yaml:"from"` // empty = mail.from
}

// SMSConfig selects and configures the SMS driver.
type SMSConfig struct {
	Driver  string        `yaml:"driver"` // outbox (dev only)|webhook|twilio
	Sender  string        `yaml:"sender"` // sender id shown to members
	Webhook WebhookConfig `yaml:"webhook"`
	Twilio  TwilioConfig  `yaml:"twilio"`
	// MaxPerHour is the most SMS the whole service sends in any hour,
	// every member and replica together: the ceiling of an SMS pumping
	// attack. Past it SMS are refused (email still works).
	MaxPerHour int `yaml:"max_per_hour"`
}

// WebhookConfig is the JSON POST SMS driver.
type WebhookConfig struct {
	URL       string        `yaml:"url"`
	Token     string        `yaml:"token" secret:"true"` // bearer token
	TokenFile string        `yaml:"token_file"`
	Timeout   time.Duration `yaml:"timeout"`
}

// TwilioConfig is the Twilio Messages API driver.
type TwilioConfig struct {
	BaseURL       string `yaml:"base_url"`
	AccountSID    string `yaml:"account_sid"`
	AuthToken     string `yaml:"auth_token" secret:"true"`
	AuthTokenFile string `yaml:"auth_token_file"`
	From          string `yaml:"from"`
}
