// See transaction_buffer.hpp.
#include "core/source/transaction_buffer.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace pgcs::source {

namespace {

constexpr std::size_t kChunkSize = std::size_t{256} * 1024;
constexpr std::size_t kIoBufferSize = std::size_t{1024} * 1024;
constexpr std::size_t kHeaderSize = 8 + 8 + 4 + 4;

std::string errno_text() {
    return std::strerror(errno);
}

void put(std::byte*& p, const void* value, std::size_t n) {
    std::memcpy(p, value, n);
    p += n;
}

// An unlinked temporary file in `directory`; not valid (errno set) when none can be created.
base::UniqueFd open_spill_file(const std::string& directory) {
    base::UniqueFd fd;
#ifdef O_TMPFILE
    fd.reset(::open(directory.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600));
#endif
    if (!fd) {  // no O_TMPFILE here: create, then unlink at once
        std::string path = directory + "/pgchangeset-spill-XXXXXX";
        fd.reset(::mkostemp(path.data(), O_CLOEXEC));
        if (fd) {
            ::unlink(path.c_str());
        }
    }
    return fd;
}

}  // namespace

std::optional<std::string> spill_directory_problem(const std::string& directory) {
    struct stat st {};
    if (::stat(directory.c_str(), &st) != 0) {
        return "cannot use " + directory + " (" + errno_text() + ")";
    }
    if (!S_ISDIR(st.st_mode)) {
        return directory + " is not a directory";
    }
    base::UniqueFd fd = open_spill_file(directory);
    if (!fd) {
        return "cannot create a file in " + directory + " (" + errno_text() + ")";
    }
    const char byte = 0;
    if (::write(fd.get(), &byte, 1) != 1) {
        return "cannot write a file in " + directory + " (" + errno_text() + ")";
    }
    return std::nullopt;
}

TransactionBuffer::TransactionBuffer(MemoryBudget& budget, std::string spill_directory)
    : budget_(&budget), directory_(std::move(spill_directory)) {}

TransactionBuffer::~TransactionBuffer() {
    clear();
}

// Not defaulted: the moved-from buffer must hand back no memory to the budget when it is
// cleared or destroyed, so its counters are zeroed (the spill file moves with fd_).
TransactionBuffer::TransactionBuffer(TransactionBuffer&& other) noexcept
    : budget_(other.budget_),
      directory_(std::move(other.directory_)),
      chunks_(std::move(other.chunks_)),
      chunk_used_(other.chunk_used_),
      chunk_size_(other.chunk_size_),
      index_(std::move(other.index_)),
      memory_bytes_(other.memory_bytes_),
      fd_(std::move(other.fd_)),
      write_buffer_(std::move(other.write_buffer_)),
      file_bytes_(other.file_bytes_),
      count_(other.count_),
      total_bytes_(other.total_bytes_) {
    other.memory_bytes_ = 0;
    other.count_ = 0;
    other.total_bytes_ = 0;
    other.chunk_used_ = other.chunk_size_ = 0;
}

std::byte* TransactionBuffer::store(std::span<const std::byte> bytes) {
    if (bytes.size() > kChunkSize / 4) {  // a large message gets an allocation of its own
        auto own = std::make_unique<std::byte[]>(bytes.size());
        std::byte* p = own.get();
        // Keep the current chunk last so that later small messages still fill it.
        chunks_.insert(chunks_.empty() ? chunks_.end() : chunks_.end() - 1, std::move(own));
        std::memcpy(p, bytes.data(), bytes.size());
        return p;
    }
    if (chunks_.empty() || chunk_size_ - chunk_used_ < bytes.size()) {
        chunks_.push_back(std::make_unique<std::byte[]>(kChunkSize));
        chunk_size_ = kChunkSize;
        chunk_used_ = 0;
    }
    std::byte* p = chunks_.back().get() + chunk_used_;
    if (!bytes.empty()) {
        std::memcpy(p, bytes.data(), bytes.size());
    }
    chunk_used_ += bytes.size();
    return p;
}

void TransactionBuffer::append(std::uint64_t lsn, std::int64_t captured_time, std::uint32_t xid,
                               std::span<const std::byte> bytes) {
    const Index header{lsn, captured_time, xid, nullptr, bytes.size()};
    const std::uint64_t cost = bytes.size() + sizeof(Index);
    if (!fd_ && !budget_->fits(cost)) {
        spill();
    }
    if (fd_) {
        write_entry(header, bytes);
    } else {
        index_.push_back(header);
        index_.back().data = store(bytes);
        memory_bytes_ += cost;
        budget_->take(cost);
    }
    ++count_;
    total_bytes_ += bytes.size();
}

