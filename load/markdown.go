package load

import (
	"fmt"
	"strconv"
	"strings"
)

// databaseTitle names a run's server for people.
func (r ServerRun) title() string {
	switch r.Database {
	case "sqlite":
		return "SQLite"
	case "postgres":
		return "PostgreSQL"
	}
	return r.URL
}

// Markdown renders every run's table, the targets and the errors.
func (r Report) Markdown() string {
	var b strings.Builder
	for _, run := range r.Runs {
		writeRun(&b, run)
	}
	writeTargets(&b, r)
	return b.String()
}

func writeRun(b *strings.Builder, run ServerRun) {
	fmt.Fprintf(b, "### %s\n\n", run.title())
	if run.PeakRSSBytes > 0 {
		fmt.Fprintf(b, "Server resident memory: peak %d MiB.", run.PeakRSSBytes>>20)
		if p := run.lastPhase(); p.RSSBytes > 0 {
			fmt.Fprintf(b, " After the last phase: %d MiB.", p.RSSBytes>>20)
		}
		b.WriteString("\n\n")
	}
	if run.LoadBefore != "" {
		fmt.Fprintf(b, "Load average of the machine before the run (1, 5, 15 minutes): %s.\n\n", run.LoadBefore)
	}
	if run.Failure != "" {
		fmt.Fprintf(b, "**The run stopped early:** %s\n\n", run.Failure)
	}
	b.WriteString("| Scenario | Phase | Request | Clients | Requests | Per second | p50 ms | p95 ms | p99 ms | max ms | Errors |\n")
	b.WriteString("|---|---|---|--:|--:|--:|--:|--:|--:|--:|--:|\n")
	for _, p := range run.Phases {
		if p.Setup {
			continue
		}
		for i, k := range p.Kinds {
			scenario, name := "", ""
			if i == 0 {
				scenario, name = p.Scenario, p.Name
			}
			writeKindRow(b, scenario, name, k, p.Concurrency, false)
		}
		if p.Total != nil {
			writeKindRow(b, "", "", *p.Total, p.Concurrency, true)
		}
	}
	b.WriteString("\n")
	writeSetups(b, run)
	writeAllowed(b, run)
	writeErrors(b, run)
}

func writeKindRow(b *strings.Builder, scenario, phase string, k Kind, clients int, total bool) {
	name, requests, rate := "`"+k.Name+"`", thousands(k.Requests), thousands(int(k.PerSecond+0.5))
	if total {
		name, requests, rate = "**all requests**", "**"+requests+"**", "**"+rate+"**"
	}
	if k.Items > 1 {
		rate += fmt.Sprintf(" (%s checks/s)", thousands(int(k.PerSecond*float64(k.Items)+0.5)))
	}
	fmt.Fprintf(b, "| %s | %s | %s | %d | %s | %s | %s | %s | %s | %s | %d |\n", scenario, phase, name, clients,
		requests, rate, ms(k.P50), ms(k.P95), ms(k.P99), ms(k.Max), k.ErrorCount())
}

func writeSetups(b *strings.Builder, run ServerRun) {
	first := true
	for _, p := range run.Phases {
		if !p.Setup {
			continue
		}
		if first {
			b.WriteString("Setup, not timed as a target:\n\n")
			first = false
		}
		fmt.Fprintf(b, "- %s %s: %s requests in %.1f s (%s/s), %d errors\n", p.Scenario, p.Name,
			thousands(p.Requests), p.Seconds, thousands(int(p.PerSecond+0.5)), p.Errors)
	}
	if !first {
		b.WriteString("\n")
	}
}

func writeAllowed(b *strings.Builder, run ServerRun) {
	for _, p := range run.Phases {
		for _, k := range p.Kinds {
			if p.Scenario == "check" && !p.Setup && k.Requests > 0 {
				fmt.Fprintf(b, "- check %s: %.0f%% of the decisions allowed\n", p.Name,
					100*float64(k.Allowed)/float64(k.Requests*max(k.Items, 1)))
			}
		}
	}
	b.WriteString("\n")
}

func writeErrors(b *strings.Builder, run ServerRun) {
	if run.Errors() == 0 {
		b.WriteString("No unexpected answers.\n\n")
		return
	}
	b.WriteString("Unexpected answers:\n\n")
	for _, p := range run.Phases {
		for _, k := range p.Kinds {
			for _, e := range k.Errors {
				status := strconv.Itoa(e.Status)
				if e.Status == 0 {
					status = "no answer"
				}
				fmt.Fprintf(b, "- %s %s `%s`: %d × %s, for example `%s`\n", p.Scenario, p.Name, k.Name, e.Count, status,
					strings.ReplaceAll(strings.TrimSpace(e.Sample), "`", "'"))
			}
		}
	}
	b.WriteString("\n")
}

func (r ServerRun) lastPhase() Phase {
	if len(r.Phases) == 0 {
		return Phase{}
	}
	return r.Phases[len(r.Phases)-1]
}

// ms formats milliseconds with two significant decimals below 10.
func ms(v float64) string {
	if v < 10 {
		return strconv.FormatFloat(v, 'f', 2, 64)
	}
	return strconv.FormatFloat(v, 'f', 1, 64)
}

// thousands formats n with comma separators.
func thousands(n int) string {
	s := strconv.Itoa(n)
	if n < 0 {
		return "-" + thousands(-n)
	}
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
