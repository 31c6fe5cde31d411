package load_test

import (
	"context"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/api"
	"github.com/gatehouse/gatehouse/api/apitest"
	"github.com/gatehouse/gatehouse/directory"
	"github.com/gatehouse/gatehouse/load"
)

// A server that rate limits the tool shows up in the report as 429s with
// the way out, not as a gateway failing under load.
func TestA429IsReportedWithHowToTurnTheLimitsOff(t *testing.T) {
	stack := apitest.Start(t, directory.SQLite, api.Config{RateLimits: api.RateLimits{
		SCIMAddress: api.RateLimit{PerSecond: 0.001, Burst: 3}}})
	o := small(stack.URL, stack.Admin)
	o.Scenarios = []string{"scim-sync"}
	rep, err := load.Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	page := rep.Markdown()
	if !strings.Contains(page, "429") || !strings.Contains(page, "--scim-address-rate=0") || !strings.Contains(page, "--start") {
		t.Errorf("the report of a rate-limited run does not say how to turn the limits off:\n%s", page)
	}
}
