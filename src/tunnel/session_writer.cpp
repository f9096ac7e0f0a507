// SPDX-License-Identifier: MIT
// SessionWriter: records built from control frames, WINDOW credit and stream DATA, then sent.
#include "tunnel/session_writer.hpp"

#include <algorithm>
#include <cstring>

#include "protocol/wire.hpp"
#include "runtime/io.hpp"
#include "tunnel/stream.hpp"

namespace ringtunnel::tunnel {
namespace {

// Records one flush may seal: a large send when the session is busy.
constexpr std::size_t kRecordsPerFlush = 8;
// WINDOW frames are 14 bytes.
constexpr std::size_t kWindowFrameSize = protocol::kFrameHeaderSize + 4;

template <Stream* Stream::*Prev, Stream* Stream::*Next, bool Stream::*Listed>
struct StreamList {
  static void push_back(Stream*& head, Stream*& tail, Stream& s) noexcept {
    if (s.*Listed) return;
    s.*Listed = true;
    s.*Prev = tail;
    s.*Next = nullptr;
    (tail ? tail->*Next : head) = &s;
    tail = &s;
  }
  static void remove(Stream*& head, Stream*& tail, Stream& s) noexcept {
    if (!(s.*Listed)) return;
    s.*Listed = false;
    (s.*Prev ? s.*Prev->*Next : head) = s.*Next;
    (s.*Next ? s.*Next->*Prev : tail) = s.*Prev;
    s.*Prev = s.*Next = nullptr;
  }
};
using DataList = StreamList<&Stream::prev_data, &Stream::next_data, &Stream::in_data_list>;
using WindowList = StreamList<&Stream::prev_window, &Stream::next_window, &Stream::in_window_list>;

// The length field of the frame at `frame` (its header is whole).
std::size_t frame_length(const std::byte* frame) noexcept {
  return protocol::frame_payload_length(
      std::span<const std::byte, protocol::kFrameHeaderSize>(frame, protocol::kFrameHeaderSize));
}

}  // namespace

/// One record being built: its pieces are in pieces_; which streams' frames it carries.
struct SessionWriter::Record {
  std::size_t plaintext = 0;
  struct Sealed {
    Stream* stream;
    std::size_t frames;
    bool fin;
  };
  std::array<Sealed, kMaxSealPieces / 2> streams{};
  std::size_t stream_count = 0;
  bool carries_close = false;
};

struct SessionWriter::Work {
  SessionWriter& writer;
  bool await_ready() const noexcept { return writer.stopped_ || writer.has_work(); }
  void await_suspend(std::coroutine_handle<> h) noexcept { writer.waiter_ = h; }
  void await_resume() const noexcept {}
};

SessionWriter::SessionWriter(Channel& channel, int fd)
    : reactor_(*runtime::Reactor::current()),
      channel_(channel),
      fd_(fd),
      out_capacity_(kRecordsPerFlush * channel.sealed_size(channel.max_plaintext())) {
  // _for_overwrite: make_unique would zero the buffer, touching every page of an idle
  // session's writer.
  out_ = std::make_unique_for_overwrite<std::byte[]>(out_capacity_);
  control_.reserve(4096);
  windows_.reserve(1024);
  pieces_.reserve(kMaxSealPieces);
}

void SessionWriter::wake() noexcept {
  if (waiter_) reactor_.schedule(std::exchange(waiter_, nullptr));
}

bool SessionWriter::has_work() const noexcept {
  if (close_sent_) return false;
  return !control_.empty() || !datagrams_.empty() || window_head_ != nullptr ||
         data_head_ != nullptr || closing_;
}

bool SessionWriter::datagram(Stream& stream, std::span<const std::byte> bytes) {
  // Each entry counts its bookkeeping too: zero-byte datagrams take no credit, and must not
  // queue without bound while the socket is blocked.
  const std::size_t cost = bytes.size() + kDatagramOverhead;
  if (datagram_bytes_ + cost > kMaxQueuedDatagramBytes) return false;
  QueuedDatagram entry{&stream, std::make_unique_for_overwrite<std::byte[]>(bytes.size()),
                       static_cast<std::uint32_t>(bytes.size()), {}};
  if (!bytes.empty()) std::memcpy(entry.bytes.get(), bytes.data(), bytes.size());
  datagrams_.push_back(std::move(entry));
  datagram_bytes_ += cost;
  wake();
  return true;
}

void SessionWriter::window(Stream& stream) {
  WindowList::push_back(window_head_, window_tail_, stream);
  wake();
}

void SessionWriter::data(Stream& stream) {
  DataList::push_back(data_head_, data_tail_, stream);
  wake();
}

void SessionWriter::forget(Stream& stream) noexcept {
  DataList::remove(data_head_, data_tail_, stream);
  WindowList::remove(window_head_, window_tail_, stream);
  if (datagrams_.empty()) return;
  // Never called while a record is being built (datagrams_taken_ is 0 then).
  std::erase_if(datagrams_, [&](const QueuedDatagram& entry) {
    if (entry.stream != &stream) return false;
    datagram_bytes_ -= entry.size + kDatagramOverhead;
    return true;
  });
}

void SessionWriter::close(protocol::Reason reason, std::string_view message) {
  if (closing_) return;
  closing_ = true;
  protocol::ByteWriter out(close_frame_);
  if (!protocol::append_frame(out, 0, protocol::Close{reason, message})) {
    close_frame_.clear();
    (void)protocol::append_frame(out, 0, protocol::Close{reason, {}});
  }
  wake();
}

void SessionWriter::stop() noexcept {
  stopped_ = true;
  if (waiter_) reactor_.schedule(std::exchange(waiter_, nullptr));
}

runtime::Task<void> SessionWriter::run() {
  while (!stopped_ && !close_sent_) {
    co_await Work{*this};
    if (stopped_) break;
    auto sealed = flush(Clock::now());
    if (!sealed) {
      error_ = sealed.error();
      break;
    }
    if (*sealed == 0) continue;
    auto sent = co_await runtime::send_all(fd_, std::span<const std::byte>(out_.get(), *sealed));
    if (!sent) {
      if (!stopped_) error_ = sent.error();
      break;
    }
    ++stats_.sends;
    stats_.bytes_sent += *sealed;
  }
}

Result<std::size_t> SessionWriter::flush(Clock::time_point now) {
  const std::size_t largest = channel_.sealed_size(channel_.max_plaintext());
  std::size_t used = 0;
  // With datagrams waiting, one record per send: the datagrams behind them (and the PONGs
  // and small frames of interactive streams) wait for a 64 KiB send, not a 512 KiB one.
  const std::size_t capacity = datagrams_.empty() ? out_capacity_ : largest;
  while (has_work() && capacity - used >= largest) {
    Record record;
    pieces_.clear();
    take_control(record);
    take_datagrams(record);
    take_windows(record);
    take_data(record);
    const bool others_left = !control_.empty() && control_taken_ < control_.size();
    if (closing_ && !others_left && datagrams_taken_ == datagrams_.size() &&
        data_head_ == nullptr && window_head_ == nullptr &&
        record.plaintext + close_frame_.size() <= channel_.max_plaintext()) {
      pieces_.push_back(close_frame_);
      record.plaintext += close_frame_.size();
      record.carries_close = true;
    }
    if (record.plaintext == 0) break;
    auto sealed = seal_record(record, used, now);
    if (!sealed) return sealed.error();
    used += *sealed;
  }
  return used;
}

Result<std::size_t> SessionWriter::seal_record(Record& record, std::size_t used,
                                               Clock::time_point now) {
  auto sealed = channel_.seal(pieces_, std::span<std::byte>(out_.get() + used, out_capacity_ - used),
                              now);
  if (!sealed) return sealed.error();
  ++stats_.records;
  finish_record(record);
  return sealed;
}

void SessionWriter::take_control(Record& record) {
  control_taken_ = 0;
  const std::size_t limit = channel_.max_plaintext();
  while (control_taken_ + protocol::kFrameHeaderSize <= control_.size()) {
    const std::size_t size =
        protocol::kFrameHeaderSize + frame_length(control_.data() + control_taken_);
    if (record.plaintext + size > limit) break;
    control_taken_ += size;
    record.plaintext += size;
  }
  if (control_taken_ > 0) pieces_.push_back(std::span(control_).first(control_taken_));
}

void SessionWriter::take_datagrams(Record& record) {
  datagrams_taken_ = 0;
  const std::size_t limit = channel_.max_plaintext();
  for (QueuedDatagram& entry : datagrams_) {
    const std::size_t size = protocol::kFrameHeaderSize + entry.size;
    if (record.plaintext + size > limit || pieces_.size() + 2 > kMaxSealPieces) break;
    protocol::write_frame_header(entry.header, protocol::FrameType::data, 0, entry.stream->id(),
                                 entry.size);
    pieces_.push_back(entry.header);
    pieces_.push_back(std::span<const std::byte>(entry.bytes.get(), entry.size));
    record.plaintext += size;
    stats_.data_bytes += entry.size;
    ++datagrams_taken_;
  }
}

void SessionWriter::take_windows(Record& record) {
  windows_.clear();
  const std::size_t limit = channel_.max_plaintext();
  while (window_head_ != nullptr && record.plaintext + kWindowFrameSize <= limit) {
    Stream& stream = *window_head_;
    WindowList::remove(window_head_, window_tail_, stream);
    const std::uint32_t credit = stream.credit_to_return();
    if (credit == 0) continue;
    protocol::ByteWriter out(windows_);
    (void)protocol::append_frame(out, stream.id(), protocol::Window{credit});
    record.plaintext += kWindowFrameSize;
  }
  if (!windows_.empty()) pieces_.push_back(windows_);
}

void SessionWriter::take_data(Record& record) {
  const std::size_t limit = channel_.max_plaintext();
  for (Stream *stream = data_head_, *next = nullptr; stream != nullptr; stream = next) {
    next = stream->next_data;
    if (record.stream_count == record.streams.size()) break;
    PendingFrames& pending = stream->pending();
    if (pending.empty()) {  // nothing queued after all: off the list, or the loop would spin
      DataList::remove(data_head_, data_tail_, *stream);
      continue;
    }
    std::size_t frames = 0;
    bool full = false;
    for (; frames < pending.count; ++frames) {
      PendingFrames::Entry& entry = pending.at(frames);
      const std::size_t size = protocol::kFrameHeaderSize + entry.bytes.size();
      if (record.plaintext + size > limit || pieces_.size() + 2 > kMaxSealPieces) {
        full = true;
        break;
      }
      protocol::write_frame_header(entry.header, protocol::FrameType::data, 0, stream->id(),
                                   static_cast<std::uint32_t>(entry.bytes.size()));
      pieces_.push_back(entry.header);
      pieces_.push_back(entry.bytes);
      record.plaintext += size;
      stats_.data_bytes += entry.bytes.size();
    }
    bool fin = false;
    if (!full && pending.fin && record.plaintext + protocol::kFrameHeaderSize <= limit &&
        pieces_.size() < kMaxSealPieces) {
      protocol::write_frame_header(pending.fin_frame, protocol::FrameType::fin, 0, stream->id(), 0);
      pieces_.push_back(pending.fin_frame);
      record.plaintext += protocol::kFrameHeaderSize;
      fin = true;
    }
    if (frames > 0 || fin) record.streams[record.stream_count++] = {stream, frames, fin};
    if (full || (pending.fin && !fin)) break;
  }
}

void SessionWriter::finish_record(Record& record) noexcept {
  control_.erase(control_.begin(), control_.begin() + static_cast<std::ptrdiff_t>(control_taken_));
  control_taken_ = 0;
  for (; datagrams_taken_ > 0; --datagrams_taken_) {  // sealed: the copies are done with
    datagram_bytes_ -= datagrams_.front().size + kDatagramOverhead;
    datagrams_.pop_front();
  }
  if (record.carries_close) close_sent_ = true;
  // Lists first (a stream with more to send goes to the back: round-robin), then tell the
  // streams, which may finish and be destroyed by their session.
  for (std::size_t i = 0; i < record.stream_count; ++i) {
    const auto& sealed = record.streams[i];
    const bool rest = sealed.frames < sealed.stream->pending().count ||
                      (sealed.stream->pending().fin && !sealed.fin);
    DataList::remove(data_head_, data_tail_, *sealed.stream);
    if (rest) DataList::push_back(data_head_, data_tail_, *sealed.stream);
  }
  for (std::size_t i = 0; i < record.stream_count; ++i) {
    const auto& sealed = record.streams[i];
    sealed.stream->on_sealed(sealed.frames, sealed.fin);
  }
}

}  // namespace ringtunnel::tunnel
