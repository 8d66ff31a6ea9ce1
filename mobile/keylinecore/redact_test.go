package keylinecore_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/keyline/keyline/mobile/keylinecore"
)

// What is for the user's eyes only does not print with any verb.
func TestNoTypePrintsSecrets(t *testing.T) {
	const sid, code, pass, blob = "ABCD-EFGH-JKMN-PQRS-T", "493817", "7K3M9-QXD2H-FAW4Z-NP8RT-C6V1E", "SEALEDBLOB"
	offer := keylinecore.Offer{URI: "keyline://activate?sid=" + sid, SessionID: sid, Issuer: "Example Bank"}
	act := keylinecore.Activation{AccountID: "00112233445566778899aabbccddeeff", PairingCode: code}
	backup := keylinecore.Backup{Blob: []byte(blob), Passphrase: pass, Servers: "{}"}
	for _, v := range []any{offer, &offer, act, &act, backup, &backup} {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q"} {
			out := fmt.Sprintf(verb, v)
			for _, secret := range []string{sid, code, pass, blob} {
				if strings.Contains(out, secret) {
					t.Errorf("%T with %s prints %q", v, verb, out)
				}
			}
		}
	}
}
