package keylinecore

import (
	"testing"

	"github.com/stretchr/testify/require"
)

const goodProfile = `{"v":1,"install_id":"AAECAwQFBgcICQoLDA0ODw","push_token":"fcm:x",` +
	`"accounts":{"00112233445566778899aabbccddeeff":{"server":"https://bank.example/device","paired":true,"pair_by":0,"token_sent":true,"removed_at":0}},` +
	`"servers":{"https://bank.example/device":{"offset":-300}}}`

func TestParseProfile(t *testing.T) {
	p, err := parseProfile([]byte(goodProfile))
	require.NoError(t, err)
	require.Equal(t, int64(-300), p.Servers["https://bank.example/device"].Offset)
	q, err := parseProfile(p.encode())
	require.NoError(t, err)
	require.Equal(t, p, q)
	require.Empty(t, newProfile().check())
	for name, bad := range map[string]string{
		"version":         `{"v":2,"install_id":"AAECAwQFBgcICQoLDA0ODw","push_token":"","accounts":{},"servers":{}}`,
		"install ID":      `{"v":1,"install_id":"short","push_token":"","accounts":{},"servers":{}}`,
		"no maps":         `{"v":1,"install_id":"AAECAwQFBgcICQoLDA0ODw","push_token":""}`,
		"unknown field":   `{"v":1,"install_id":"AAECAwQFBgcICQoLDA0ODw","push_token":"","accounts":{},"servers":{},"x":1}`,
		"trailing":        `{"v":1,"install_id":"AAECAwQFBgcICQoLDA0ODw","push_token":"","accounts":{},"servers":{}} {}`,
		"device ID":       `{"v":1,"install_id":"AAECAwQFBgcICQoLDA0ODw","push_token":"","accounts":{"00112233445566778899AABBCCDDEEFF":{"server":"https://b.example"}},"servers":{}}`,
		"server URL":      `{"v":1,"install_id":"AAECAwQFBgcICQoLDA0ODw","push_token":"","accounts":{"00112233445566778899aabbccddeeff":{"server":"keyline://x"}},"servers":{}}`,
		"offset too big":  `{"v":1,"install_id":"AAECAwQFBgcICQoLDA0ODw","push_token":"","accounts":{},"servers":{"https://b.example":{"offset":86401}}}`,
		"null account":    `{"v":1,"install_id":"AAECAwQFBgcICQoLDA0ODw","push_token":"","accounts":{"00112233445566778899aabbccddeeff":null},"servers":{}}`,
		"negative pairby": `{"v":1,"install_id":"AAECAwQFBgcICQoLDA0ODw","push_token":"","accounts":{"00112233445566778899aabbccddeeff":{"server":"https://b.example","pair_by":-1}},"servers":{}}`,
	} {
		p, err := parseProfile([]byte(bad))
		require.Equal(t, CodeCorrupt, ErrorCode(err), name)
		require.Nil(t, p, name)
	}
}

// FuzzParseProfile: a refused record yields nothing; an accepted one
// encodes to a record that parses to the same profile.
func FuzzParseProfile(f *testing.F) {
	f.Add([]byte(goodProfile))
	f.Add(newProfile().encode())
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := parseProfile(b)
		if err != nil {
			if p != nil {
				t.Fatal("a refused profile returned something")
			}
			return
		}
		q, err := parseProfile(p.encode())
		if err != nil {
			t.Fatalf("an accepted profile does not parse again: %v", err)
		}
		require.Equal(t, p, q)
	})
}

// FuzzParseServers: a backup's servers are accepted only as valid
// account IDs and URLs.
func FuzzParseServers(f *testing.F) {
	f.Add(`{"00112233445566778899aabbccddeeff":"https://bank.example/device"}`)
	f.Add(`{}`)
	f.Add(`{"x":"https://bank.example/"}`)
	f.Fuzz(func(t *testing.T, s string) {
		m, err := parseServers(s)
		if err != nil {
			if m != nil {
				t.Fatal("refused servers returned something")
			}
			return
		}
		for id, u := range m {
			if !deviceIDValid(id) || checkServerURL(u) != nil {
				t.Fatalf("accepted %q: %q", id, u)
			}
		}
	})
}
