// Package notify owns how Tsubasa reaches a member outside the browser:
// mail and SMS delivery, the wording of every mail, and the worker that
// drains the durable outbox.
//
// # Senders
//
// Mailer and SMSSender are one-method interfaces; callers take them, never
// a concrete driver.
//
//   - SMTPMailer: real SMTP via go-mail, STARTTLS or implicit TLS, AUTH,
//     multipart/alternative text and HTML, UTF-8 subjects. One connection per
//     message, closed as soon as the caller's context ends.
//   - WebhookSender: JSON POST to an operator's gateway.
//   - TwilioSender: the Twilio Messages API at a configurable base URL.
//   - OutboxMailer, OutboxSMS: development only. They keep the last 200
//     messages in memory for the /dev/outbox page instead of sending.
//
// # The SMS guard
//
// SMSGuard (sms_guard.go) wraps the driver, and cmd hands only the wrapped
// driver to the one-time passwords and to the outbox worker, so every SMS
// goes through it. It refuses a destination SMSPolicy does not allow
// (sms_policy.go: the number's own country must be configured, and its
// type must be mobile; premium-rate, shared-cost, UAN, personal, VoIP,
// fixed-line, toll-free and non-geographic numbers are refused, and the
// file says why each), then reserves one SMS of the service's hourly
// budget in storage (storage.SMSBudget, shared by every replica), and
// only then calls the driver. The budget fails closed; a warning is
// logged at 80% of it and an error when it is spent, each at most once an
// hour per process, and SMSHooks report every send and refusal to cmd's
// metrics. Callers that can tell the member earlier (the contacts page,
// otp's channel choice) check the same SMSPolicy first.
//
// Errors that retrying cannot fix wrap ErrPermanent (a 5xx SMTP rejection,
// a 4xx from an SMS gateway other than 408/429, a malformed message); every
// other error is temporary. The HTTP drivers retry a temporary failure
// themselves, three tries in all with a short pause, within the caller's
// context.
//
// # Secrets
//
// Bodies carry one-time passwords, so nothing here logs a subject or a body:
// Message, SMS and DevMessage redact themselves in slog and fmt, and
// SMTPOptions redacts the password. Driver errors name the service and the
// status, never the content. Mail with a one-time password is sent
// directly by the caller and never through the durable outbox, whose
// records hold bodies at rest.
//
// # Templates and languages
//
// Renderer renders a kind (KindOTP, KindLoginAlert, KindAppLinked,
// KindContactVerify) from that kind's data struct into a subject, a text
// body and an HTML body, and SMSText the one-time password's SMS. The
// templates (templates/, embedded) hold only structure; every word is in
// locales/<tag>.json, one catalog per language named by its BCP 47 tag
// (ja, en, zh-Hans, zh-Hant, ko). Languages lists them; a language is
// added by adding its catalog, which must have every key of the Japanese
// one (the constructor refuses less, and a test checks the numbers each
// message prints). cmd passes the configured languages (ui.languages,
// the first the fallback) and the programme's help, privacy and terms
// links, which end every mail in every language.
//
// A mail's language is the member's (or the page's) tag matched to a
// configured language as the pages match it: zh-CN and zh-SG are zh-Hans,
// zh-TW and zh-HK zh-Hant, ko-KR ko; no preference is the fallback, any
// other language English where it is configured. Dates and times are
// written in that language's way, in the alerts' zone with its label:
// 2025/07/01 00:00:00(JST) in the seed's Japanese and English, 2025年7月1日
// 00:00 (JST) in Chinese, 2025년 7월 1일 00:00 (JST) in Korean.
//
// One-time passwords and address confirmations are in that language
// alone: the member who asked reads them at once. Alerts (a login from a
// new device, an app linked) are bilingual, as the model airline's login
// alert is ("*English follows Japanese."), and view.go says why:
//
//   - a Japanese member reads Japanese, then English; an English member
//     English, then Japanese: the seed sample's layout, unchanged, subject
//     "Japanese/English" for both;
//   - a member in any other language reads it first, then English, never
//     Japanese: English is what a programme's members share, and a third
//     language would push the English part down for nothing. The facts
//     block labels each line in both ("[会员号码 Member No.]").
//   - where English (or, for an English member, Japanese) is not among the
//     configured languages, the alert is in the member's language alone.
//
// # Durable outbox
//
// Alerts and other mail no one is waiting for are stored as OutboxMessage
// records and delivered by OutboxWorker, so a slow or absent mail server
// never holds up a login and a crash loses nothing. Each record moves:
//
//	pending --sent-----------------------------------> sent
//	pending --temporary error, attempts < max--------> pending, NextAttemptAt = now + backoff
//	pending --permanent error, or attempts == max----> failed
//
// The backoff doubles from BaseBackoff up to MaxBackoff with jitter. Sent
// and failed records get ExpiresAt = now + Retention (30 days by default),
// after which the storage janitor deletes them with the bodies they hold.
// OutboxMessage is storage's record, so the worker runs on storage.Outbox.
//
// Any number of workers may run on one store, one per replica: each
// claims a batch of at most 10 (storage.Outbox.ClaimDueMessages, FOR
// UPDATE SKIP LOCKED on PostgreSQL), which moves the messages'
// NextAttemptAt to the end of a lease (SendTimeout + 10s + 5s, 45 s by
// default), so no other worker gets them meanwhile.
// A worker starts a send only while the lease leaves room for the whole
// try and its record, and gives back at once what it will not try (a
// slow server, a shutdown). The guarantee: a message is sent exactly once
// unless the worker that sent it stops, or cannot write, between the
// server's acceptance and the record of it (a crash, a database down for
// longer than the 10s the record may take); then it is sent again, by any
// worker, once the lease has ended, so delivery is at least once. A
// message claimed by a replica (or a one-process server) that dies before
// sending is sent by another worker, or by the restarted server, after
// the lease, once: a crash delays what was claimed by at most the lease.
// The lease compares the claiming replica's clock with the others': the
// replicas' clocks must agree (NTP) to well within its 5 s of slack.
// Nothing of the outbox is kept in a worker's memory.
//
// Messages with an OrderKey (webhooks: one subscription, one member) are
// claimed one at a time per key, in order (the claim's rule, in storage);
// a round keeps claiming while its batches held such messages, so that a
// member's queued events go out back to back. One that fails for good
// stops blocking its key: the next is sent, and the dead letter is
// recorded.
//
// # Other channels: back-channel logout
//
// A message of another channel goes to the Deliverer registered for it
// (WorkerOptions.Deliverers): storage.ChannelBackchannelLogout is an
// HTTP POST of a logout token, signed at each try by the provider, which
// cmd wires in; storage.ChannelWebhook is a back office's webhook
// delivery, signed at each try by provider/webhook, or, for a Shared
// Signals stream, a Security Event Token pushed by provider/ssf. Logouts (backchannel.go) queues those messages wherever
// sessions end, before they end, one per session and client with an id
// derived from the pair, so queueing twice stores once. A message that
// fails for good goes to WorkerOptions.DeadLetter (cmd: an audit event
// and a metric).
package notify
