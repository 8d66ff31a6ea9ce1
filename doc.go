// Package keyline holds the meanings that more than one of keyline's
// layers reports, each as one error value with a neutral text: the same
// value whether package challenge, enroll or authn returns it, on the
// server or on the phone (package enroll/deviceclient reads the device
// API's error codes back into these values). Every package re-exports the
// values it returns under the same name ([authn.ErrExpired] is
// [ErrExpired]), as os.ErrNotExist is fs.ErrNotExist, so that
// [errors.Is] holds across the layers.
//
// A package wraps a shared value with the word of its own path, with %w:
// an expired login challenge reads "challenge expired", an expired
// activation "activation expired"; both match [ErrExpired]. A meaning
// that belongs to one package stays a value of that package, its text
// prefixed with the package's name, unless the package documents the text
// as safe to show to the person logging in.
//
// The package imports only the standard library. An application may name
// a value here or through the package it calls: both are the same value.
//
// [authn.ErrExpired]: https://pkg.go.dev/github.com/keyline/keyline/authn#ErrExpired
package keyline
