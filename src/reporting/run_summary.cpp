#include "rdic/reporting/run_summary.h"

#include <algorithm>
#include <cstdio>
#include <map>
#include <sstream>

namespace rdic {

namespace {

struct Tally {
    int ok = 0, failed = 0;
    int kv = 0;        // successes with KV numbers (a remote engine's are not visible)
    int timed = 0;     // successes with outputs that ran alone (their time is theirs; a
                       // control's records have answers only: no time)
    int together = 0;  // successes that shared a session with other conditions
    double kv_cells = 0, kv_bytes = 0, alloc_bytes = 0, separate_bytes = 0, total_ms = 0;
};

}  // namespace

std::string run_summary(const ResultsLog& log, const std::vector<std::string>& conditions) {
    const std::vector<const ResultRecord*> current = current_records(log);
    std::map<std::string, Tally> tally;
    std::vector<std::string> order = conditions;
    const ResultRecord* first = nullptr;
    for (const ResultRecord* r : current) {
        if (first == nullptr) first = r;
        if (std::find(order.begin(), order.end(), r->condition) == order.end()) {
            order.push_back(r->condition);
        }
        Tally& t = tally[r->condition];
        if (!r->ok) {
            ++t.failed;
            continue;
        }
        ++t.ok;
        if (r->outputs.empty()) continue;  // a control: no outputs, no output time or KV
        if (!r->together_with.empty()) {
            ++t.together;  // the shared session's KV and time: not this condition's
            continue;
        }
        t.total_ms += r->timing.total_ms;
        ++t.timed;
        if (!r->kv) continue;
        ++t.kv;
        t.kv_cells += static_cast<double>(r->kv->peak_cells_full);
        t.kv_bytes += static_cast<double>(r->kv->peak_bytes);
        t.alloc_bytes += static_cast<double>(r->kv->allocated_bytes);
        t.separate_bytes += static_cast<double>(r->kv->separate_instances_bytes);
    }
    std::ostringstream os;
    if (first != nullptr) {
        os << "model " << first->model.name << " (" << first->model.file << "), max_tokens "
           << first->config.max_tokens
           << (first->config.backend != "in-process" ? ", remote " + first->config.backend
               : first->config.naive                 ? ", naive execution"
               : first->config.together ? ", batched execution, conditions of an example together"
                                        : ", batched execution")
           << "\n";
    } else {
        os << "no records yet\n";
    }
    char line[256];
    int n_together = 0;
    std::snprintf(line, sizeof line, "%-18s %5s %6s %10s %9s %10s %12s %9s %9s\n", "condition",
                  "pairs", "failed", "KV tokens", "KV MiB", "alloc MiB", "multi-inst MiB", "time s",
                  "total s");
    os << line;
    for (const std::string& c : order) {
        const auto it = tally.find(c);
        if (it == tally.end()) continue;
        const Tally& t = it->second;
        n_together += t.together;
        const double n = t.timed > 0 ? t.timed : 1;
        if (t.timed == 0) {  // no outputs (a control), all together, or no success: "n/a"
            std::snprintf(line, sizeof line, "%-18s %5d %6d %10s %9s %10s %12s %9s %9s\n",
                          c.c_str(), t.ok + t.failed, t.failed, "n/a", "n/a", "n/a", "n/a", "n/a",
                          "n/a");
            os << line;
            continue;
        }
        if (t.kv == 0) {  // no KV numbers (a remote engine's, or no success): "n/a", not 0
            std::snprintf(line, sizeof line, "%-18s %5d %6d %10s %9s %10s %12s %9.2f %9.1f\n",
                          c.c_str(), t.ok + t.failed, t.failed, "n/a", "n/a", "n/a", "n/a",
                          t.total_ms / n / 1000.0, t.total_ms / 1000.0);
            os << line;
            continue;
        }
        const double nk = t.kv > 0 ? t.kv : 1;
        std::snprintf(line, sizeof line, "%-18s %5d %6d %10.0f %9.2f %10.2f %12.1f %9.2f %9.1f\n",
                      c.c_str(), t.ok + t.failed, t.failed, t.kv_cells / nk,
                      t.kv_bytes / nk / 1048576.0, t.alloc_bytes / nk / 1048576.0,
                      t.separate_bytes / nk / 1048576.0, t.total_ms / n / 1000.0,
                      t.total_ms / 1000.0);
        os << line;
    }
    if (n_together > 0) {
        os << n_together
           << " pairs ran together with other conditions of their example in one session: their "
              "KV and time are the shared session's, left out above (n/a where no pair of the "
              "condition ran alone); --separate-conditions measures each alone\n";
    }
    return os.str();
}

}  // namespace rdic
