// Resources: the typed registry behind dependency injection.
//
// The application's lifespan startup hooks create long-lived resources
// (pools, clients) once per shard and put them here; handlers receive them
// by type (ctx.get<PgPool>() or as extra handler parameters). Shutdown
// hooks close them. Nothing is global and nothing is built per request.
#pragma once

#include <memory>
#include <stdexcept>
#include <string>
#include <typeinfo>
#include <utility>
#include <vector>

namespace weir::http {

class Resources {
public:
    Resources() = default;
    Resources(const Resources&) = delete;
    Resources& operator=(const Resources&) = delete;

    // Stores a resource of type T (one per type); returns it.
    template <class T, class... Args>
    T& emplace(Args&&... args) {
        if (find<T>()) throw std::logic_error(std::string("resource registered twice: ") +
                                              typeid(T).name());
        auto holder = std::make_unique<Holder<T>>(std::forward<Args>(args)...);
        T& ref = holder->value;
        entries_.push_back(Entry{&typeid(T), &holder->value, std::move(holder)});
        return ref;
    }

    template <class T>
    T* find() noexcept {
        for (auto& e : entries_)
            if (*e.type == typeid(T)) return static_cast<T*>(e.ptr);
        return nullptr;
    }

    // The resource of type T; throws std::logic_error naming T if absent.
    template <class T>
    T& get() {
        if (T* p = find<T>()) return *p;
        throw std::logic_error(std::string("no resource of type ") + typeid(T).name() +
                               " (register it in a startup hook)");
    }

    // Destroys resources in reverse order of registration.
    void clear() noexcept {
        while (!entries_.empty()) entries_.pop_back();
    }
    ~Resources() { clear(); }

private:
    struct HolderBase {
        virtual ~HolderBase() = default;
    };
    template <class T>
    struct Holder final : HolderBase {
        template <class... Args>
        explicit Holder(Args&&... args) : value(std::forward<Args>(args)...) {}
        T value;
    };
    struct Entry {
        const std::type_info* type;
        void* ptr;
        std::unique_ptr<HolderBase> holder;
    };
    std::vector<Entry> entries_;
};

}  // namespace weir::http
