"""Recording from Python with psycopg 3: check before the provider call, record its response after it.

Run from the repository root:  python3 examples/python/record.py alice
(connection from the PG* environment variables; the provider call is simulated with a saved response)
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


if __name__ == "__main__":
    with psycopg.connect(autocommit=True) as conn:
        answer(conn, sys.argv[1] if len(sys.argv) > 1 else "alice", "Hello")
