package authn

import (
	"runtime"
	"testing"
	"time"
)

// The records of AuthenticatedDevices go with them: once the values are
// garbage, the cleanups delete their records.
func TestIssuedDevicesAreDropped(t *testing.T) {
	s := &Service{}
	count := func() int {
		n := 0
		issuedDevices.Range(func(_, v any) bool {
			if v.(issuedDevice).s == s {
				n++
			}
			return true
		})
		return n
	}
	kept := s.newAuthenticatedDevice(Device{ID: "kept", User: "u"}, time.Now())
	for range 1000 {
		s.newAuthenticatedDevice(Device{ID: "d", User: "u"}, time.Now())
	}
	if n := count(); n != 1001 {
		t.Fatalf("%d records; want 1001", n)
	}
	for range 100 {
		runtime.GC()
		if count() == 1 {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if n := count(); n != 1 {
		t.Fatalf("%d records after the values were collected; want 1 (the one still held)", n)
	}
	if !kept.genuine() {
		t.Fatal("the value still held lost its record")
	}
	runtime.KeepAlive(kept)
}
