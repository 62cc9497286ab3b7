// The replica check's load: the source tables, their rows before the daemon starts, writer
// threads that mix every kind of row change (unchanged and changed TOAST, key changes,
// savepoints rolled back, TRUNCATE, jsonb null, float -0) and one large streamed transaction.
#pragma once

#include <atomic>
#include <map>
#include <mutex>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "support/pg_client.hpp"
#include "support/replica_compare.hpp"

namespace pgcs::testing {

// What the load may do: contract v1 cannot carry key changes, TRUNCATE, JSON null or -0 to a
// replica, so a run against it switches them off.
struct ReplicaFeatures {
    bool key_changes = true;
    bool truncates = true;
    bool json_null = true;
    bool negative_zero = true;
};

class ReplicaLoad {
  public:
    static constexpr long kToastRows = 120;  // a, b: rows with a 9.6 kB out-of-line value each
    static constexpr long kRows = 2000;      // c, d, f
    static constexpr long kJsonRows = 400;   // e
    static constexpr long kBulkFirst = 1000001;
    static constexpr long kBulkRows = 200000;

    // Table names: "<prefix>_a" ... "<prefix>_f"; "<prefix>_big()" makes the TOAST values.
    ReplicaLoad(std::string prefix, ReplicaFeatures features)
        : p_(std::move(prefix)), features_(features) {}

    ~ReplicaLoad() { join(); }
    ReplicaLoad(const ReplicaLoad&) = delete;
    ReplicaLoad& operator=(const ReplicaLoad&) = delete;

    std::string table(char which) const { return p_ + "_" + which; }

    // The tables as the replica compares them, and their definitions (without replica identity
    // or storage settings, which the target does not need).
    std::vector<ReplicaTable> tables() const {
        return {{table('a'), "id", "id, counter, big"},
                {table('b'), "id", "id, counter, big"},
                {table('c'), "region, id", "region, id, counter, note"},
                {table('d'), "id", "id, counter, note"},
                {table('e'), "id", "id, doc, f"},
                {table('f'), "id", "id, counter, pad"}};
    }
    std::vector<std::string> create_sql() const {
        const std::string toast = " (id int8 PRIMARY KEY, counter int4 NOT NULL, big text)";
        return {"CREATE TABLE " + table('a') + toast,
                "CREATE TABLE " + table('b') + toast,
                "CREATE TABLE " + table('c') +
                    " (region int4, id int8, counter int4 NOT NULL, note text, "
                    "PRIMARY KEY (region, id))",
                "CREATE TABLE " + table('d') +
                    " (id int8 PRIMARY KEY, counter int4 NOT NULL, note text)",
                "CREATE TABLE " + table('e') + " (id int8 PRIMARY KEY, doc jsonb, f float8)",
                "CREATE TABLE " + table('f') +
                    " (id int8 PRIMARY KEY, counter int4 NOT NULL, pad text)"};
    }

    // Run once on the source: the tables, their replica identity and TOAST storage (EXTERNAL:
    // out of line, uncompressed), the value function and the first rows.
    void prepare_source(PgClient& pg) const {
        pg.exec("CREATE FUNCTION " + p_ +
                "_big() RETURNS text VOLATILE LANGUAGE sql AS $$ SELECT string_agg(md5(random()::"
                "text), '') FROM generate_series(1, 300) $$");
        for (const auto& sql : create_sql()) {
            pg.exec(sql);
        }
        for (const char t : {'a', 'b'}) {
            pg.exec("ALTER TABLE " + table(t) + " ALTER COLUMN big SET STORAGE EXTERNAL");
        }
        pg.exec("ALTER TABLE " + table('b') + " REPLICA IDENTITY FULL");
        for (const char t : {'a', 'b'}) {
            pg.exec("INSERT INTO " + table(t) + " SELECT g, 0, " + p_ +
                    "_big() FROM generate_series(1, " + std::to_string(kToastRows) + ") g");
        }
        const std::string rows = std::to_string(kRows);
        pg.exec("INSERT INTO " + table('c') +
                " SELECT g % 4, g, 0, 'c' || g FROM generate_series(1, " + rows + ") g");
        pg.exec("INSERT INTO " + table('d') + " SELECT g, 0, 'd' || g FROM generate_series(1, " +
                rows + ") g");
        pg.exec("INSERT INTO " + table('f') + " SELECT g, 0, 'f' || g FROM generate_series(1, " +
                rows + ") g");
        for (long id = 1; id <= kJsonRows; ++id) {
            std::mt19937 rng(static_cast<unsigned>(id));
            pg.exec("INSERT INTO " + table('e') + " VALUES (" + std::to_string(id) + ", " +
                    doc_value(rng, id) + ", " + float_value(rng) + ")");
        }
    }

