package bolt

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"time"

	"go.etcd.io/bbolt"
)

// schemaVersion is written to the meta bucket and as the first byte of
// every record, so that a future migration can tell old records apart.
const schemaVersion byte = 1

// Bucket names. Record buckets hold versioned JSON by primary key; index
// buckets map a derived key to the primary key; expiry buckets are keyed by
// ExpiresAt (see timeKey) followed by the primary key.
var (
	bMeta    = []byte("meta")
	bSecrets = []byte("secrets")

	bMembers      = []byte("members")
	bMemberNumber = []byte("members_by_number")
	bMemberHandle = []byte("members_by_webauthn_handle")

	bClients = []byte("clients")
	bKeys    = []byte("keys")

	bAuthRequests    = []byte("auth_requests")
	bAuthRequestsExp = []byte("auth_requests_by_expiry")
	bAuthCodes       = []byte("auth_codes")
	bAuthCodesExp    = []byte("auth_codes_by_expiry")

	bTokens           = []byte("tokens")
	bTokensByMember   = []byte("tokens_by_member")
	bTokensByClient   = []byte("tokens_by_client")
	bTokensBySession  = []byte("tokens_by_session")
	bTokensByFamily   = []byte("tokens_by_family")
	bTokensByAuthReq  = []byte("tokens_by_auth_request")
	bTokensByExpiry   = []byte("tokens_by_expiry")
	bSessions         = []byte("sessions")
	bSessionsByMember = []byte("sessions_by_member")
	bSessionsByExpiry = []byte("sessions_by_expiry")
	bOTPs             = []byte("otps")
	bOTPsByPurpose    = []byte("otps_by_member_purpose")
	bOTPsByExpiry     = []byte("otps_by_expiry")
	bDevices          = []byte("devices")
	bPasskeys         = []byte("passkeys")
	bPasskeysByMember = []byte("passkeys_by_member")
	bConsents         = []byte("consents")
	bEvents           = []byte("events")
	bEventsByMember   = []byte("events_by_member")
	bOutbox           = []byte("outbox")
	bOutboxDue        = []byte("outbox_by_due")
	bOutboxByExpiry   = []byte("outbox_by_expiry")
	bRevocations      = []byte("token_revocations")
	schemaKey         = []byte("schema")
	allBuckets        = [][]byte{
		bMeta, bSecrets, bMembers, bMemberNumber, bMemberHandle, bClients, bKeys,
		bAuthRequests, bAuthRequestsExp, bAuthCodes, bAuthCodesExp,
		bTokens, bTokensByMember, bTokensByClient, bTokensBySession, bTokensByFamily,
		bTokensByAuthReq, bTokensByExpiry, bSessions, bSessionsByMember, bSessionsByExpiry,
		bOTPs, bOTPsByPurpose, bOTPsByExpiry, bDevices, bPasskeys, bPasskeysByMember,
		bConsents, bEvents, bEventsByMember, bOutbox, bOutboxDue, bOutboxByExpiry,
		bRevocations,
	}
	bSMSBudget         = []byte("sms_budget")
	bPushedRequests    = []byte("pushed_requests")
	bPushedRequestsExp = []byte("pushed_requests_by_expiry")
	bUsedJTIs          = []byte("used_jtis")
	bUsedJTIsExp       = []byte("used_jtis_by_expiry")
	bIdempotency       = []byte("idempotency")
	bIdempotencyExp    = []byte("idempotency_by_expiry")
	bJobs              = []byte("jobs")
	bJobsByCreated     = []byte("jobs_by_created")
	bJobsExp           = []byte("jobs_by_expiry")
	bSupport           = []byte("support_sessions")
	bSupportExp        = []byte("support_sessions_by_expiry")
	bDeviceGrants      = []byte("device_grants")
	bDeviceGrantsCode  = []byte("device_grants_by_user_code")
	bDeviceGrantsExp   = []byte("device_grants_by_expiry")
	bWebhooks          = []byte("webhooks")
	bMemberEmail       = []byte("members_by_email")
	bMemberPhone       = []byte("members_by_phone")
	bOutboxByOrder     = []byte("outbox_by_order")
	// lateBuckets came after files of this schema version were in use: a
	// read-write open creates them, but checkSchema does not require them,
	// so a backup taken before they existed still verifies and restores.
	lateBuckets = [][]byte{bSMSBudget, bPushedRequests, bPushedRequestsExp, bUsedJTIs, bUsedJTIsExp,
		bIdempotency, bIdempotencyExp, bJobs, bJobsByCreated, bJobsExp,
		bSupport, bSupportExp,
		bDeviceGrants, bDeviceGrantsCode, bDeviceGrantsExp,
		bWebhooks,
		bMemberEmail, bMemberPhone, bOutboxByOrder}
)

