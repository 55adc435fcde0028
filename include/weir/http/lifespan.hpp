// Lifespan: the startup and shutdown hooks of an HTTP application.
//
// serve() runs `startup` once on every shard before that shard accepts
// connections, with the shard's Resources registry to fill (pools, clients),
// and `shutdown` once on every shard after its connections are drained, to
// close them. Both hooks are optional.
//
//     weir::http::Lifespan life;
//     life.startup = [](weir::http::Resources& r) -> weir::Task<> {
//         r.emplace<Cache>(1024);
//         co_return;
//     };
#pragma once

#include <functional>

#include "weir/core/task.hpp"
#include "weir/http/resources.hpp"

namespace weir::http {

struct Lifespan {
    std::function<Task<void>(Resources&)> startup;
    std::function<Task<void>(Resources&)> shutdown;
};

}  // namespace weir::http
