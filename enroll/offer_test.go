package enroll

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// Every offer Start makes is one ParseOffer takes back: labels whose
// percent-encoding would overflow the URI are refused at Start.
func TestStartRefusesOffersTooLongForTheURI(t *testing.T) {
	long := strings.Repeat("ü", 128) // 256 bytes, 768 once percent-encoded
	_, err := Start(long, long, StartOptions{AccountName: long, Now: t0})
	require.ErrorIs(t, err, ErrInvalidInput)

	p, err := Start(strings.Repeat("a", 256), strings.Repeat("b", 256), StartOptions{AccountName: strings.Repeat("c", 256), Now: t0})
	require.NoError(t, err)
	o, err := ParseOffer(p.Offer().URI())
	require.NoError(t, err)
	require.Equal(t, p.Offer(), o)
}
