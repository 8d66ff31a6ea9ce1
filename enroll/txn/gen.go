//go:build ignore

// gen writes tables.go from the Unicode Character Database files in
// testdata/ucd: run it with go generate in enroll/txn.
package main

import (
	"log"
	"os"

	"github.com/keyline/keyline/enroll/txn/internal/ucdtable"
)

func main() {
	b, err := ucdtable.Generate("testdata/ucd")
	if err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile("tables.go", b, 0o644); err != nil {
		log.Fatal(err)
	}
}
