// Recording from Node.js with node-postgres (pg): check before the provider call, record its response after it; or
// record a whole spend log in one call (a periodic sync).
// Run from the repository root:  node examples/node/record.js alice
//                                node examples/node/record.js --batch
// (connection from the PG* environment variables; the provider call is simulated with a saved response, the spend
// log with examples/spend_log.json)
const fs = require('fs');
const { Client } = require('pg');

const TENANT = 'demo-node';

// Stands in for: await openrouter.chat.completions.create({...})
async function callProvider(prompt) {
  const saved = process.env.EXAMPLE_RESPONSE || 'examples/responses/openrouter_chat_completion.json';
  return JSON.parse(fs.readFileSync(saved, 'utf8'));
}

async function answer(db, user, prompt) {
  // 1. Before the call: may this user go ahead?
  const { rows: [limit] } = await db.query(
    'SELECT allowed, metric, period FROM usage_meter.check_limit($1, $2, estimated_cost => $3)',
    [TENANT, user, '0.01']);
  if (!limit.allowed) {
    console.log(`refused: ${user} has reached the ${limit.period} ${limit.metric} limit`);
    return null;
  }

  // 2. Call the provider.
  const response = await callProvider(prompt);

  // 3. Record what it reported (pg sends the object as JSON; numeric comes back as an exact string).
  try {
    const { rows: [event] } = await db.query(
      "SELECT event_id, cost, duplicate FROM usage_meter.record_response($1, $2, 'chat', 'auto', $3)",
      [TENANT, user, response]);
    console.log(`recorded event ${event.event_id}: cost ${event.cost} USD${event.duplicate ? ' (already recorded)' : ''}`);
  } catch (err) {
    if (err.code !== '22023') throw err;
    // The response could not be read (no usage block, bad counts): nothing was recorded.
    console.log(`not recorded: ${err.message}`);
  }
  return response;
}

async function sync(db) {
  // A spend log (here LiteLLM's shape), as a periodic sync reads it from a gateway or a provider's usage export.
  const saved = process.env.EXAMPLE_SPEND_LOG || 'examples/spend_log.json';
  const log = JSON.parse(fs.readFileSync(saved, 'utf8'));
  // One element per line, with usage_record's argument names; the request id makes a re-run count nothing twice.
  const events = log.map((line) => ({
    user_id: line.user, operation: 'chat', model: line.model, provider: line.custom_llm_provider,
    input_tokens: line.prompt_tokens, output_tokens: line.completion_tokens, occurred_at: line.startTime,
    idempotency_key: line.request_id,
  }));
  try {
    // One call, one statement: every line is recorded, in order, or (on a refusal) none is. pg would send a
    // JavaScript array as a PostgreSQL array: send the JSON text.
    const { rows } = await db.query(
      'SELECT event_id, cost, duplicate FROM usage_meter.usage_record_batch($1, $2)',
      [TENANT, JSON.stringify(events)]);
    const fresh = rows.filter((row) => !row.duplicate);
    console.log(`batch: ${rows.length} events, ${fresh.length} new, ${rows.length - fresh.length} already recorded`);
  } catch (err) {
    if (err.code !== '22023') throw err;
    // A line that cannot be recorded is named by its index ("element 1: ..."): nothing was recorded.
    console.log(`not recorded: ${err.message}`);
  }
}

async function main() {
  const db = new Client();
  await db.connect();
  try {
    if (process.argv[2] === '--batch') await sync(db);
    else await answer(db, process.argv[2] || 'alice', 'Hello');
  } finally {
    await db.end();
  }
}

main().catch((err) => { console.error(err); process.exit(1); });
