package directory_test

import (
	"testing"

	"github.com/gatehouse/gatehouse/directory"
	"github.com/gatehouse/gatehouse/directory/storetest"
)

func TestProvision(t *testing.T) {
	t.Log(storetest.Skipped())
	for _, d := range storetest.Dialects {
		t.Run(string(d), func(t *testing.T) {
			storetest.RunProvisionTests(t, func(t *testing.T) *directory.Store { return storetest.Open(t, d) })
		})
	}
}
