// The soak run's proxy: bench/proxy-instance.ts under a name of its own, so that its process is told
// apart from a benchmark's in `ps`, and a `pkill -f proxy-instance` ending someone's benchmark does not
// end a soak that runs for ten minutes beside it (it did, twice, on the shared 2-core machine).
import './proxy-instance.ts'
