// The Node peer's Argon2id rate: @node-rs/argon2 (Rust, SIMD) hashing on THREADS threads of
// libuv's pool, the way an Express login handler awaits it, at authd's default cost
// (m = 19 MiB, t = 2, p = 1). Prints "THREADS hashes_per_second".
// Usage: UV_THREADPOOL_SIZE=N node hashrate.js SECONDS N
'use strict';
const { hash, Algorithm } = require('@node-rs/argon2');

const seconds = Number(process.argv[2] || 3);
const threads = Number(process.argv[3] || 1);
const options = { algorithm: Algorithm.Argon2id, memoryCost: 19456, timeCost: 2, parallelism: 1 };

async function worker(deadline, counts, i) {
  while (Date.now() < deadline) {
    await hash('correct horse battery staple', options);
    counts[i]++;
  }
}

(async () => {
  await hash('warm-up', options);
  const counts = new Array(threads).fill(0);
  const start = process.hrtime.bigint();
  const deadline = Date.now() + seconds * 1000;
  await Promise.all(counts.map((_, i) => worker(deadline, counts, i)));
  const elapsed = Number(process.hrtime.bigint() - start) / 1e9;
  const total = counts.reduce((a, b) => a + b, 0);
  console.log(`${threads} ${(total / elapsed).toFixed(1)}`);
})();
