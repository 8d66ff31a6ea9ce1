package deviceapi

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/keyline/keyline/enroll"
)

// The activation requests and push answers of
// enroll/testdata/refusals_v1.json, as the handler reads a body: each
// refused one is 400 bad_request (PROTOCOL.md, "Refusals"), each
// accepted one decodes.
func TestRequestBodyRefusals(t *testing.T) {
	b, err := os.ReadFile("../../enroll/testdata/refusals_v1.json")
	require.NoError(t, err)
	var file struct {
		PushAnswers struct {
			Cases []struct {
				Rule     string `json:"rule"`
				Input    string `json:"input"`
				InputHex string `json:"input_hex"`
				Error    string `json:"error"`
			} `json:"cases"`
		} `json:"push_answers"`
		ActivationRequests struct {
			Cases []struct {
				Rule     string `json:"rule"`
				Input    string `json:"input"`
				InputHex string `json:"input_hex"`
				Error    string `json:"error"`
			} `json:"cases"`
		} `json:"activation_requests"`
	}
	require.NoError(t, json.Unmarshal(b, &file))
	require.NotEmpty(t, file.ActivationRequests.Cases)
	for _, c := range file.ActivationRequests.Cases {
		body := []byte(c.Input)
		if c.InputHex != "" {
			body, err = hex.DecodeString(c.InputHex)
			require.NoError(t, err)
		}
		var req enroll.Request
		err := decodeStrict(body, shapeActivate, &req)
		if c.Error == "" {
			require.NoError(t, err, c.Rule)
			continue
		}
		require.Error(t, err, c.Rule)
		require.Equal(t, "bad_request", classify(err).code, c.Rule)
		require.True(t, errors.Is(err, errBadRequest) || errors.Is(err, enroll.ErrInvalidRequest), c.Rule)
	}
	require.NotEmpty(t, file.PushAnswers.Cases)
	for _, c := range file.PushAnswers.Cases {
		body := []byte(c.Input)
		if c.InputHex != "" {
			body, err = hex.DecodeString(c.InputHex)
			require.NoError(t, err)
		}
		var a enroll.PushAnswer
		err := decodeStrict(body, shapeAnswer, &a)
		if c.Error == "" {
			require.NoError(t, err, c.Rule)
			continue
		}
		require.Error(t, err, c.Rule)
		require.Equal(t, "bad_request", classify(err).code, c.Rule)
	}
}
