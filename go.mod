module github.com/keyline/keyline

go 1.26

require github.com/stretchr/testify v1.12.1

require (
	github.com/boombuler/barcode v1.0.1-0.20190219062509-6c824513bacc // indirect
	github.com/pquerna/otp v1.5.0 // indirect
	go.yaml.in/yaml/v3 v3.0.5 // indirect
)
