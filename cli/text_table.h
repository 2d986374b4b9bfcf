// cli/text_table.h — a column-aligned plain-text table for vswctl's list outputs.
//
// Columns are separated by two spaces, titles are upper case by convention, numbers are usually
// right-aligned. No line ends in spaces. Used by render_tables.cc.
#pragma once

#include <string>
#include <vector>

namespace vsw::cli {

class TextTable {
 public:
  enum class Align { Left, Right };
  struct Column {
    std::string title;
    Align align = Align::Left;
  };

  explicit TextTable(std::vector<Column> columns);

  // A row with fewer cells than columns is padded with empty cells; extra cells are dropped.
  void add_row(std::vector<std::string> cells);
  size_t row_count() const noexcept { return rows_.size(); }

  // The header line followed by one line per row, each '\n'-terminated.
  std::string str() const;

 private:
  std::vector<Column> columns_;
  std::vector<std::vector<std::string>> rows_;
};

}  // namespace vsw::cli
