// Command gatehouse is the one Gatehouse binary: the server, migrations and
// the bootstrap commands an operator needs before the API is reachable.
//
// Every flag has an environment equivalent: GATEHOUSE_ followed by the flag
// name in capitals with dashes as underscores (--database-url is
// GATEHOUSE_DATABASE_URL). A flag given on the command line wins over the
// environment.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "gatehouse:", err)
		os.Exit(1)
	}
}

// run executes the command line args, writing to stdout and stderr.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	root := newRootCommand(stdout, stderr)
	root.SetArgs(args)
	return root.ExecuteContext(ctx)
}
