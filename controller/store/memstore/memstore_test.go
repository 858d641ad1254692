package memstore_test

import (
	"testing"

	"hotline/controller/store"
	"hotline/controller/store/memstore"
	"hotline/controller/store/storetest"
)

// TestConformance holds the fake to the same contract as the real stores,
// so the api tests built on it see the errors a database gives.
func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return memstore.New(nil) })
}
