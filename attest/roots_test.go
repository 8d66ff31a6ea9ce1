package attest

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/pem"
	"strings"
	"testing"
)

// TestShippedRoots pins the shipped roots by SHA-256 fingerprint (the
// vendors' pages list them; roots/README.md) and checks that ParseRoots
// takes each file.
func TestShippedRoots(t *testing.T) {
	for _, tc := range []struct {
		name string
		pem  []byte
		want []string
	}{
		{"apple", appleRootsPEM, []string{"1cb9823ba28ba6ad2d33a006941de2ae4f513ef1d4e831b9f7e0fa7b6242c932"}},
		{"google", googleRootsPEM, []string{
			"cedb1cb6dc896ae5ec797348bce9286753c2b38ee71ce0fbe34a9a1248800dfc", // RSA, 2022-2042
			"1ef1a04b8ba58ab94589ac498c8982a783f24ea7307e0159a0c3a73b377d87cc", // RSA, 2019-2034
			"ab6641178a36e179aa0c1cdddf9a16eb45fa20943e2b8cd7c7c05c26cf8b487a", // RSA, 2021-2036
			"c1984a3ef45c1e2a918551de10603c86f7051b2249c4891cae3230eabd0c97d5", // RSA, 2016-2026
			"6d9db4ce6c5c0b293166d08986e05774a8776ceb525d9e4329520de12ba4bcc0", // ECDSA P-384 Key Attestation CA1, 2025-2035
		}},
	} {
		var got []string
		for b := tc.pem; ; {
			var blk *pem.Block
			if blk, b = pem.Decode(b); blk == nil {
				break
			}
			sum := sha256.Sum256(blk.Bytes)
			got = append(got, hex.EncodeToString(sum[:]))
		}
		if strings.Join(got, " ") != strings.Join(tc.want, " ") {
			t.Errorf("%s: fingerprints %v", tc.name, got)
		}
		if _, err := ParseRoots(tc.pem); err != nil {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
	if AppleRoots() == nil || GoogleRoots() == nil {
		t.Fatal("no pool")
	}
	for _, bad := range []string{"", "no PEM here", "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
		"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"} {
		if _, err := ParseRoots([]byte(bad)); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// TestParseRootsRefusesLeaf: a certificate that is not a self-signed CA
// is not a root.
func TestParseRootsRefusesLeaf(t *testing.T) {
	root := newRoot(t, "r")
	inter := root.intermediate(t, "i")
	leaf := inter.leaf(t, newKey(t))
	for _, c := range [][]byte{inter.cert.Raw, leaf.Raw} {
		if _, err := ParseRoots(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c})); err == nil {
			t.Error("accepted")
		}
	}
	if _, err := ParseRoots(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: root.cert.Raw})); err != nil {
		t.Error(err)
	}
}
