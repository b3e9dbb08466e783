// Recording from Go with pgx: check before the provider call, record its response after it.
// Run from the repository root:  go run examples/go/record.go alice
// (connection from the PG* environment variables; the provider call is simulated with a saved response)
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"

	"github.com/jackc/pgconn"
	"github.com/jackc/pgx/v4"
)

const tenant = "demo-go"

// callProvider stands in for the call to the OpenAI Responses API; it returns the response body.
func callProvider(prompt string) (json.RawMessage, error) {
	saved := os.Getenv("EXAMPLE_RESPONSE")
	if saved == "" {
		saved = "examples/responses/openai_responses.json"
	}
	return os.ReadFile(saved)
}

func answer(ctx context.Context, db *pgx.Conn, user, prompt string) error {
	// 1. Before the call: may this user go ahead?
	var allowed bool
	var metric, period *string
	err := db.QueryRow(ctx,
		"SELECT allowed, metric, period FROM usage_meter.check_limit($1, $2, estimated_cost => 0.01)",
		tenant, user).Scan(&allowed, &metric, &period)
	if err != nil {
		return err
	}
	if !allowed {
		fmt.Printf("refused: %s has reached the %s %s limit\n", user, *period, *metric)
		return nil
	}

	// 2. Call the provider.
	response, err := callProvider(prompt)
	if err != nil {
		return err
	}

	// 3. Record what it reported (cost is numeric: read it as exact text, never as a float).
	var eventID int64
	var cost *string
	var duplicate bool
	err = db.QueryRow(ctx,
		"SELECT event_id, cost::text, duplicate FROM usage_meter.record_response($1, $2, 'agent', 'openai', $3::text::jsonb)",
		tenant, user, string(response)).Scan(&eventID, &cost, &duplicate)
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "22023" {
		// The response could not be read (no usage block, bad counts): nothing was recorded.
		fmt.Printf("not recorded: %s\n", pgErr.Message)
		return nil
	}
	if err != nil {
		return err
	}
	shown := "not priced (no price for the model)"
	if cost != nil {
		shown = *cost + " USD"
	}
	suffix := ""
	if duplicate {
		suffix = " (already recorded)"
	}
	fmt.Printf("recorded event %d: cost %s%s\n", eventID, shown, suffix)
	return nil
}

func main() {
	ctx := context.Background()
	db, err := pgx.Connect(ctx, "")
	if err != nil {
		fmt.Fprintln(os.Stderr, "connection failed:", err)
		os.Exit(1)
	}
	defer db.Close(ctx)
	user := "alice"
	if len(os.Args) > 1 {
		user = os.Args[1]
	}
	if err := answer(ctx, db, user, "Hello"); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
