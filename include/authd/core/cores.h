#pragma once
// How many CPUs this process may run on: the default for I/O threads, worker threads and hash
// slots.

namespace authd::core {

/// The CPUs in this process's affinity mask (taskset, a container's cpuset), at least 1.
/// std::thread::hardware_concurrency() counts every online CPU instead, so a replica pinned
/// to two of 64 cores would start 64 event loops and 64 concurrent hashes.
unsigned usable_cores();

}  // namespace authd::core
