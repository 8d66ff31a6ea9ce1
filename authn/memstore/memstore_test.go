package memstore_test

import (
	"testing"

	"github.com/keyline/keyline/authn"
	"github.com/keyline/keyline/authn/memstore"
	"github.com/keyline/keyline/authn/storetest"
)

// TestConformance runs the Store conformance suite on memstore.
func TestConformance(t *testing.T) {
	storetest.Run(t, func(testing.TB) authn.Store { return memstore.New() })
	storetest.RunService(t, func(testing.TB) storetest.Stores { return storetest.Both(memstore.New()) })
}
