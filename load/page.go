package load

import (
	"bytes"
	"fmt"
	"os"
	"strings"
)

// notesMarker starts the part of the report page written by hand, which
// WritePage keeps when it rewrites the page.
const notesMarker = "<!-- Notes below this line are written by hand; gatehouse load keeps them. -->"

// WritePage writes the whole report page to path: the machine, the
// commands, the tables and the targets, then the notes already under the
// marker in the file, if any.
func (r Report) WritePage(path string) error {
	notes := notesMarker + "\n"
	if old, err := os.ReadFile(path); err == nil {
		if i := bytes.Index(old, []byte(notesMarker)); i >= 0 {
			notes = string(old[i:])
		}
	}
	return os.WriteFile(path, []byte(r.page()+"\n"+notes), 0o644)
}

func (r Report) page() string {
	var b strings.Builder
	m := r.Machine
	b.WriteString("# Benchmarks\n\n")
	b.WriteString("Written by `gatehouse load` (`make load`); the figures below are from the run of " +
		r.Started.Format("2006-01-02 15:04 UTC") + ". The load tool runs on the same machine as the server " +
		"and takes part of its CPU.\n\n")
	b.WriteString("## Machine\n\n")
	fmt.Fprintf(&b, "- CPU: %s, %d cores\n- Memory: %s MiB\n- OS: %s\n- Go: %s\n", m.CPU, m.Cores, thousands(int(m.MemoryMiB)), m.OS, m.Go)
	if m.PostgreSQL != "" {
		fmt.Fprintf(&b, "- PostgreSQL: %s, on the same machine\n", m.PostgreSQL)
	}
	b.WriteString("\n## Command\n\n`make load` builds the binary and runs it as:\n\n```sh\n" + r.Command + "\n```\n\n")
	z := r.Sizes
	fmt.Fprintf(&b, "## Sizes\n\n- scim-sync, per dialect: %s users, %s groups, %s memberships added %d members a PATCH\n",
		thousands(z.Users), thousands(z.Groups), thousands(z.Memberships), z.MemberBatch)
	fmt.Fprintf(&b, "- scim-churn: a group of %s members and %d groups of %d; the organization holds at least %s groups for the listings\n",
		thousands(z.LargeGroup), z.SmallGroups, z.SmallGroupSize, thousands(listedGroups))
	fmt.Fprintf(&b, "- check: %d teams of %d members, %d stack grants per team, batches of %s checks\n\n",
		z.Teams, z.TeamMembers, z.TeamGrants, thousands(z.CheckBatch))
	b.WriteString("## Results\n\nThe targets at the end are judged at these sizes. Latencies are timed by the client, " +
		"from sending a request to the end of its answer.\n\n")
	b.WriteString(r.Markdown())
	return b.String()
}
