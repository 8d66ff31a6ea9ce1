// Package txn is keyline's transaction model: the withdrawals, transfers
// and trades a phone confirms, their one canonical encoding, the lines
// the phone shows for them, and the OCRA question a confirmation answers.
// PROTOCOL.md (Transactions) specifies the bytes, with known-answer
// vectors in enroll's testdata/transaction_v1.json.
//
// Transaction signing: the phone shows, and answers for, exactly the
// transaction the server will execute.
//
//  1. Server: builds a [Transaction] from the order the user placed,
//     [Transaction.Normalize]s it, stores it with a fresh nonce
//     ([NewNonce]), and shows [QR] (or sends the canonical bytes in a
//     push prompt).
//  2. Phone: [ParseQR] (or [Parse] on the pushed bytes) and shows
//     [Transaction.Display]; if the user confirms, the credential's
//     RespondTransaction (package enroll) answers with OCRA under
//     [Suite] over [Question].
//  3. Server: verifies the response against the transaction and nonce it
//     stored, never against one sent back by a browser, with
//     challenge.NewVerifier(Suite, enroll.TransactionKey(root)); it takes
//     each nonce once, and executes the transaction it stored. Package
//     authn does this.
//
// This package holds no key: it is the model and its encodings. The key
// that answers is the device's, derived in package enroll.
//
// # What it guarantees
//
// The question is a hash of the canonical bytes, and the lines the phone
// shows are computed from those bytes, so a man in the browser who alters
// the QR code makes the phone show his transaction, not the user's: the
// user refuses it, or the response does not verify for the stored one.
//
// Every field is a tag byte and a length-prefixed value, in a fixed
// order; optional fields are omitted when empty, and an empty field in the
// bytes is refused, so each transaction has one encoding and no two
// transactions share one. [Transaction.Canonical] and [Question] refuse a
// transaction that is not in normal form rather than normalising it
// silently: the server must hold, and execute, the very values that were
// signed. [Transaction.Normalize] gives the normal form. [Parse] and
// [ParseQR] are strict inverses of the encoders: what they accept
// re-encodes to the same bytes, and a refusal yields nothing partial.
//
// Every refusal matches [ErrInvalid] and is a *[Error] naming the field
// and the class of fault ([Class]: kind, amount, currency, account,
// instrument, text, control, bidi, format, separator, combining,
// encoding, version); no error quotes a field's value, only, for a
// refused character, its code point and byte offset.
//
// # Text
//
// golang.org/x/text is not a dependency, so text is not normalised to
// NFC: it is refused unless it is NFC already, which is checked without
// normalisation tables by a stricter rule. Beneficiary and memo take
// letters, numbers, punctuation, symbols and U+0020 (Unicode categories L,
// N, P, S), and refuse:
//   - control characters (Cc): [ClassControl];
//   - bidirectional controls (Bidi_Control, all Cf): [ClassBidi];
//   - other format characters (Cf: zero-width joiners and spaces, soft
//     hyphen, tags): [ClassFormat];
//   - line and paragraph separators (Zl, Zp): [ClassSeparator];
//   - combining marks (Mn, Mc, Me): [ClassCombining], so that accented
//     letters are written precomposed, as NFC writes them;
//   - and, with [ClassText]: other spaces than U+0020, private-use,
//     unassigned (in Go's Unicode tables, 15.0.0) and noncharacters,
//     default-ignorable letters (Hangul fillers), conjoining Hangul jamo
//     (NFC composes them; syllables are precomposed), and the 1,103
//     characters that NFC replaces by another even alone (singletons such
//     as U+212B ANGSTROM SIGN, composition exclusions such as U+0958, CJK
//     compatibility ideographs), listed in txnNotNFC;
//   - and, with [ClassText] too, the characters a phone on Unicode 12.0
//     could not check: those not of categories L, N, P, S in Unicode
//     12.0 (new since, such as U+1FAE0 MELTING FACE of 14.0) or default
//     ignorable there. What remains, U+0020 included, is published as
//     enroll/testdata/txn_text_v1.txt, one range a line, for phones in
//     any language; txnAllowed is generated from that file.
//
// Such text is NFC: no accepted character has a combining class other
// than 0 or can compose with a neighbour, and none is changed by NFC on its
// own, so NFC's quick check answers Yes (UAX #15). txnNotNFC is generated
// (go generate, internal/ucdtable) from the Unicode Character Database
// 15.0.0 files in testdata/ucd, which the generator also checks for the
// two other claims; it was checked, for every code point, against
// golang.org/x/text/unicode/norm 15.0.0 too. The Unicode 12.0 data is
// Go 1.14's unicode tables, kept in testdata/ucd12 with its provenance;
// by Unicode's normalization stability policy, a character assigned in
// 12.0 that NFC leaves alone in 15.0 is left alone in 12.0. A test
// requires Go's unicode
// tables, which give the categories, to be of the same version, so that
// a toolchain with newer tables fails the test rather than drift. The
// price: scripts that need combining marks
// (Devanagari, Thai, Hebrew with points, Arabic with harakat) cannot be
// written; Latin, Greek, Cyrillic, CJK, Hangul syllables, Hebrew and
// Arabic letters can. Leading, trailing and doubled spaces are not normal
// (Normalize removes them), since they do not show.
//
// # Security considerations
//
// Account identifiers and instruments are printable ASCII, so that no
// homoglyph from another script can stand in the identifier that decides
// where money goes; IBANs and ISINs must carry valid check digits, so a
// mistyped one is refused rather than shown. Text refuses the characters
// that could make a line display as something it is not (controls, bidi
// controls, invisible characters, separators), and the phone shows each
// line as its own paragraph, so right-to-left text in one cannot reorder
// another. The server must execute the transaction it stored, never one
// a browser sends back, and accept one response per nonce ([NewNonce]
// draws 32 bytes from crypto/rand); this package keeps no memory of
// nonces.
package txn

//go:generate go run gen.go
