package crockford

import "testing"

func TestValuesEncode(t *testing.T) {
	vals, bad := Values("7k3m-9qxd olI")
	if bad != 0 {
		t.Fatalf("bad at %d", bad)
	}
	if got := Encode(vals); got != "7K3M9QXD011" {
		t.Fatalf("Encode(Values) = %q", got)
	}
	if _, bad := Values("AB-U"); bad != 4 {
		t.Fatalf("U (outside the alphabet) reported at %d, want 4", bad)
	}
}
