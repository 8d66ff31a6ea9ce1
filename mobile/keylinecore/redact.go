package keylinecore

import "strconv"

// The types that carry what is for the user's eyes only (a pairing
// code, a backup passphrase, a session ID) print without it: fmt's
// verbs in Go, toString in Java (gobind's toString calls String), so
// that a log line of the app cannot leak it.

// String describes the offer without its session ID.
func (o Offer) String() string {
	return "Offer{issuer " + strconv.Quote(o.Issuer) + ", account " + strconv.Quote(o.AccountName) +
		", expires " + strconv.FormatInt(o.ExpiresUnix, 10) + "}"
}

// GoString is String.
func (o Offer) GoString() string { return o.String() }

// String describes the activation without its pairing code.
func (a Activation) String() string {
	return "Activation{account " + a.AccountID + ", paired " + strconv.FormatBool(a.Paired) + "}"
}

// GoString is String.
func (a Activation) GoString() string { return a.String() }

// String describes the backup without its passphrase or contents.
func (b Backup) String() string {
	return "Backup{" + strconv.Itoa(len(b.Blob)) + " bytes}"
}

// GoString is String.
func (b Backup) GoString() string { return b.String() }
