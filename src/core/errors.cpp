#include "weir/core/errors.hpp"

#include <cerrno>

namespace weir {

void throw_errno(const char* context) { throw SystemError(errno, context); }

void throw_errno(int err, const std::string& context) { throw SystemError(err, context); }

}  // namespace weir