    // Starts `threads` writers of `transactions` transactions each.
    void start(int threads, int transactions, unsigned seed, const std::string& conninfo) {
        total_ = threads * transactions;
        for (int t = 0; t < threads; ++t) {
            threads_.emplace_back([this, t, transactions, seed, conninfo] {
                PgClient pg(conninfo);
                pg.exec("SET lock_timeout = '2s'");
                std::mt19937 rng(seed + static_cast<unsigned>(t));
                for (int i = 0; i < transactions; ++i) {
                    const std::string sql = transaction(rng, t, i, transactions);
                    const bool truncates = sql.find("TRUNCATE") != std::string::npos &&
                                           sql.find("ROLLBACK TO") == std::string::npos;
                    if (run(pg, sql) && truncates) {
                        ++truncates_;
                    }
                    ++done_;
                    std::this_thread::sleep_for(std::chrono::milliseconds(8));
                }
            });
        }
    }
    // Fraction of the writers' transactions done.
    double progress() const { return total_ == 0 ? 1.0 : static_cast<double>(done_) / total_; }
    void join() {
        for (auto& t : threads_) {
            t.join();
        }
        threads_.clear();
    }

    // One transaction of kBulkRows inserts into f that PostgreSQL streams (more than
    // logical_decoding_work_mem), with a rolled-back savepoint and updates and deletes in it.
    void run_bulk(PgClient& pg) const {
        const std::string f = table('f');
        const std::string first = std::to_string(kBulkFirst);
        const std::string last = std::to_string(kBulkFirst + kBulkRows - 1);
        pg.exec("BEGIN; INSERT INTO " + f + " SELECT g, 0, 'bulk ' || g FROM generate_series(" +
                first + ", " + last + ") g; SAVEPOINT s; UPDATE " + f +
                " SET counter = -1 WHERE id BETWEEN " + first + " AND " + first +
                " + 9999; INSERT INTO " + f + " SELECT g, 0, 'gone' FROM generate_series(" + last +
                " + 1, " + last + " + 5000) g; ROLLBACK TO SAVEPOINT s; UPDATE " + f +
                " SET counter = counter + 1 WHERE id >= " + first +
                " AND id % 1000 = 0; DELETE FROM " + f + " WHERE id > " + last + " - 100; COMMIT");
    }

    // TRUNCATEs of d that committed.
    int truncates() const { return truncates_; }

    // Transactions committed, and failures (deadlocks, lock timeouts, key collisions) by message.
    std::string report() {
        std::lock_guard lock(mutex_);
        std::ostringstream out;
        out << total_ << " writer transactions, " << failed_ << " rolled back on an error";
        for (const auto& [message, n] : failures_) {
            out << "; " << n << "x " << message;
        }
        return out.str();
    }

  private:
    // Whether the transaction committed.
    bool run(PgClient& pg, const std::string& sql) {
        const std::string error = pg.try_exec(sql);
        if (error.empty()) {
            return true;
        }
        pg.try_exec("ROLLBACK");
        std::lock_guard lock(mutex_);
        ++failed_;
        ++failures_[error.substr(0, error.find_first_of("\n:"))];
        return false;
    }

    static long pick(std::mt19937& rng, long from, long to) {
        return std::uniform_int_distribution<long>(from, to)(rng);
    }

