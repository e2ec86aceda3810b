package adminapi

// The operations of the admin API. The table of handlers in
// tsubasa/provider/admin registers one for each.
var (
	ClientAdd          = Op[ClientInput, ClientOutput]{Name: "client/add"}
	ClientList         = Op[Empty, []ClientView]{Name: "client/list"}
	ClientShow         = Op[IDInput, ClientView]{Name: "client/show"}
	ClientRemove       = Op[IDInput, RemovedClient]{Name: "client/remove"}
	ClientRotateSecret = Op[IDInput, ClientOutput]{Name: "client/rotate-secret"}

	MemberCreate   = Op[MemberInput, MemberView]{Name: "member/create"}
	MemberShow     = Op[NumberInput, MemberView]{Name: "member/show"}
	MemberUpdate   = Op[MemberUpdateInput, MemberView]{Name: "member/update"}
	MemberDisable  = Op[NumberInput, MemberView]{Name: "member/disable"}
	MemberEnable   = Op[NumberInput, MemberView]{Name: "member/enable"}
	MemberPassword = Op[PasswordInput, PasswordOutput]{Name: "member/password"}
	MemberImport   = Op[ImportInput, ImportResult]{Name: "member/import", ContentType: MediaCSV}
	MemberDelete   = Op[MemberDeleteInput, MemberErased]{Name: "member/delete"}
	MemberFind     = Op[MemberFindInput, MembersFound]{Name: "member/find"}

	// Member support: a member's lockouts, second factors and sessions.
	MemberUnlock         = Op[NumberInput, MemberView]{Name: "member/unlock"}
	MemberPasskeysRemove = Op[PasskeysInput, PasskeysRemoved]{Name: "member/passkeys/remove"}
	MemberOTPReset       = Op[OTPResetInput, MemberView]{Name: "member/otp-destinations/reset"}
	MemberSessions       = Op[NumberInput, SessionsOutput]{Name: "member/sessions"}
	MemberSessionsEnd    = Op[SessionInput, Ended]{Name: "member/sessions/end"}
	MemberDevices        = Op[NumberInput, DevicesOutput]{Name: "member/devices"}
	MemberDeviceRemove   = Op[DeviceInput, Ended]{Name: "member/devices/remove"}
	MemberApps           = Op[NumberInput, AppsOutput]{Name: "member/apps"}
	MemberAppUnlink      = Op[AppInput, Ended]{Name: "member/apps/unlink"}

	// Member support sessions: proof that the member is on the line.
	MemberSupportStart  = Op[SupportStartInput, SupportSessionView]{Name: "member/support/start"}
	MemberSupportShow   = Op[SupportSessionInput, SupportSessionView]{Name: "member/support/show"}
	MemberSupportVerify = Op[SupportVerifyInput, SupportSessionView]{Name: "member/support/verify"}

	EventsList = Op[EventsInput, EventsOutput]{Name: "events/list"}

	// Jobs the HTTP admin API runs (a member import), by any replica.
	JobShow = Op[JobIDInput, JobView]{Name: "job/show"}
	JobList = Op[JobsInput, JobsOutput]{Name: "job/list"}

	// Webhook subscriptions (Standard Webhooks, provider/webhook).
	WebhookAdd    = Op[WebhookInput, WebhookOutput]{Name: "webhook/add"}
	WebhookList   = Op[Empty, []WebhookView]{Name: "webhook/list"}
	WebhookRemove = Op[IDInput, WebhookView]{Name: "webhook/remove"}

	// OpenID Shared Signals streams (provider/ssf).
	SSFStreamCreate = Op[SSFStreamInput, SSFStreamView]{Name: "ssf/stream/create"}
	SSFStreamList   = Op[Empty, []SSFStreamView]{Name: "ssf/stream/list"}
	SSFStreamShow   = Op[IDInput, SSFStreamView]{Name: "ssf/stream/show"}
	SSFStreamDelete = Op[IDInput, SSFStreamView]{Name: "ssf/stream/delete"}

	KeysList   = Op[Empty, []KeyView]{Name: "keys/list"}
	KeysRotate = Op[Empty, []KeyView]{Name: "keys/rotate"}

	// A hot backup is a session of calls: begin, read until done, or abort.
	BackupBegin = Op[Empty, BackupBegun]{Name: "backup/begin"}
	BackupRead  = Op[BackupIDInput, BackupChunk]{Name: "backup/read"}
	BackupAbort = Op[BackupIDInput, Empty]{Name: "backup/abort"}
)
