package directory_test

import (
	"testing"

	"github.com/gatehouse/gatehouse/directory"
	"github.com/gatehouse/gatehouse/directory/storetest"
)

func TestStore(t *testing.T) {
	t.Log(storetest.Skipped())
	for _, d := range storetest.Dialects {
		t.Run(string(d), func(t *testing.T) {
			storetest.RunTests(t, func(t *testing.T) *directory.Store { return storetest.Open(t, d) })
		})
	}
}

func TestSSO(t *testing.T) {
	for _, d := range storetest.Dialects {
		t.Run(string(d), func(t *testing.T) {
			storetest.RunSSOTests(t, func(t *testing.T) *directory.Store { return storetest.Open(t, d) })
		})
	}
}
