// pugixml writes a document through an xml_writer; this one appends to a
// string (pugixml has none of its own). Internal to src/protocol.
#pragma once

#include <pugixml.hpp>

#include <string>

namespace conflux::protocol {

class StringWriter : public pugi::xml_writer {
 public:
  explicit StringWriter(std::string& out) : out_(out) {}
  void write(const void* data, size_t size) override { out_.append(static_cast<const char*>(data), size); }

 private:
  std::string& out_;
};

}  // namespace conflux::protocol
