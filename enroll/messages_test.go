package enroll

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/keyline/keyline/internal/devicewire"
)

// Positive vectors of every JSON message of the device API (PROTOCOL.md
// §10), testdata/messages_v1.json: for each endpoint, a request body and
// an answer, built from the values of protocol_v1.json's and
// push_v1.json's first vectors. Regenerate with
//
//	go test ./enroll -run TestMessageVectors -update
//
// The test requires the file to equal what the types write, and every
// body to decode into its type and encode back to the same bytes.

type messageVector struct {
	Name     string          `json:"name"`
	Method   string          `json:"method"`
	Path     string          `json:"path"`
	Request  json.RawMessage `json:"request,omitempty"` // absent: no body
	Status   int             `json:"status"`
	Answer   json.RawMessage `json:"answer,omitempty"` // absent: no body
	reqValue any
	ansValue any
}

func buildMessages(t *testing.T) []messageVector {
	in := katInputs[0].Input
	c, e := refusalActivation(t, in)
	offer := ""
	{
		var kat struct {
			Vectors []katVector `json:"vectors"`
		}
		b, err := os.ReadFile(filepath.Join("testdata", "protocol_v1.json"))
		require.NoError(t, err)
		require.NoError(t, json.Unmarshal(b, &kat))
		offer = kat.Vectors[0].Output.OfferURI
	}
	// The request of the first vector, as the phone made it.
	reqCases := requestCases(t)
	require.Empty(t, reqCases[0].Error)
	var req Request
	require.NoError(t, req.UnmarshalJSON([]byte(reqCases[0].Input)))

	push := pushVecInputs[0].Input
	pc := pushVecCredential(t, push)
	keys := DeriveKeys(Secret(mustHex(t, push.RootSecret)), pc.Suite())
	wire, err := SealPrompt(keys, pushVecPrompt(t, push))
	require.NoError(t, err)
	var pushOut struct {
		Vectors []pushVector `json:"vectors"`
	}
	b, err := os.ReadFile(filepath.Join("testdata", "push_v1.json"))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, &pushOut))
	var answer PushAnswer
	require.NoError(t, answer.UnmarshalJSON([]byte(pushOut.Vectors[0].Output.AnswerJSON)))

	sid := e.Device.SessionID
	return []messageVector{
		{Name: "fetch an offer by its typed session ID", Method: "POST", Path: devicewire.PathOffer, Status: 200,
			reqValue: devicewire.SessionRequest{SessionID: sid}, ansValue: devicewire.OfferAnswer{Offer: offer}},
		{Name: "activate (protocol_v1.json's first vector)", Method: "POST", Path: devicewire.PathActivate, Status: 200,
			reqValue: req, ansValue: devicewire.ActivationAnswer{DeviceID: e.Device.ID, ServerConfirm: e.ServerConfirm}},
		{Name: "list pending pushes (push_v1.json's first prompt)", Method: "GET", Path: devicewire.PathPushes, Status: 200,
			ansValue: devicewire.PromptsAnswer{Prompts: [][]byte{wire}}},
		{Name: "list pending pushes: none", Method: "GET", Path: devicewire.PathPushes, Status: 200,
			ansValue: devicewire.PromptsAnswer{Prompts: [][]byte{}}},
		{Name: "fetch one prompt: GET /v1/push?id=req-7f3a9c", Method: "GET", Path: devicewire.PathPush, Status: 200,
			ansValue: devicewire.PromptAnswer{Prompt: wire}},
		{Name: "answer a push (push_v1.json's first answer)", Method: "POST", Path: devicewire.PathPushAnswer, Status: 200,
			reqValue: answer, ansValue: devicewire.ResultAnswer{Result: "approved"}},
		{Name: "update the push token", Method: "POST", Path: devicewire.PathPushToken, Status: 204,
			reqValue: devicewire.PushTokenRequest{PushToken: "fcm:APA91bH-example"}},
		{Name: "start a migration: the answer is the new activation's offer", Method: "POST", Path: devicewire.PathMigration, Status: 200,
			reqValue: struct{}{}, ansValue: devicewire.OfferAnswer{Offer: offer}},
		{Name: "poll a migration", Method: "POST", Path: devicewire.PathMigrationStatus, Status: 200,
			reqValue: devicewire.SessionRequest{SessionID: sid}, ansValue: devicewire.StatusAnswer{Status: "completed", TriesLeft: 3}},
		{Name: "confirm a migration with the new phone's pairing code", Method: "POST", Path: devicewire.PathMigrationConfirm, Status: 200,
			reqValue: devicewire.ConfirmationRequest{SessionID: sid, PairingCode: c.keys.PairingCode(e.Device.ID)},
			ansValue: devicewire.DeviceAnswer{DeviceID: e.Device.ID}},
		{Name: "ask the device's status: active", Method: "GET", Path: devicewire.PathDeviceStatus, Status: 200,
			ansValue: devicewire.DeviceStatusAnswer{Status: "active"}},
		{Name: "ask the device's status: removed (revoked or replaced), with when", Method: "GET", Path: devicewire.PathDeviceStatus, Status: 200,
			ansValue: devicewire.DeviceStatusAnswer{Status: "removed", RemovedAt: 1795770000}},
		{Name: "an error answer", Method: "POST", Path: devicewire.PathPushAnswer, Status: 410,
			ansValue: devicewire.ErrorBody{Error: "expired", Message: "the push request expired"}},
	}
}

func TestMessageVectors(t *testing.T) {
	path := filepath.Join("testdata", "messages_v1.json")
	vs := buildMessages(t)
	for i := range vs {
		if vs[i].reqValue != nil {
			vs[i].Request = marshalPlain(t, vs[i].reqValue)
		}
		if vs[i].ansValue != nil {
			vs[i].Answer = marshalPlain(t, vs[i].ansValue)
		}
	}
	type file struct {
		Note     string          `json:"note"`
		Messages []messageVector `json:"messages"`
	}
	f := file{Note: "keyline device API v1: a request body and an answer for every endpoint, as the Go types write them (byte strings in standard base64 with padding); see PROTOCOL.md §10. Generated by enroll/messages_test.go; do not edit.", Messages: vs}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	require.NoError(t, enc.Encode(f))
	if *update {
		require.NoError(t, os.WriteFile(path, buf.Bytes(), 0o644))
	}
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	require.Equal(t, buf.String(), string(b), "testdata/messages_v1.json is stale: regenerate it with -update")

	// Every body decodes into its type and encodes back to the same bytes.
	for _, v := range vs {
		for _, m := range []struct {
			raw json.RawMessage
			val any
		}{{v.Request, v.reqValue}, {v.Answer, v.ansValue}} {
			if m.val == nil {
				continue
			}
			p := reflect.New(reflect.TypeOf(m.val))
			require.NoError(t, json.Unmarshal(m.raw, p.Interface()), v.Name)
			require.Equal(t, string(m.raw), string(marshalPlain(t, p.Elem().Interface())), v.Name)
		}
	}
}

// marshalPlain is json.Marshal without HTML escaping, so that an offer's
// '&' reads as itself.
func marshalPlain(t *testing.T, v any) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	require.NoError(t, enc.Encode(v))
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}
