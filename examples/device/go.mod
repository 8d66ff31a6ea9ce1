module github.com/keyline/keyline/examples/device

go 1.26.0

require (
	github.com/keyline/keyline v0.0.0-00010101000000-000000000000
	github.com/keyline/keyline/mobile v0.0.0-00010101000000-000000000000
	golang.org/x/term v0.48.0
)

require (
	github.com/boombuler/barcode v1.0.1-0.20190219062509-6c824513bacc // indirect
	golang.org/x/crypto v0.59.0 // indirect
	golang.org/x/sys v0.50.0 // indirect
)

replace github.com/keyline/keyline => ../..

replace github.com/keyline/keyline/mobile => ../../mobile
