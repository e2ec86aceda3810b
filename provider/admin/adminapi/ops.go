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
	MemberStatus   = Op[StatusInput, MemberView]{Name: "member/status"}
	MemberPassword = Op[PasswordInput, PasswordOutput]{Name: "member/password"}
	MemberImport   = Op[ImportInput, ImportResult]{Name: "member/import", ContentType: "text/csv"}

	EventsList = Op[EventsInput, EventsOutput]{Name: "events/list"}

	KeysList   = Op[Empty, []KeyView]{Name: "keys/list"}
	KeysRotate = Op[Empty, []KeyView]{Name: "keys/rotate"}

	// A hot backup is a session of calls: begin, read until done, or abort.
	BackupBegin = Op[Empty, BackupBegun]{Name: "backup/begin"}
	BackupRead  = Op[BackupIDInput, BackupChunk]{Name: "backup/read"}
	BackupAbort = Op[BackupIDInput, Empty]{Name: "backup/abort"}
)
