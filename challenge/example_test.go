package challenge_test

import (
	"errors"
	"fmt"
	"time"

	"github.com/keyline/keyline/challenge"
)

// The phone's side: answer the 6-digit question shown at login with the
// 8-digit response of the default suite.
func ExampleSuite_Respond() {
	// A real key is the 32-byte secret derived at activation; DO NOT
	// hard-code one. This is RFC 6287's test key.
	key := []byte("12345678901234567890123456789012")
	at := time.Date(2008, 3, 25, 12, 6, 30, 0, time.UTC)

	resp, err := challenge.Default.Respond(key, challenge.Input{Question: "123457", Time: at})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(len(resp), "digits")
	// Output: 8 digits
}

// The server's side: draw a question, and check the phone's response
// within one time step either way of the server's clock.
func ExampleVerifier_Verify() {
	key := []byte("12345678901234567890123456789012") // DO NOT hard-code keys
	verifier, err := challenge.NewVerifier(challenge.Default, key)
	if err != nil {
		fmt.Println(err)
		return
	}
	question := challenge.Default.NewQuestion() // shown on the login page

	// The phone's clock runs 40 seconds fast.
	server := time.Date(2026, 11, 27, 9, 0, 10, 0, time.UTC)
	phone := server.Add(40 * time.Second)
	resp, _ := challenge.Default.Respond(key, challenge.Input{Question: question, Time: phone})

	in := challenge.Input{Question: question, Time: server}
	m, err := verifier.Verify(in, resp, challenge.Window{Behind: 1, Ahead: 1})
	fmt.Println("offset:", m.Offset, "error:", err)

	// A typo is a mismatch; a garbled entry says what is wrong with it.
	_, err = verifier.Verify(in, "0000 0000", challenge.Window{Behind: 1, Ahead: 1})
	fmt.Println(errors.Is(err, challenge.ErrMismatch))
	_, err = verifier.Verify(in, "1234567", challenge.Window{Behind: 1, Ahead: 1})
	fmt.Println(err)
	// Output:
	// offset: 1 error: <nil>
	// true
	// malformed response: has 7 digits, want 8
}

// A suite string parses strictly; a refused one says which part is wrong.
func ExampleParseSuite() {
	s, err := challenge.ParseSuite("OCRA-1:HOTP-SHA512-8:QA10-T1M")
	fmt.Println(s.Hash(), s.Digits(), s.QuestionFormat(), s.QuestionLength(), s.TimeStep(), err)

	_, err = challenge.ParseSuite("OCRA-1:HOTP-SHA256-8:QN99")
	fmt.Println(err)
	// Output:
	// SHA-512 8 alphanumeric 10 1m0s <nil>
	// ocra suite "OCRA-1:HOTP-SHA256-8:QN99": question length 99 out of range 4..64
}

// RFC 6238 TOTP for authenticator apps, checked against its Appendix B.
func ExampleTOTP() {
	totp := challenge.TOTP{Digits: 8} // SHA-1, 30 s
	key := []byte("12345678901234567890")
	code, _ := totp.Code(key, time.Unix(1111111109, 0))
	fmt.Println(code)

	v, _ := totp.NewVerifier(key)
	m, err := v.Verify(time.Unix(1111111109+30, 0), code, challenge.Window{Behind: 1})
	fmt.Println(m.Offset, err)
	// Output:
	// 07081804
	// -1 <nil>
}

// RFC 4226 HOTP with a look-ahead window, as in its §7.4.
func ExampleHOTPVerifier_Verify() {
	key := []byte("12345678901234567890")
	v, _ := challenge.HOTP{}.NewVerifier(key)
	// The token was pressed three times without logging in.
	m, err := v.Verify(0, "969429", challenge.Window{Ahead: 10})
	fmt.Println(m.Step, err)
	// Output: 3 <nil>
}