void TransactionBuffer::spill() {
    fd_ = open_spill_file(directory_);
    if (!fd_) {
        throw SpillError("cannot create a spill file in " + directory_ + " (" + errno_text() +
                         "): a transaction is larger than buffer.memory_limit; make the folder "
                         "writable or set buffer.spill_directory");
    }
    write_buffer_.reserve(kIoBufferSize);
    for (const Index& x : index_) {
        write_entry(x, {x.data, x.length});
    }
    release_memory();
}

void TransactionBuffer::write_entry(const Index& header, std::span<const std::byte> bytes) {
    if (write_buffer_.size() + kHeaderSize + bytes.size() > kIoBufferSize) {
        flush_writes();
    }
    const std::size_t at = write_buffer_.size();
    write_buffer_.resize(at + kHeaderSize);
    std::byte* p = write_buffer_.data() + at;
    const auto length = static_cast<std::uint32_t>(bytes.size());
    put(p, &header.lsn, 8);
    put(p, &header.captured_time, 8);
    put(p, &header.xid, 4);
    put(p, &length, 4);
    write_buffer_.insert(write_buffer_.end(), bytes.begin(), bytes.end());
    if (write_buffer_.size() >= kIoBufferSize) {
        flush_writes();
    }
}

void TransactionBuffer::flush_writes() {
    std::size_t done = 0;
    while (done < write_buffer_.size()) {
        const ssize_t n =
            ::pwrite(fd_.get(), write_buffer_.data() + done, write_buffer_.size() - done,
                     static_cast<off_t>(file_bytes_ + done));
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            throw SpillError("cannot write the spill file in " + directory_ + " (" + errno_text() +
                             "); free space there or set buffer.spill_directory (nothing of "
                             "this transaction was acknowledged)");
        }
        done += static_cast<std::size_t>(n);
    }
    file_bytes_ += write_buffer_.size();
    write_buffer_.clear();
}

void TransactionBuffer::release_memory() {
    budget_->give_back(memory_bytes_);
    memory_bytes_ = 0;
    index_.clear();
    index_.shrink_to_fit();
    chunks_.clear();
    chunk_used_ = chunk_size_ = 0;
}

void TransactionBuffer::clear() {
    if (fd_) {
        fd_.reset();
        file_bytes_ = 0;
        write_buffer_.clear();
        write_buffer_.shrink_to_fit();
    }
    if (chunks_.size() == 1 && chunk_size_ == kChunkSize) {
        // Keep one chunk: the common small transaction then allocates nothing.
        budget_->give_back(memory_bytes_);
        memory_bytes_ = 0;
        index_.clear();
        chunk_used_ = 0;
    } else {
        release_memory();
    }
    count_ = 0;
    total_bytes_ = 0;
}

void TransactionBuffer::replay(const std::function<void(const Entry&)>& f) {
    if (!fd_) {
        for (const Index& x : index_) {
            f(Entry{x.lsn, x.captured_time, x.xid, {x.data, x.length}});
        }
        return;
    }
    flush_writes();
    std::vector<std::byte> buffer(kIoBufferSize);
    std::size_t have = 0;   // bytes in `buffer`
    std::size_t start = 0;  // first unread byte in `buffer`
    std::uint64_t offset = 0;
    auto fill = [&](std::size_t need) {
        if (have - start >= need) {
            return;
        }
        std::memmove(buffer.data(), buffer.data() + start, have - start);
        have -= start;
        start = 0;
        if (buffer.size() < need) {
            buffer.resize(need);
        }
        while (have < need) {
            const ssize_t n = ::pread(fd_.get(), buffer.data() + have, buffer.size() - have,
                                      static_cast<off_t>(offset));
            if (n < 0 && errno == EINTR) {
                continue;
            }
            if (n <= 0) {
                throw SpillError("cannot read back the spill file in " + directory_ + " (" +
                                 (n == 0 ? std::string("unexpected end") : errno_text()) + ")");
            }
            have += static_cast<std::size_t>(n);
            offset += static_cast<std::uint64_t>(n);
        }
    };
    for (std::uint64_t read = 0; read < file_bytes_;) {
        fill(kHeaderSize);
        Entry e{};
        std::uint32_t length = 0;
        const std::byte* p = buffer.data() + start;
        std::memcpy(&e.lsn, p, 8);
        std::memcpy(&e.captured_time, p + 8, 8);
        std::memcpy(&e.xid, p + 16, 4);
        std::memcpy(&length, p + 20, 4);
        start += kHeaderSize;
        fill(length);
        e.bytes = {buffer.data() + start, length};
        start += length;
        read += kHeaderSize + length;
        f(e);
    }
}

}  // namespace pgcs::source
