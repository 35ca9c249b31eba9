// A Hatchet worker in Node.js with the official TypeScript SDK: it serves the task
// "ts-upper", which no Go worker serves, for hatchetflow's engine test
// (hatchetflow/ts_engine_test.go; installed by `npm ci` in this directory). It reads the engine's address, token and namespace from
// the environment (HATCHET_CLIENT_*), as the Go SDK does.
//
// ts-upper takes {"order_id": "..."} (a chain's first step, a root) or a success callback's
// message {"mageflow_results": {"order_id": "..."}}, and returns
// {"order_id": "<upper case>", "lang": "ts", "signature": "<hatchetflow_signature metadata>"}.
// An order id starting with "bad" makes it fail.
'use strict';
const { HatchetClient } = require('@hatchet-dev/typescript-sdk/v1');

const hatchet = HatchetClient.init();

const upper = hatchet.task({
  name: 'ts-upper',
  retries: 0,
  fn: async (input, ctx) => {
    const src = input.mageflow_results || input;
    const id = String(src.order_id || '');
    if (id.startsWith('bad')) {
      throw new Error('ts-upper refuses ' + id);
    }
    const meta = ctx.additionalMetadata() || {};
    return { order_id: id.toUpperCase(), lang: 'ts', signature: meta.hatchetflow_signature || '' };
  },
});

async function main() {
  const worker = await hatchet.worker('ts-worker', { workflows: [upper], slots: 20 });
  process.on('SIGTERM', async () => {
    await worker.stop();
    process.exit(0);
  });
  console.log('ts-worker: starting');
  await worker.start();
}

main().catch((err) => {
  console.error('ts-worker:', err);
  process.exit(1);
});
