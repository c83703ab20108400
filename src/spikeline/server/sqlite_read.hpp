#pragma once
// Minimal read-only SQLite access for the dashboard: a connection opened with
// SQLITE_OPEN_READONLY (the experiment controller is the only writer) and prepared statements
// with bound parameters (no SQL is ever built from request text).
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

struct sqlite3;
struct sqlite3_stmt;

namespace spikeline::server {

// A value bound to a '?' placeholder.
using SqlValue = std::variant<std::monostate, std::int64_t, double, std::string>;

class Statement {
 public:
  Statement(sqlite3* db, std::string_view sql);
  Statement(Statement&& other) noexcept;
  Statement& operator=(Statement&&) = delete;
  Statement(const Statement&) = delete;
  ~Statement();

  void bind(int index, const SqlValue& value);  // 1-based, like sqlite3_bind_*
  bool step();                                  // true while a row is available
  bool is_null(int col) const;
  std::int64_t int64(int col) const;
  double real(int col) const;
  std::optional<double> opt_real(int col) const;
  std::optional<std::int64_t> opt_int64(int col) const;
  std::string text(int col) const;  // "" for NULL

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
};

class ReadDb {
 public:
  // Opens `path` read-only; waits up to busy_ms when the writer holds a lock. Throws IoError.
  explicit ReadDb(const std::filesystem::path& path, int busy_ms = 2000);
  ReadDb(const ReadDb&) = delete;
  ReadDb& operator=(const ReadDb&) = delete;
  ~ReadDb();

  Statement prepare(std::string_view sql) const { return Statement(db_, sql); }
  bool has_table(std::string_view name) const;
  // Reads are grouped in one transaction so a page sees one consistent snapshot.
  void begin();
  void end();

 private:
  sqlite3* db_ = nullptr;
};

// RAII snapshot: BEGIN ... COMMIT around a group of reads.
class ReadSnapshot {
 public:
  explicit ReadSnapshot(ReadDb& db) : db_(db) { db_.begin(); }
  ~ReadSnapshot() { db_.end(); }
  ReadSnapshot(const ReadSnapshot&) = delete;
  ReadSnapshot& operator=(const ReadSnapshot&) = delete;

 private:
  ReadDb& db_;
};

}  // namespace spikeline::server