func initSchema(tx *bbolt.Tx) error {
	backfill := tx.Bucket(bMembers) != nil && tx.Bucket(bMemberEmail) == nil
	for _, name := range slices.Concat(allBuckets, lateBuckets) {
		if _, err := tx.CreateBucketIfNotExists(name); err != nil {
			return fmt.Errorf("create bucket %s: %w", name, err)
		}
	}
	if backfill {
		if err := indexContacts(tx); err != nil {
			return err
		}
	}
	meta := tx.Bucket(bMeta)
	if meta.Get(schemaKey) == nil {
		return meta.Put(schemaKey, []byte{schemaVersion})
	}
	return checkSchema(tx)
}

func checkSchema(tx *bbolt.Tx) error {
	for _, name := range allBuckets {
		if tx.Bucket(name) == nil {
			return fmt.Errorf("bucket %s missing: open the file read-write once to initialise it", name)
		}
	}
	v := tx.Bucket(bMeta).Get(schemaKey)
	if len(v) != 1 || v[0] != schemaVersion {
		return fmt.Errorf("schema version %v not supported (want %d): written by another Tsubasa version?", v, schemaVersion)
	}
	return nil
}

// encode returns the record as a schema version byte followed by JSON (as
// json.Marshal writes it), with every time field in UTC.
func encode[T any](v T) ([]byte, error) {
	utcTimes(&v)
	buf := encodeBufs.Get().(*bytes.Buffer)
	defer encodeBufs.Put(buf)
	buf.Reset()
	buf.WriteByte(schemaVersion)
	// Encoder writes what Marshal returns (HTML escaped alike) plus a
	// newline, into a reused buffer; the record gets one exact copy.
	if err := json.NewEncoder(buf).Encode(v); err != nil {
		return nil, err
	}
	return bytes.Clone(bytes.TrimSuffix(buf.Bytes(), []byte{'\n'})), nil
}

var encodeBufs = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// decode parses what encode wrote. json.Unmarshal copies every string and
// byte slice, so the result does not alias transaction memory.
func decode[T any](data []byte, v *T) error {
	if len(data) == 0 || data[0] != schemaVersion {
		return fmt.Errorf("record schema version not supported")
	}
	return json.Unmarshal(data[1:], v)
}

var timeType = reflect.TypeFor[time.Time]()

// utcTimes converts the top-level time fields of the struct *v to UTC.
// Records are flat, and reflection keeps this right when fields are added.
func utcTimes(v any) {
	rv := reflect.ValueOf(v).Elem()
	for i := range rv.NumField() {
		if f := rv.Field(i); f.Type() == timeType && f.CanSet() {
			t := f.Addr().Interface().(*time.Time) // a pointer: no allocation
			*t = t.UTC()
		}
	}
}

// timeKeyLen is the length of timeKey's encoding.
const timeKeyLen = 12

// appendTimeKey appends an encoding of t that sorts bytewise in time order
// for every representable time (the zero time included): big-endian Unix
// seconds with the sign bit flipped, then big-endian nanoseconds.
func appendTimeKey(b []byte, t time.Time) []byte {
	b = binary.BigEndian.AppendUint64(b, uint64(t.Unix())^(1<<63))
	return binary.BigEndian.AppendUint32(b, uint32(t.Nanosecond()))
}

// ikey builds an index key: field prefixed by its length (so that no field
// is a prefix of another), then rest. iprefix(field) is the prefix of every
// ikey(field, …).
func ikey(field string, rest []byte) []byte {
	b := make([]byte, 0, binary.MaxVarintLen64+len(field)+len(rest))
	b = binary.AppendUvarint(b, uint64(len(field)))
	b = append(b, field...)
	return append(b, rest...)
}

func iprefix(field string) []byte { return ikey(field, nil) }

// splitIkey undoes ikey.
func splitIkey(k []byte) (field string, rest []byte) {
	n, w := binary.Uvarint(k)
	if w <= 0 || uint64(len(k)-w) < n {
		return "", k
	}
	return string(k[w : w+int(n)]), k[w+int(n):]
}