    std::string doc_value(std::mt19937& rng, long id) const {
        switch (pick(rng, 0, 6)) {
            case 0:
                return features_.json_null ? "'null'::jsonb" : "'{}'";
            case 1:
                return "NULL";
            case 2:
                return R"('{"a": 1, "b": [true, null, "x"]}')";
            case 3:
                return R"('"text"')";
            case 4:
                return "'[]'";
            case 5:
                return R"('{"n": null}')";
            default:
                return "to_jsonb(" + std::to_string(id) + ")";
        }
    }
    std::string float_value(std::mt19937& rng) const {
        switch (pick(rng, 0, 7)) {
            case 0:
                return features_.negative_zero ? "'-0'::float8" : "0.25";
            case 1:
                return "'NaN'";
            case 2:
                return "'-Infinity'";
            case 3:
                return "NULL";
            case 4:
                return "1e-300";
            case 5:
                return "-1.5";
            default:
                return "random()";
        }
    }

    // A fresh id of table `t` ('a'..'f'), and one among the ids it may hold.
    long fresh(char t) { return next_id_[t - 'a']++; }
    std::string existing(std::mt19937& rng, char t) {
        return std::to_string(pick(rng, 1, next_id_[t - 'a'] - 1));
    }

    // One statement of a random kind.
    std::string statement(std::mt19937& rng) {
        const char toast = pick(rng, 0, 1) == 0 ? 'a' : 'b';
        const std::string big = p_ + "_big()";
        const std::string c = table('c');
        static const std::vector<double> weights = {2, 10, 3, 2, 4, 8, 3, 3, 6, 4,
                                                    6, 3,  3, 5, 4, 2, 8, 2, 2};
        std::discrete_distribution<int> kind(weights.begin(), weights.end());
        switch (kind(rng)) {
            case 0:
                return "INSERT INTO " + table(toast) + " VALUES (" + std::to_string(fresh(toast)) +
                       ", 0, " + big + ")";
            case 1: {  // big untouched: unchanged TOAST
                const std::string x = existing(rng, toast);
                return "UPDATE " + table(toast) + " SET counter = counter + 1 WHERE id BETWEEN " +
                       x + " AND " + x + " + 1";
            }
            case 2:
                return "UPDATE " + table(toast) + " SET big = " + big +
                       ", counter = counter + 1 WHERE id = " + existing(rng, toast);
            case 3:
                return "DELETE FROM " + table(toast) + " WHERE id = " + existing(rng, toast);
            case 4: {
                const std::string id = std::to_string(fresh('c'));
                return "INSERT INTO " + c + " VALUES (" + id + " % 4, " + id + ", 0, 'n')";
            }
            case 5: {
                const std::string x = existing(rng, 'c');
                return "UPDATE " + c + " SET counter = counter + 1 WHERE id BETWEEN " + x +
                       " AND " + x + " + 2";
            }
            case 6:
                return "UPDATE " + c +
                       " SET note = md5(random()::text) WHERE id = " + existing(rng, 'c');
            case 7:
                return "DELETE FROM " + c + " WHERE id = " + existing(rng, 'c');
            case 8: {
                const std::string x = existing(rng, 'c');
                if (!features_.key_changes) {
                    return "UPDATE " + c + " SET counter = counter - 1 WHERE id = " + x;
                }
                switch (pick(rng, 0, 2)) {
                    case 0:
                        return "UPDATE " + c + " SET id = id + 1000000 WHERE id BETWEEN " + x +
                               " AND " + x + " + 2";
                    case 1:
                        return "UPDATE " + c +
                               " SET region = region + 4, counter = counter + 1 WHERE id = " + x;
                    default:
                        return "UPDATE " + c +
                               " SET id = id - 1000000 WHERE id BETWEEN 1000000 + " + x +
                               " AND 1000002 + " + x;
                }
            }
            case 9:
                return "INSERT INTO " + table('d') + " VALUES (" + std::to_string(fresh('d')) +
                       ", 0, 'n')";
            case 10: {
                const std::string x = existing(rng, 'd');
                return "UPDATE " + table('d') +
                       " SET counter = counter + 1, note = 'u' || id WHERE id BETWEEN " + x +
                       " AND " + x + " + 3";
            }
            case 11:
                return "DELETE FROM " + table('d') + " WHERE id = " + existing(rng, 'd');
            case 12: {
                const long id = fresh('e');
                return "INSERT INTO " + table('e') + " VALUES (" + std::to_string(id) + ", " +
                       doc_value(rng, id) + ", " + float_value(rng) + ")";
            }
            case 13: {
                const long id = pick(rng, 1, next_id_['e' - 'a'] - 1);
                return "UPDATE " + table('e') + " SET doc = " + doc_value(rng, id) +
                       " WHERE id = " + std::to_string(id);
            }
            case 14:
                return "UPDATE " + table('e') + " SET f = " + float_value(rng) +
                       " WHERE id = " + existing(rng, 'e');
            case 15:
                return "DELETE FROM " + table('e') + " WHERE id = " + existing(rng, 'e');
            case 16: {  // rows of the bulk transaction too (not there yet: no row matches)
                const std::string from =
                    pick(rng, 0, 1) == 0
                        ? existing(rng, 'f')
                        : std::to_string(pick(rng, kBulkFirst, kBulkFirst + kBulkRows - 1));
                return "UPDATE " + table('f') + " SET counter = counter + 1 WHERE id BETWEEN " +
                       from + " AND " + from + " + 5";
            }
            case 17:
                return "DELETE FROM " + table('f') + " WHERE id = " + existing(rng, 'f');
            default:
                return "INSERT INTO " + table('f') + " VALUES (" + std::to_string(fresh('f')) +
                       ", 0, 'w')";
        }
    }

