// The fault suite's load generator, ledger and invariant checker (Jepsen style: unique writes,
// a ledger of what committed, faults, a final read).
//
// The generator writes a table (id int8 primary key, v int8) from one connection: small
// transactions of inserts, updates and deletes, some large ones, and some it rolls back. Every
// id and every v is used once, so each change is recognisable in Kafka. Every transaction
// inserts a fresh "marker" id: when PostgreSQL goes away during COMMIT, the marker tells after
// the reconnect whether the transaction committed.
//
// The checker reads the whole topic with an independent consumer and checks
//   I1 every committed change is in Kafka at least once;
//   I2 after de-duplication by (commit_lsn, seq), each key's events are exactly the ledger's
//      committed changes of that key, in commit order;
//   I3 no committed transaction below a sampled confirmed_flush_lsn is missing;
//   I4 no event of a rolled-back transaction.
#pragma once

#include <libpq-fe.h>
#include <rapidjson/document.h>

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "support/kafka_reader.hpp"
#include "support/test_env.hpp"

namespace pgcs::fault {

using testing::Record;

inline std::uint64_t parse_lsn(const std::string& text) {
    unsigned hi = 0;
    unsigned lo = 0;
    if (std::sscanf(text.c_str(), "%X/%X", &hi, &lo) != 2) {
        return 0;
    }
    return (static_cast<std::uint64_t>(hi) << 32) | lo;
}

struct Change {
    char op;  // 'a' added, 'm' modified, 'd' deleted
    std::int64_t id;
    std::int64_t v;  // 0 for deletes
};

struct Txn {
    std::vector<Change> changes;
    enum class Outcome { Committed, RolledBack } outcome = Outcome::Committed;
    std::uint64_t lsn_bound = 0;  // WAL insert position right after COMMIT: >= its end LSN
};

// One connection that reconnects until PostgreSQL answers again.
class Connection {
  public:
    explicit Connection(std::string conninfo) : conninfo_(std::move(conninfo)) { connect(); }
    ~Connection() {
        if (conn_ != nullptr) {
            PQfinish(conn_);
        }
    }
    // Runs `sql`; false when the connection broke (the outcome is unknown).
    bool exec(const std::string& sql, std::string* value = nullptr) {
        PGresult* r = PQexec(conn_, sql.c_str());
        const auto status = PQresultStatus(r);
        const bool ok = status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK;
        if (ok && value != nullptr && PQntuples(r) > 0) {
            *value = PQgetvalue(r, 0, 0);
        }
        const std::string error = ok ? "" : PQerrorMessage(conn_);
        const char* state = ok ? nullptr : PQresultErrorField(r, PG_DIAG_SQLSTATE);
        const std::string sqlstate = state != nullptr ? state : "";
        PQclear(r);
        // Connection problems (08...) and operator intervention (57...: shutdown, terminated
        // backend) are the faults under test; anything else is a bug in the test.
        const bool fault = PQstatus(conn_) != CONNECTION_OK || sqlstate.empty() ||
                           sqlstate.rfind("08", 0) == 0 || sqlstate.rfind("57", 0) == 0;
        if (!ok && !fault) {
            throw std::runtime_error("load generator SQL failed: " + sql + ": " + error);
        }
        return ok;
    }
    void connect() {
        for (int attempt = 0;; ++attempt) {
            if (conn_ != nullptr) {
                PQfinish(conn_);
            }
            conn_ = PQconnectdb(conninfo_.c_str());
            if (PQstatus(conn_) == CONNECTION_OK) {
                return;
            }
            if (attempt > 600) {
                throw std::runtime_error(std::string("load generator cannot connect: ") +
                                         PQerrorMessage(conn_));
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
    }

  private:
    std::string conninfo_;
    PGconn* conn_ = nullptr;
};

// How the load looks.
struct LoadShape {
    int pause_ms = 2;               // between transactions
    unsigned large_per_mille = 50;  // transactions of 500-3000 inserts, per 1000
};

class LoadGenerator {
  public:
    using Shape = LoadShape;
    LoadGenerator(std::string conninfo, std::string table, unsigned seed, Shape shape = Shape())
        : conninfo_(std::move(conninfo)), table_(std::move(table)), rng_(seed), shape_(shape) {}
    ~LoadGenerator() { stop(); }

    void start() {
        running_ = true;
        thread_ = std::thread([this] { run(); });
    }
    void stop() {
        running_ = false;
        if (thread_.joinable()) {
            thread_.join();
        }
        if (error_) {
            throw std::runtime_error(*error_);
        }
    }
    // Transactions finished so far (a copy: the generator keeps running).
    std::vector<Txn> ledger() {
        std::lock_guard lock(mu_);
        return ledger_;
    }
    std::size_t committed() {
        std::lock_guard lock(mu_);
        std::size_t n = 0;
        for (const auto& t : ledger_) {
            n += t.outcome == Txn::Outcome::Committed ? 1 : 0;
        }
        return n;
    }
    int reconnects() const { return reconnects_; }
    // Makes the generator's next transaction a committed one of `rows` inserts (0: the usual
    // one), its first row with `pad_bytes` in a text column `pad` (the table must have one);
    // special_state() is then 1 while it runs and 2 once it committed.
    void request_special(std::int64_t rows, std::size_t pad_bytes = 0) {
        std::lock_guard lock(mu_);
        special_ = Special{rows, pad_bytes};
    }
    int special_state() const { return special_state_; }

  private:
    void run() {
        try {
            Connection c(conninfo_);
            while (running_) {
                std::optional<Special> special;
                {
                    std::lock_guard lock(mu_);
                    special.swap(special_);
                }
                if (special) {
                    special_state_ = 1;
                    one_transaction(c, *special);
                    special_state_ = 2;
                }
                one_transaction(c);
                std::this_thread::sleep_for(std::chrono::milliseconds(shape_.pause_ms));
            }
        } catch (const std::exception& e) {
            error_ = e.what();
        }
    }

    std::int64_t pick_live() {
        auto it = live_.begin();
        std::advance(it, static_cast<long>(rng_() % live_.size()));
        return *it;
    }

    struct Special {
        std::int64_t rows = 0;
        std::size_t pad_bytes = 0;
    };

    // `special`: one committed transaction as request_special() describes.
    void one_transaction(Connection& c, std::optional<Special> special = std::nullopt) {
        Txn t;
        const unsigned kind = rng_() % 1000;
        const std::int64_t huge = special ? special->rows : 0;
        const bool rollback = !special && kind < 100;
        const bool large = huge > 0 || (!special && kind >= 1000 - shape_.large_per_mille);
        std::ostringstream sql;
        sql << "BEGIN;";
        const std::int64_t marker = next_id_++;
        t.changes.push_back({'a', marker, next_v_});
        if (special && special->pad_bytes > 0) {
            sql << "INSERT INTO " << table_ << " (id, v, pad) VALUES (" << marker << ", "
                << next_v_++ << ", repeat('x', " << special->pad_bytes << "));";
        } else {
            sql << "INSERT INTO " << table_ << " VALUES (" << marker << ", " << next_v_++ << ");";
        }
        if (large) {
            const std::int64_t n = huge > 0 ? huge : 500 + static_cast<std::int64_t>(rng_() % 2500);
            sql << "INSERT INTO " << table_ << " SELECT " << next_id_ << " + g, " << next_v_
                << " + g FROM generate_series(0, " << n - 1 << ") g;";
            for (std::int64_t g = 0; g < n; ++g) {
                t.changes.push_back({'a', next_id_ + g, next_v_ + g});
            }
            next_id_ += n;
            next_v_ += n;
        } else {
            std::set<std::int64_t> touched = {marker};
            const unsigned ops = 1 + rng_() % 4;
            for (unsigned i = 0; i < ops; ++i) {
                const unsigned what = rng_() % 10;
                if (what < 5 || live_.size() < 10) {
                    const std::int64_t id = next_id_++;
                    t.changes.push_back({'a', id, next_v_});
                    sql << "INSERT INTO " << table_ << " VALUES (" << id << ", " << next_v_++
                        << ");";
                    touched.insert(id);
                } else {
                    const std::int64_t id = pick_live();
                    if (touched.count(id) != 0) {
                        continue;
                    }
                    touched.insert(id);
                    if (what < 8) {
                        t.changes.push_back({'m', id, next_v_});
                        sql << "UPDATE " << table_ << " SET v = " << next_v_++
                            << " WHERE id = " << id << ";";
                    } else {
                        t.changes.push_back({'d', id, 0});
                        sql << "DELETE FROM " << table_ << " WHERE id = " << id << ";";
                    }
                }
            }
        }
        sql << (rollback ? "ROLLBACK;" : "COMMIT;");
        std::string bound;
        bool ok = c.exec(sql.str());
        if (ok && !rollback) {
            ok = c.exec("SELECT pg_current_wal_insert_lsn()", &bound);
        }
        if (!ok) {
            // PostgreSQL went away: did it commit? The marker says.
            ++reconnects_;
            c.connect();
            std::string found;
            c.exec("SELECT count(*) FROM " + table_ + " WHERE id = " + std::to_string(marker),
                   &found);
            if (found == "0") {
                t.outcome = Txn::Outcome::RolledBack;
            } else {
                c.exec("SELECT pg_current_wal_insert_lsn()", &bound);
            }
        } else if (rollback) {
            t.outcome = Txn::Outcome::RolledBack;
        }
        if (t.outcome == Txn::Outcome::Committed) {
            t.lsn_bound = parse_lsn(bound);
            for (const auto& ch : t.changes) {
                if (ch.op == 'd') {
                    live_.erase(ch.id);
                } else {
                    live_.insert(ch.id);
                }
            }
        }
        std::lock_guard lock(mu_);
        ledger_.push_back(std::move(t));
    }

    std::string conninfo_;
    std::string table_;
    std::mt19937 rng_;
    Shape shape_;
    std::atomic<bool> running_{false};
    std::thread thread_;
    std::optional<std::string> error_;
    std::set<std::int64_t> live_;
    std::int64_t next_id_ = 1;
    std::int64_t next_v_ = 1;
    std::mutex mu_;
    std::vector<Txn> ledger_;
    std::atomic<int> reconnects_{0};
    std::optional<Special> special_;  // guarded by mu_
    std::atomic<int> special_state_{0};
};

struct CheckResult {
    std::size_t events = 0;              // records read, tombstones not counted
    std::size_t tombstones = 0;          // each right after a deleted event of its key
    std::size_t duplicates = 0;          // records whose (commit_lsn, seq) came before
    std::size_t changes = 0;             // committed changes in the ledger
    std::size_t lost = 0;                // I1
    std::size_t out_of_order = 0;        // I2
    std::size_t lost_below_ack = 0;      // I3
    std::size_t from_rollback = 0;       // I4
    std::int64_t dropped_by_broker = 0;  // below the log start: the check cannot see them
    std::vector<std::string> problems;   // the first few, for the report
    bool ok() const {
        return lost == 0 && out_of_order == 0 && lost_below_ack == 0 && from_rollback == 0;
    }
};

// Reads the whole topic and checks I1-I4 against the ledger and the sampled confirmed flushes.
// `isolation`: the consumer's isolation.level.
inline CheckResult check(const std::string& brokers, const std::string& topic,
                         const std::vector<Txn>& ledger,
                         const std::vector<std::uint64_t>& flush_samples,
                         const std::string& isolation = "read_committed") {
    CheckResult r;
    auto note = [&](const std::string& p) {
        if (r.problems.size() < 10) {
            r.problems.push_back(p);
        }
    };
    struct Seen {
        char op;
        std::int64_t v;
    };
    std::map<std::int64_t, std::vector<Seen>> per_key;  // deduplicated, in Kafka order
    std::map<std::int64_t, std::pair<std::uint64_t, std::uint64_t>> last_position;
    std::set<std::pair<std::uint64_t, std::uint64_t>> positions;
    std::map<std::int64_t, char> last_record_op;  // of each key, duplicates included
    testing::KafkaReader reader(brokers, isolation);
    r.events = reader.visit_to_end(topic, [&](Record&& rec) {
        rapidjson::Document d;
        if (rec.null_value) {  // a tombstone: it follows its key's deleted event
            ++r.tombstones;
            d.Parse(rec.key.value_or("null").c_str());
            const std::int64_t id = d.IsObject() ? d["id"].GetInt64() : -1;
            // (Nothing before it: the broker dropped that part of the partition.)
            if (const auto it = last_record_op.find(id);
                it != last_record_op.end() && it->second != 'd') {
                ++r.out_of_order;
                note("key " + std::to_string(id) +
                     ": a tombstone not right after its deleted event");
            }
            last_record_op[id] = 't';
            return;
        }
        d.Parse(rec.value.c_str(), rec.value.size());
        const std::string op = d["op"].GetString();
        const std::int64_t id = d["key"]["id"].GetInt64();
        last_record_op[id] = op == "deleted" ? 'd' : 'x';
        const auto position =
            std::make_pair(parse_lsn(d["commit_lsn"].GetString()), d["seq"].GetUint64());
        if (!positions.insert(position).second) {
            ++r.duplicates;
            return;
        }
        auto& last = last_position[id];
        if (position <= last) {
            ++r.out_of_order;
            note("key " + std::to_string(id) + ": event out of commit order");
        }
        last = position;
        const char c = op == "added" ? 'a' : op == "modified" ? 'm' : 'd';
        per_key[id].push_back({c, c == 'd' ? 0 : d["after"]["v"].GetInt64()});
    });
    r.events -= r.tombstones;
    r.dropped_by_broker = reader.dropped();
    // The ledger per key, committed changes only, in commit order.
    std::map<std::int64_t, std::vector<Seen>> expected;
    std::set<std::int64_t> rolled_back_ids;
    const std::uint64_t max_flush =
        flush_samples.empty() ? 0 : *std::max_element(flush_samples.begin(), flush_samples.end());
    std::map<std::int64_t, std::uint64_t> key_bound;  // newest lsn bound per key
    for (const auto& t : ledger) {
        for (const auto& ch : t.changes) {
            if (t.outcome == Txn::Outcome::Committed) {
                expected[ch.id].push_back({ch.op, ch.v});
                key_bound[ch.id] = t.lsn_bound;
                ++r.changes;
            } else if (ch.op == 'a') {
                rolled_back_ids.insert(ch.id);
            }
        }
    }
    for (const auto& id : rolled_back_ids) {
        if (per_key.count(id) != 0 && expected.count(id) == 0) {
            ++r.from_rollback;
            note("key " + std::to_string(id) + " comes from a rolled-back transaction");
        }
    }
    for (const auto& [id, want] : expected) {
        const auto it = per_key.find(id);
        const std::vector<Seen> got = it == per_key.end() ? std::vector<Seen>{} : it->second;
        std::size_t i = 0;
        for (const auto& w : want) {
            if (i < got.size() && got[i].op == w.op && got[i].v == w.v) {
                ++i;
                continue;
            }
            ++r.lost;
            if (key_bound[id] <= max_flush) {
                ++r.lost_below_ack;
            }
            note("key " + std::to_string(id) + ": missing " + std::string(1, w.op) +
                 " v=" + std::to_string(w.v));
        }
        if (i != got.size()) {
            ++r.out_of_order;
            note("key " + std::to_string(id) + ": events beyond the ledger or out of order");
        }
    }
    for (const auto& [id, got] : per_key) {
        if (expected.count(id) == 0 && rolled_back_ids.count(id) == 0) {
            ++r.out_of_order;
            note("key " + std::to_string(id) + " is in Kafka but never written");
        }
    }
    return r;
}

}  // namespace pgcs::fault
