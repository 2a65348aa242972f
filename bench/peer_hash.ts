// bench/peer_hash.ts — run by bench.py with the peer's bun (--peer only):
// Bun.password.verifySync on one thread for SECONDS against HASH, the
// peer's Argon2id verification alone, printed as one JSON line beside
// bench/pwhash.c's `verify 1 SECONDS` (libsodium, quire's): the same
// hash, two implementations, one core each.
//   bun bench/peer_hash.ts HASH SECONDS
const [hash, secs] = [process.argv[2], Number(process.argv[3] ?? "3")];
let n = 0;
const t0 = performance.now();
while (performance.now() - t0 < secs * 1000) {
  if (!Bun.password.verifySync("bench-password-1", hash)) throw new Error("the hash does not verify");
  n++;
}
const dt = (performance.now() - t0) / 1000;
console.log(JSON.stringify({ verifies: n, secs: dt, per_s: n / dt }));
