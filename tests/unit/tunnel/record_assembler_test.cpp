// SPDX-License-Identifier: MIT
// RecordAssembler: records from arbitrary chunks, hostile lengths refused before buffering.
#include "tunnel/record_assembler.hpp"

#include <catch2/catch.hpp>

#include "protocol/reason.hpp"
#include "protocol/record.hpp"
#include "tunnel_test_support.hpp"

using namespace ringtunnel;
using namespace ringtunnel::tunnel;
using namespace ringtunnel::tunnel::test;
using protocol::Reason;

namespace {

Bytes header(uint32_t length) {
  Bytes out(4);
  protocol::write_record_header(std::span<std::byte, 4>(out.data(), 4), length);
  return out;
}

// A syntactically valid record (not sealed: the assembler does not look inside).
Bytes fake_record(uint32_t ciphertext_length, uint8_t fill) {
  Bytes out = header(ciphertext_length);
  out.resize(4 + ciphertext_length, std::byte{fill});
  return out;
}

// Feeds `stream` in chunks of the given sizes (the rest in one go) and collects the records.
Result<std::vector<Bytes>> assemble(RecordAssembler& assembler, std::span<const std::byte> stream,
                                    std::vector<std::size_t> cuts = {}) {
  std::vector<Bytes> records;
  std::size_t start = 0;
  cuts.push_back(stream.size());
  for (std::size_t cut : cuts) {
    auto chunk = stream.subspan(start, cut - start);
    start = cut;
    while (!chunk.empty()) {
      auto taken = assembler.feed(chunk);
      if (!taken) return taken.error();
      chunk = chunk.subspan(*taken);
      if (assembler.has_record()) {
        const auto record = assembler.record();
        records.emplace_back(record.begin(), record.end());
        assembler.consume();
      }
    }
  }
  return records;
}

}  // namespace

TEST_CASE("a record split at every byte position is reassembled", "[tunnel][assembler]") {
  const Bytes record = fake_record(40, 0xab);
  for (std::size_t cut = 0; cut <= record.size(); ++cut) {
    RecordAssembler assembler;
    const auto records = must(assemble(assembler, record, {cut}));
    INFO("cut at " << cut);
    REQUIRE(records.size() == 1);
    CHECK(records[0] == record);
    CHECK(assembler.buffered() == 0);
  }
}

TEST_CASE("a record fed one byte at a time is reassembled", "[tunnel][assembler]") {
  const Bytes record = fake_record(17, 0x01);
  RecordAssembler assembler;
  for (std::size_t i = 0; i < record.size(); ++i) {
    CHECK_FALSE(assembler.has_record());
    CHECK(must(assembler.feed(std::span(record).subspan(i, 1))) == 1);
  }
  REQUIRE(assembler.has_record());
  CHECK(Bytes(assembler.record().begin(), assembler.record().end()) == record);
}

TEST_CASE("several records in one chunk come out one by one", "[tunnel][assembler]") {
  const Bytes a = fake_record(17, 1);
  const Bytes b = fake_record(300, 2);
  const Bytes c = fake_record(static_cast<uint32_t>(protocol::kMaxRecordCiphertext), 3);
  Bytes stream = a;
  stream.insert(stream.end(), b.begin(), b.end());
  stream.insert(stream.end(), c.begin(), c.end());
  for (std::size_t cut : {std::size_t{0}, std::size_t{3}, std::size_t{21}, std::size_t{22},
                          std::size_t{330}, stream.size() - 1}) {
    RecordAssembler assembler;
    const auto records = must(assemble(assembler, stream, {cut}));
    REQUIRE(records.size() == 3);
    CHECK(records[0] == a);
    CHECK(records[1] == b);
    CHECK(records[2] == c);
  }
}

TEST_CASE("feed takes nothing past the current record until it is consumed",
          "[tunnel][assembler]") {
  const Bytes a = fake_record(17, 1);
  Bytes stream = a;
  stream.insert(stream.end(), a.begin(), a.end());
  RecordAssembler assembler;
  CHECK(must(assembler.feed(stream)) == a.size());
  REQUIRE(assembler.has_record());
  CHECK(must(assembler.feed(std::span(stream).subspan(a.size()))) == 0);
  CHECK(assembler.buffered() == a.size());
  assembler.consume();
  CHECK(must(assembler.feed(std::span(stream).subspan(a.size()))) == a.size());
  CHECK(assembler.has_record());
}

TEST_CASE("a hostile length is refused as soon as the header is in", "[tunnel][assembler]") {
  struct Case {
    uint32_t length;
    Reason reason;
  };
  for (Case c :
       {Case{0xffffffffU, Reason::frame_too_large},
        Case{static_cast<uint32_t>(protocol::kMaxRecordCiphertext) + 1, Reason::frame_too_large},
        Case{16, Reason::protocol_error}, Case{0, Reason::protocol_error}}) {
    INFO("length " << c.length);
    // The header followed by a megabyte the sender claims belongs to it.
    Bytes stream = header(c.length);
    stream.resize(4 + (1U << 20), std::byte{0x55});
    RecordAssembler assembler;
    // Header split across two feeds: nothing is judged before all four bytes are in.
    CHECK(must(assembler.feed(std::span(stream).first(3))) == 3);
    const auto result = assembler.feed(std::span(stream).subspan(3));
    CHECK(result.error() == c.reason);
    CHECK(assembler.buffered() == 4);  // the header, nothing more
    CHECK_FALSE(assembler.has_record());
    CHECK(assembler.record().empty());
    // Sticky: the stream cannot be resynchronised.
    CHECK(assembler.feed(fake_record(17, 0)).error() == c.reason);
  }
}

TEST_CASE("the largest and smallest valid lengths are accepted", "[tunnel][assembler]") {
  for (uint32_t length : {17U, static_cast<uint32_t>(protocol::kMaxRecordCiphertext)}) {
    RecordAssembler assembler;
    const Bytes record = fake_record(length, 9);
    CHECK(must(assembler.feed(record)) == record.size());
    CHECK(assembler.has_record());
    CHECK(assembler.record().size() == record.size());
  }
}

TEST_CASE("an empty chunk is a no-op", "[tunnel][assembler]") {
  RecordAssembler assembler;
  CHECK(must(assembler.feed({})) == 0);
  CHECK(assembler.buffered() == 0);
  assembler.consume();  // nothing to drop
  CHECK(assembler.buffered() == 0);
}
