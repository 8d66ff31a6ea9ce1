//go:build ignore

// gen writes ../testdata/txn_text_v1.txt, the published list of the
// characters transaction text allows, from the Unicode data in
// testdata/ucd and testdata/ucd12, then tables.go from the UCD and from
// that published file: run it with go generate in enroll/txn.
package main

import (
	"log"
	"os"

	"github.com/keyline/keyline/enroll/txn/internal/ucdtable"
)

func main() {
	allowed, err := ucdtable.Allowed("testdata/ucd", "testdata/ucd12/tables.go.txt")
	if err != nil {
		log.Fatal(err)
	}
	const published = "../testdata/txn_text_v1.txt"
	if err := os.WriteFile(published, ucdtable.AllowedFile(allowed), 0o644); err != nil {
		log.Fatal(err)
	}
	// The Go table comes from the published file, not from memory.
	allowed, err = ucdtable.ReadAllowed(published)
	if err != nil {
		log.Fatal(err)
	}
	b, err := ucdtable.Generate("testdata/ucd", allowed)
	if err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile("tables.go", b, 0o644); err != nil {
		log.Fatal(err)
	}
}
