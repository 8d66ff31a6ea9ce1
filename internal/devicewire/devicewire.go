// Package devicewire holds the device API's messages and paths
// (PROTOCOL.md §10), written once for both sides: the server
// (authn/deviceapi) and the phone's client (enroll/deviceclient).
package devicewire

// Endpoint paths, below the API's mount point.
const (
	PathOffer            = "/v1/offer"
	PathActivate         = "/v1/activate"
	PathPushes           = "/v1/pushes"
	PathPush             = "/v1/push"
	PathPushAnswer       = "/v1/push/answer"
	PathPushToken        = "/v1/push-token"
	PathMigration        = "/v1/migration"
	PathMigrationStatus  = "/v1/migration/status"
	PathMigrationConfirm = "/v1/migration/confirm"
	PathDeviceStatus     = "/v1/device/status"
)

// Protocol version negotiation (PROTOCOL.md §10, "Versions"): the phone
// names the version it speaks in HeaderProtocol on every request; the
// server names its own on every answer.
const (
	HeaderProtocol  = "Keyline-Protocol"
	ProtocolVersion = "1"
)

// ErrorBody is every error answer: a code from the error table and a
// message safe to show; a clock_off answer adds the server's time.
type ErrorBody struct {
	Error      string `json:"error"`
	Message    string `json:"message"`
	ServerTime int64  `json:"server_time,omitempty"` // Unix seconds, with clock_off
}

// The requests of the small bodies (activation and push answers are
// package enroll's Request and PushAnswer).
type (
	// SessionRequest names an activation by its session ID (offer,
	// migration status).
	SessionRequest struct {
		SessionID string `json:"sid"`
	}
	// PushTokenRequest carries the device's rotated OS push token.
	PushTokenRequest struct {
		PushToken string `json:"push_token"`
	}
	// ConfirmationRequest is the new phone's pairing code, typed on the
	// old one during a migration.
	ConfirmationRequest struct {
		SessionID   string `json:"sid"`
		PairingCode string `json:"pairing_code"`
	}
)

// The answers.
type (
	// OfferAnswer is an offer, as the URI its QR code carries.
	OfferAnswer struct {
		Offer string `json:"offer"`
	}
	// ActivationAnswer completes an activation.
	ActivationAnswer struct {
		DeviceID      string `json:"device_id"`
		ServerConfirm []byte `json:"server_confirm"`
		Paired        bool   `json:"paired"`
	}
	// PromptsAnswer is the sealed prompts waiting for a device.
	PromptsAnswer struct {
		Prompts [][]byte `json:"prompts"`
	}
	// PromptAnswer is one sealed prompt.
	PromptAnswer struct {
		Prompt []byte `json:"prompt"`
	}
	// ResultAnswer is what the server recorded of a push answer.
	ResultAnswer struct {
		Result string `json:"result"`
	}
	// StatusAnswer is where a migration's activation is, and how many
	// pairing codes may still be typed (0 but when completed).
	StatusAnswer struct {
		Status    string `json:"status"`
		TriesLeft int    `json:"tries_left"`
	}
	// DeviceStatusAnswer is what the status call tells a device of
	// itself: "active", or "removed" with the removal time.
	DeviceStatusAnswer struct {
		Status    string `json:"status"`
		RemovedAt int64  `json:"removed_at,omitempty"` // Unix seconds, with "removed"
	}
	// DeviceAnswer names the device a migration paired.
	DeviceAnswer struct {
		DeviceID string `json:"device_id"`
	}
)
