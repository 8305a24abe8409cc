// Command fleetprompt runs the FleetPrompt server and its tools.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"fleetprompt/app"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := app.Run(ctx, os.Args[1:], os.Getenv)
	stop()
	os.Exit(code)
}
