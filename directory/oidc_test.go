package directory_test

import (
	"testing"

	"github.com/gatehouse/gatehouse/directory"
	"github.com/gatehouse/gatehouse/directory/storetest"
)

func TestOIDC(t *testing.T) {
	for _, d := range storetest.Dialects {
		t.Run(string(d), func(t *testing.T) {
			storetest.RunOIDCTests(t, func(t *testing.T) *directory.Store { return storetest.Open(t, d) })
		})
	}
}