    // Writer `t`'s transaction `i` of `n`: mostly one statement, some several, some with a
    // savepoint rolled back; writer 0 truncates d (and refills it) at three points.
    std::string transaction(std::mt19937& rng, int t, int i, int n) {
        const std::string d = table('d');
        if (t == 0 && features_.truncates) {
            if (i == n / 4) {
                return "BEGIN; TRUNCATE " + d + "; INSERT INTO " + d +
                       " SELECT g, 1, 'refill' FROM generate_series(1, 300) g; COMMIT";
            }
            if (i == n / 2) {  // a TRUNCATE rolled back to a savepoint publishes nothing
                return "BEGIN; SAVEPOINT s; TRUNCATE " + d + "; ROLLBACK TO SAVEPOINT s; UPDATE " +
                       d + " SET counter = counter + 1 WHERE id <= 10; COMMIT";
            }
            if (i == 3 * n / 4) {
                return "TRUNCATE " + d;
            }
            if (i == 3 * n / 4 + 1) {
                return "INSERT INTO " + d +
                       " SELECT g, 2, 'refill 2' FROM generate_series(1, 200) g";
            }
        }
        const double shape = std::uniform_real_distribution<double>(0, 1)(rng);
        if (shape < 0.15) {
            return "BEGIN; " + statement(rng) + "; SAVEPOINT s; " + statement(rng) + "; " +
                   statement(rng) + "; ROLLBACK TO SAVEPOINT s; " + statement(rng) + "; COMMIT";
        }
        if (shape < 0.40) {
            std::string sql = "BEGIN; ";
            for (long k = pick(rng, 2, 4); k > 0; --k) {
                sql += statement(rng) + "; ";
            }
            return sql + "COMMIT";
        }
        return statement(rng);
    }

    std::string p_;
    ReplicaFeatures features_;
    // The next fresh id of a .. f: ids are never reused (key changes move c's ids past 1000000).
    std::atomic<long> next_id_[6] = {kToastRows + 1, kToastRows + 1, kRows + 1,
                                     kRows + 1,      kJsonRows + 1,  kRows + 1};
    std::atomic<int> done_{0};
    std::atomic<int> truncates_{0};
    int total_ = 0;
    std::mutex mutex_;
    int failed_ = 0;
    std::map<std::string, int> failures_;
    std::vector<std::thread> threads_;
};

}  // namespace pgcs::testing
