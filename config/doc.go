// Package config owns Tsubasa's configuration as plain data: the Config
// type and its defaults, loading it from YAML and the environment, and
// validating it. It imports nothing else of Tsubasa; only cmd turns a Config
// into constructors.
//
// # Layers
//
// Load builds a Config in this order, each layer overriding the previous:
//
//  1. Default: every default filled in, dev mode off.
//  2. The YAML file. Decoding is strict: an unknown or duplicate key, a
//     value of the wrong type, or a key with no value is an error naming the
//     file, line and key path. A section left empty keeps its defaults;
//     lists given replace the default list; otp.formats is merged entry by
//     entry over the defaults.
//  3. Environment variables: TSUBASA_ followed by the key path upper-cased
//     and joined by "_", e.g. TSUBASA_MAIL_SMTP_HOST. Lists are comma
//     separated (TSUBASA_OTP_SMS_COUNTRIES=JP,US); map entries add the key
//     (TSUBASA_OTP_FORMATS_LOGIN=pictogram); the client list is one YAML or
//     JSON document in TSUBASA_CLIENTS. A TSUBASA_* variable that names no
//     key is an error, except TSUBASA_CONFIG, TSUBASA_REQUIRE_BROWSER,
//     TSUBASA_REQUIRE_POSTGRES and the CLI's --server settings
//     (TSUBASA_SERVER, TSUBASA_CLIENT_ID, TSUBASA_CLIENT_SECRET_FILE,
//     TSUBASA_CLIENT_KEY, TSUBASA_AGENT).
//     The names come from the yaml tags by reflection: EnvNames lists them.
//  4. Secret files: for each key X with a sibling X_file (secret,
//     password, token, auth_token), X is read from the file with trailing
//     line breaks removed. Setting both is an error.
//
// Client defaults (grant types, scopes, ID token algorithm) are then filled
// in by ClientConfig.WithDefaults. storage.bolt.path gets its default last,
// and only when storage.postgres.url is empty: a Config with both was given
// both by the operator, and Validate refuses it.
//
// # Validation
//
// Config.Validate is pure: it reports every problem at once in a
// *ValidationError, each with its key path such as
// clients[1].redirect_uris[0]. Load does not validate, so that cmd can apply
// DevDefaults or flags first.
//
// # Derived values
//
// Some defaults depend on other keys: the passkey relying party follows the
// issuer and brand, the admin socket follows the database path, the legacy
// PIN cut-over follows the alerts time zone. Those fields stay empty unless
// the operator sets them, and methods (PasskeyRPID, PasskeyRPDisplayName,
// PasskeyOrigins, AdminSocket, PINCutover, MailConfig.ForOTP) give the
// effective value, so changing the issuer later cannot leave them stale.
//
// # Secrets
//
// Fields tagged secret:"true" are replaced by Redacted and by the
// slog.LogValuer implementations, so a Config can be logged. Do not print a
// Config with fmt: that bypasses redaction.
package config
