"""Recording from Python with psycopg 3: check before the provider call, record its response after it; or record
a whole spend log in one call (a periodic sync).

Run from the repository root:  python3 examples/python/record.py alice
                               python3 examples/python/record.py --batch
(connection from the PG* environment variables; the provider call is simulated with a saved response, the spend
log with examples/spend_log.json)
"""
import json
import os
import sys
from decimal import Decimal

import psycopg
from psycopg.types.json import Jsonb

TENANT = "demo-python"


def call_provider(prompt):
    # Stands in for: client.messages.create(...).model_dump()  (anthropic SDK)
    with open(os.environ.get("EXAMPLE_RESPONSE", "examples/responses/anthropic_message.json")) as f:
        return json.load(f)


def answer(conn, user, prompt):
    # 1. Before the call: may this user go ahead?
    allowed, metric, period = conn.execute(
        "SELECT allowed, metric, period FROM usage_meter.check_limit(%s, %s, estimated_cost => %s)",
        (TENANT, user, Decimal("0.01")),
    ).fetchone()
    if not allowed:
        print(f"refused: {user} has reached the {period} {metric} limit")
        return None

    # 2. Call the provider.
    response = call_provider(prompt)

    # 3. Record what it reported: normalized, priced and counted once per response id.
    try:
        event_id, cost, duplicate = conn.execute(
            "SELECT event_id, cost, duplicate FROM usage_meter.record_response(%s, %s, %s, %s, %s)",
            (TENANT, user, "chat", "anthropic", Jsonb(response)),
        ).fetchone()
        print(f"recorded event {event_id}: cost {cost} USD{' (already recorded)' if duplicate else ''}")
    except psycopg.errors.InvalidParameterValue as e:
        # The response could not be read (no usage block, bad counts): nothing was recorded.
        print(f"not recorded: {e.diag.message_primary}")
    return response


def sync(conn):
    # A spend log (here LiteLLM's shape), as a periodic sync reads it from a gateway or a provider's usage export.
    with open(os.environ.get("EXAMPLE_SPEND_LOG", "examples/spend_log.json")) as f:
        log = json.load(f)
    # One element per line, with usage_record's argument names; the request id makes a re-run count nothing twice.
    events = [{"user_id": line["user"], "operation": "chat", "model": line["model"],
               "provider": line["custom_llm_provider"], "input_tokens": line["prompt_tokens"],
               "output_tokens": line["completion_tokens"], "occurred_at": line["startTime"],
               "idempotency_key": line["request_id"]} for line in log]
    try:
        # One call, one statement: every line is recorded, in order, or (on a refusal) none is.
        rows = conn.execute(
            "SELECT event_id, cost, duplicate FROM usage_meter.usage_record_batch(%s, %s)",
            (TENANT, Jsonb(events)),
        ).fetchall()
        new = [cost for _, cost, duplicate in rows if not duplicate]
        print(f"batch: {len(rows)} events, {len(new)} new, {len(rows) - len(new)} already recorded, "
              f"new cost {sum(new, Decimal(0))} USD")
    except psycopg.errors.InvalidParameterValue as e:
        # A line that cannot be recorded is named by its index ("element 1: ..."): nothing was recorded.
        print(f"not recorded: {e.diag.message_primary}")


if __name__ == "__main__":
    with psycopg.connect(autocommit=True) as conn:
        if sys.argv[1:] == ["--batch"]:
            sync(conn)
        else:
            answer(conn, sys.argv[1] if len(sys.argv) > 1 else "alice", "Hello")
