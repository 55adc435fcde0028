// ExceptionGroup: every error of a failed TaskGroup, not just the first.
//
// The counterpart of Python's ExceptionGroup / except*: callers can ask for
// the errors of one type (matching<E>()), test for them (contains<E>()), or
// split the group and rethrow what they do not handle (rethrow_except<E>()).
#pragma once

#include <exception>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace weir {

class ExceptionGroup : public std::exception {
public:
    explicit ExceptionGroup(std::vector<std::exception_ptr> errors);

    const char* what() const noexcept override { return what_.c_str(); }
    const std::vector<std::exception_ptr>& exceptions() const noexcept { return errors_; }
    std::size_t size() const noexcept { return errors_.size(); }

    // Every error that is an E (or derives from it), in completion order.
    // Nested groups are searched too (matching<ExceptionGroup>() gives the
    // directly nested groups).
    template <class E>
    std::vector<const E*> matching() const {
        std::vector<const E*> out;
        collect<E>(out);
        return out;
    }

    template <class E>
    bool contains() const {
        return !matching<E>().empty();
    }

    // The errors that are not E, as a group (nullopt-like empty group if none).
    template <class E>
    std::vector<std::exception_ptr> without() const {
        std::vector<std::exception_ptr> rest;
        for (const auto& e : errors_) {
            if constexpr (std::is_same_v<E, ExceptionGroup>) {
                if (!is_group(e)) rest.push_back(e);
            } else {
                // Nested groups first: E may be a base of ExceptionGroup
                // (std::exception), and a group is split, never matched whole.
                try {
                    std::rethrow_exception(e);
                } catch (const ExceptionGroup& g) {
                    auto inner = g.without<E>();
                    if (!inner.empty())
                        rest.push_back(std::make_exception_ptr(ExceptionGroup(std::move(inner))));
                } catch (const E&) {
                } catch (...) {
                    rest.push_back(e);
                }
            }
        }
        return rest;
    }

    // except* E: if anything other than E is in the group, rethrow that
    // remainder as a group; otherwise return (E errors are handled).
    template <class E>
    void rethrow_except() const {
        auto rest = without<E>();
        if (!rest.empty()) throw ExceptionGroup(std::move(rest));
    }

private:
    template <class E>
    void collect(std::vector<const E*>& out) const {
        for (const auto& e : errors_) {
            if constexpr (std::is_same_v<E, ExceptionGroup>) {
                try {
                    std::rethrow_exception(e);
                } catch (const ExceptionGroup& g) {
                    out.push_back(&g);
                } catch (...) {
                }
            } else {
                try {
                    std::rethrow_exception(e);
                } catch (const ExceptionGroup& g) {  // before E, which may be its base
                    g.collect<E>(out);
                } catch (const E& x) {
                    out.push_back(&x);
                } catch (...) {
                }
            }
        }
    }
    static bool is_group(const std::exception_ptr& e) noexcept {
        try {
            std::rethrow_exception(e);
        } catch (const ExceptionGroup&) {
            return true;
        } catch (...) {
            return false;
        }
    }

    std::vector<std::exception_ptr> errors_;
    std::string what_;
};

}  // namespace weir
