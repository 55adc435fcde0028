// The benchmark's CPU kernel (bench-spec.md): an iterated SHA-256 chain over a
// 64-byte buffer, on OpenSSL's SHA-256 block functions (no per-hash allocation).
#pragma once

#include <string>

namespace bench {

// buf = 00 01 .. 3f; n times: d = SHA256(buf), buf = d || d; returns the
// lowercase hex of the last d (n >= 1). Thread-safe; never blocks.
std::string sha256_chain_hex(int n);

// Gives the calling thread this nice value (once per thread; 0: leave it). bench-server's
// --cpu-nice runs /cpu's kernels on to_thread workers niced this way (an experiment: on a
// saturated machine the shards then win the CPU, but a niced worker preempted while holding the
// pool's lock can delay a shard: see docs/benchmarks.md).
void lower_thread_priority(int nice);

}  // namespace bench
