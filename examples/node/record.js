// Recording from Node.js with node-postgres (pg): check before the provider call, record its response after it.
// Run from the repository root:  node examples/node/record.js alice
// (connection from the PG* environment variables; the provider call is simulated with a saved response)
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

async function main() {
  const db = new Client();
  await db.connect();
  try {
    await answer(db, process.argv[2] || 'alice', 'Hello');
  } finally {
    await db.end();
  }
}

main().catch((err) => { console.error(err); process.exit(1); });
