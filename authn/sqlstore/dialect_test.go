package sqlstore

import "testing"

func TestDialectPrintsItsName(t *testing.T) {
	for d, want := range map[Dialect]string{SQLite: "sqlite", PostgreSQL: "postgresql", 0: "Dialect(0)", 7: "Dialect(7)"} {
		if got := d.String(); got != want {
			t.Errorf("Dialect(%d).String() = %q, want %q", int(d), got, want)
		}
	}
}
