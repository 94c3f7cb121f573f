// CLIENTS clients, each POSTing one check after another with ky, which retries a 429 after the
// Retry-After it was given (afterStatusCodes), for DURATION_S seconds; prints admissions, refusals
// and refusals per admission. Usage: node herd.mjs <base url> <policy> [clients] [seconds]
import ky from 'ky';

const [base, policy, clientsArg = '20', secondsArg = '30'] = process.argv.slice(2);
const clients = Number(clientsArg);
const seconds = Number(secondsArg);
const key = `herd-${Date.now()}`;
const end = Date.now() + seconds * 1000;
let admitted = 0;
let refused = 0;
let early = 0;

async function client() {
  while (Date.now() < end) {
    try {
      await ky.post(`${base}/v1/check`, {
        json: { policy, key },
        timeout: 10000,
        retry: {
          limit: 1000,
          methods: ['post'],
          statusCodes: [429],
          afterStatusCodes: [429],
          maxRetryAfter: (end - Date.now()),
        },
        hooks: {
          beforeRetry: [() => { refused++; if (Date.now() >= end) throw new Error('over'); }],
        },
      });
      if (Date.now() < end) admitted++;
    } catch (e) {
      if (Date.now() < end && !(e instanceof Error && e.message === 'over')) {
        early++;
      }
      return;
    }
  }
}

await Promise.all(Array.from({ length: clients }, client));
console.log(JSON.stringify({ clients, seconds, admitted, refused,
  refusalsPerAdmission: +(refused / Math.max(1, admitted)).toFixed(2), errors: early }));
