// cli/text_table.cc — TextTable layout (see text_table.h).
#include "cli/text_table.h"

#include <algorithm>
#include <utility>

namespace vsw::cli {

TextTable::TextTable(std::vector<Column> columns) : columns_(std::move(columns)) {}

void TextTable::add_row(std::vector<std::string> cells) {
  cells.resize(columns_.size());
  rows_.push_back(std::move(cells));
}

std::string TextTable::str() const {
  std::vector<size_t> width(columns_.size());
  for (size_t c = 0; c < columns_.size(); ++c) {
    width[c] = columns_[c].title.size();
    for (const auto& row : rows_) width[c] = std::max(width[c], row[c].size());
  }
  std::string out;
  auto emit = [&](const std::vector<std::string>& cells) {
    std::string line;
    for (size_t c = 0; c < cells.size(); ++c) {
      if (c > 0) line += "  ";
      size_t pad = width[c] - cells[c].size();
      if (columns_[c].align == Align::Right) line.append(pad, ' ');
      line += cells[c];
      if (columns_[c].align == Align::Left) line.append(pad, ' ');
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line;
    out += '\n';
  };
  std::vector<std::string> titles;
  for (const auto& col : columns_) titles.push_back(col.title);
  emit(titles);
  for (const auto& row : rows_) emit(row);
  return out;
}

}  // namespace vsw::cli
