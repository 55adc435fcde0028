#include "weir/core/exception_group.hpp"

namespace weir {

ExceptionGroup::ExceptionGroup(std::vector<std::exception_ptr> errors)
    : errors_(std::move(errors)) {
    what_ = "task group failed with " + std::to_string(errors_.size()) + " error(s)";
    for (const auto& e : errors_) {
        try {
            std::rethrow_exception(e);
        } catch (const std::exception& x) {
            what_ += "; ";
            what_ += x.what();
        } catch (...) {
            what_ += "; <non-standard exception>";
        }
    }
}

}  // namespace weir
