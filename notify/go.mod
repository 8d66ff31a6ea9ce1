module github.com/keyline/keyline/notify

go 1.26.0

require (
	github.com/golang-jwt/jwt/v5 v5.3.1
	github.com/keyline/keyline v0.0.0-00010101000000-000000000000
	golang.org/x/oauth2 v0.38.0
)

require (
	cloud.google.com/go/compute/metadata v0.3.0 // indirect
	github.com/boombuler/barcode v1.0.1-0.20190219062509-6c824513bacc // indirect
	golang.org/x/crypto v0.59.0 // indirect
)

replace github.com/keyline/keyline => ..
