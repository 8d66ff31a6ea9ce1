package crockford

// Check is the Luhn mod N check character (N = 32) of vals, 5-bit values:
// it catches every single-character error and most transpositions of
// adjacent characters. Session IDs and vault passphrases end in it.
func Check(vals []byte) byte {
	factor, sum := 2, 0
	for i := len(vals) - 1; i >= 0; i-- {
		addend := factor * int(vals[i])
		if factor == 2 {
			factor = 1
		} else {
			factor = 2
		}
		sum += addend/32 + addend%32
	}
	return byte((32 - sum%32) % 32)
}
