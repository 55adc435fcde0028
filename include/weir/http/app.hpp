// App: the application layer on top of the server: routes with typed path
// parameters, handlers with injected resources and typed JSON bodies,
// middleware, lifespan hooks and a generated OpenAPI document.
//
//     weir::http::App app;
//     app.on_startup([](Resources& res) -> Task<void> { res.emplace<Db>(...); co_return; });
//     app.on_shutdown([](Resources& res) -> Task<void> { co_await res.get<Db>().close(); });
//     app.use(weir::http::middleware::access_log());
//     app.get("/plaintext", [](Request&, Context&) -> Task<Response> {
//         co_return Response::text("Hello, World!");
//     });
//     app.get("/items/{id:int}", [](Request& req, Context&, Db& db) -> Task<Response> {
//         co_return Response::json(co_await db.item(path_param_int(req, "id")));
//     }, {.timeout = std::chrono::seconds(2), .summary = "One item", .tags = {"items"}});
//     app.post<Order>("/orders", [](Order order, Context&) -> Task<Receipt> { ... },
//                     {.status_code = 201});
//     co_await weir::http::serve(app.handler(), options, app.lifespan());
//
// Handler parameters are resolved by type: Request&, Context&, Query<T> and Path<T> (typed
// query/path parameters, see params.hpp), the typed body (Body, const Body& or Body&&; only on
// routes registered with an explicit Body), and any other T& / const T&, which is taken from
// the shard's Resources (ctx.get<T>(); a missing one is a 500 naming
// the type). A handler returns Task<Response>, Task<void> (204), or Task<T> for a JSON-
// serialisable T (a described struct, vector, ...; status RouteOptions::status_code), or the
// same without Task for synchronous handlers.
//
// A body that fails validation is answered with 422 and FastAPI's error shape before the handler
// runs. Exceptions never escape handler(): HttpError -> its status, UrlDecodeError -> 400,
// TimeoutError -> 504, others -> 500 (see error_response); Cancelled propagates.
//
// Configure the App completely before calling handler() (which freezes it); the handler and
// lifespan share the App's state and can be called from every shard.
#pragma once

#include <chrono>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <typeinfo>
#include <utility>
#include <vector>

#include "weir/core/clock.hpp"
#include "weir/core/task.hpp"
#include "weir/http/context.hpp"
#include "weir/http/handler.hpp"
#include "weir/http/http_method.hpp"
#include "weir/http/json.hpp"
#include "weir/http/lifespan.hpp"
#include "weir/http/middleware.hpp"
#include "weir/http/openapi.hpp"
#include "weir/http/params.hpp"
#include "weir/http/request.hpp"
#include "weir/http/resources.hpp"
#include "weir/http/response.hpp"
#include "weir/http/router.hpp"
#include "weir/http/typed_body.hpp"

namespace weir::http {

struct RouteOptions {
    // The handler runs under with_timeout(timeout): on expiry it is cancelled and the request
    // is answered 504. Awaits inside inherit the deadline (current_deadline()).
    std::optional<Duration> timeout{};
    std::string summary{};             // OpenAPI
    std::string description{};         // OpenAPI
    std::vector<std::string> tags{};   // OpenAPI
    std::string operation_id{};        // OpenAPI; empty: derived from method and path
    int status_code = 200;             // for handlers returning a value (not a Response)
    bool forbid_extra_fields = false;  // typed bodies: unknown members are a 422
    bool include_in_schema = true;     // list the route in the OpenAPI document
};

struct AppOptions {
    bool debug = false;   // 500 responses carry the exception type and text
    LogSink error_log{};  // unexpected errors (500s) are reported here; empty: stderr
    std::string openapi_path = "/openapi.json";  // GET route serving the document; empty: none
    OpenApiInfo info{};
};

using LifespanHook = std::function<Task<void>(Resources&)>;

// A handler parameter asked for a resource the shard's Resources do not hold.
class MissingResource : public std::logic_error {
public:
    explicit MissingResource(const std::type_info& type);
};

namespace detail {

struct RouteSpec {
    Method method = Method::Get;
    std::string pattern;
    Handler handler;
    RouteOptions options;
    SchemaWriter request_schema = nullptr;
    SchemaWriter response_schema = nullptr;
    SchemaWriter query_parameters = nullptr;  // Query<T> handler parameters, for OpenAPI
};

struct AppState;

// ---- handler adaptation ---------------------------------------------------------------------

template <class T>
struct IsTask : std::false_type {};
template <class T>
struct IsTask<Task<T>> : std::true_type {
    using Value = T;
};

// T for Task<T>, else R itself.
template <class R>
struct TaskValue {
    using type = R;
};
template <class T>
struct TaskValue<Task<T>> {
    using type = T;
};

template <class... A>
struct ArgList {};

template <class F>
struct Signature : Signature<decltype(&F::operator())> {};
template <class R, class... A>
struct Signature<R (*)(A...)> {
    using Args = ArgList<A...>;
};
template <class R, class... A>
struct Signature<R (*)(A...) noexcept> : Signature<R (*)(A...)> {};
template <class R, class C, class... A>
struct Signature<R (C::*)(A...)> : Signature<R (*)(A...)> {};
template <class R, class C, class... A>
struct Signature<R (C::*)(A...) const> : Signature<R (*)(A...)> {};
template <class R, class C, class... A>
struct Signature<R (C::*)(A...) noexcept> : Signature<R (*)(A...)> {};
template <class R, class C, class... A>
struct Signature<R (C::*)(A...) const noexcept> : Signature<R (*)(A...)> {};

struct NoBody {};

template <class T>
T& resource(Context& ctx) {
    if (T* p = ctx.resources().template find<T>()) return *p;
    throw MissingResource(typeid(T));
}

// What a handler parameter needs prepared before the call: Query<T> and Path<T> are read
// (and validated) first, so that every bad parameter is reported in one 422.
template <class A>
struct ArgStore {};
template <class A>
requires ParamModel<std::remove_cvref_t<A>>::value struct ArgStore<A> {
    std::optional<std::remove_cvref_t<A>> value;
};

template <class A>
void prepare_arg(ArgStore<A>& store, Request& req, std::vector<ValidationIssue>& issues) {
    using T = std::remove_cvref_t<A>;
    if constexpr (ParamModel<T>::value) {
        using Model = typename ParamModel<T>::Model;
        std::optional<Model> m;
        if constexpr (std::is_same_v<T, Query<Model>>) {
            m = read_params<Model>(req.query_params(), "query", issues);
        } else {
            m = read_params<Model>(path_param_pairs(req), "path", issues);
        }
        if (m) store.value = T{std::move(*m)};
    }
}

template <class... A>
inline constexpr bool kHasParamModels = (ParamModel<std::remove_cvref_t<A>>::value || ...);

template <class A, class Body>
decltype(auto) inject(Request& req, Context& ctx, Body* body, ArgStore<A>& store) {
    using T = std::remove_cvref_t<A>;
    if constexpr (std::is_same_v<T, Request>) {
        return (req);
    } else if constexpr (std::is_same_v<T, Context>) {
        return (ctx);
    } else if constexpr (ParamModel<T>::value) {
        return std::move(*store.value);
    } else if constexpr (!std::is_same_v<Body, NoBody> && std::is_same_v<T, Body>) {
        return std::move(*body);
    } else {
        static_assert(std::is_lvalue_reference_v<A>,
                      "App handler parameters: take Request&, Context&, Query<T>, Path<T>, the "
                      "typed body, or a resource by reference (T& or const T&)");
        return resource<T>(ctx);
    }
}

// Writes the OpenAPI parameter objects of every Query<T> among A.
template <class... A>
void write_query_parameters(JsonWriter& w, SchemaRegistry& reg) {
    (
        [&] {
            using T = std::remove_cvref_t<A>;
            if constexpr (ParamModel<T>::value) {
                if constexpr (std::is_same_v<T, Query<typename ParamModel<T>::Model>>) {
                    write_param_docs<typename ParamModel<T>::Model>(w, reg, "query");
                }
            }
        }(),
        ...);
}

template <class V>
Response to_response(V&& value, int status) {
    using T = std::remove_cvref_t<V>;
    if constexpr (std::is_same_v<T, Response>) {
        return std::forward<V>(value);
    } else {
        static_assert(kJsonSerializable<T>,
                      "App handlers return Response, void, or a JSON-serialisable value");
        return Response::json(to_json(value), status);
    }
}

template <class Body, class F, class... A>
Handler adapt(F f, ArgList<A...>, int status, bool forbid_extra) {
    return [f = std::move(f), status, forbid_extra](Request& req, Context& ctx) -> Task<Response> {
        std::optional<Body> parsed;
        std::tuple<ArgStore<A>...> stores;
        (void)forbid_extra;  // used by typed-body routes only
        if constexpr (kHasParamModels<A...> || !std::is_same_v<Body, NoBody>) {
            std::vector<ValidationIssue> issues;
            if constexpr (kHasParamModels<A...>) {
                [&]<std::size_t... I>(std::index_sequence<I...>) {
                    (prepare_arg<A>(std::get<I>(stores), req, issues), ...);
                }
                (std::index_sequence_for<A...>{});
            }
            if constexpr (!std::is_same_v<Body, NoBody>) {
                JsonReadOptions ro;
                ro.forbid_extra_fields = forbid_extra;
                parsed = read_json<Body>(req.body(), issues, ro);
            }
            if (!issues.empty()) co_return validation_error_response(issues);
        }
        Body* body = parsed ? &*parsed : nullptr;
        auto call = [&]<std::size_t... I>(std::index_sequence<I...>)->decltype(auto) {
            return f(inject<A, Body>(req, ctx, body, std::get<I>(stores))...);
        };
        using R = std::invoke_result_t<const F&, A...>;
        if constexpr (IsTask<R>::value) {
            R task = call(std::index_sequence_for<A...>{});
            if constexpr (std::is_void_v<typename IsTask<R>::Value>) {
                co_await std::move(task);
                co_return Response(status == 200 ? 204 : status);
            } else {
                auto value = co_await std::move(task);
                co_return to_response(std::move(value), status);
            }
        } else if constexpr (std::is_void_v<R>) {
            call(std::index_sequence_for<A...>{});
            co_return Response(status == 200 ? 204 : status);
        } else {
            auto value = call(std::index_sequence_for<A...>{});
            co_return to_response(std::move(value), status);
        }
    };
}

// True when F already has the Handler shape: Task<Response>(Request&, Context&).
template <class F>
constexpr bool is_plain_handler() {
    if constexpr (std::is_invocable_v<F&, Request&, Context&>) {
        return std::is_same_v<std::invoke_result_t<F&, Request&, Context&>, Task<Response>>;
    } else {
        return false;
    }
}

template <class Body, class F>
Handler make_handler(F&& f, const RouteOptions& options) {
    using Fn = std::decay_t<F>;
    if constexpr (std::is_same_v<Body, NoBody> && is_plain_handler<Fn>()) {
        return Handler(std::forward<F>(f));  // already the Handler shape: no adapter frame
    } else {
        using Sig =
            Signature<std::conditional_t<std::is_function_v<std::remove_reference_t<F>>,
                                         std::add_pointer_t<std::remove_reference_t<F>>, Fn>>;
        return adapt<Body>(Fn(std::forward<F>(f)), typename Sig::Args{}, options.status_code,
                           options.forbid_extra_fields);
    }
}

template <class F, class Body>
SchemaWriter response_schema_for() {
    using Fn = std::decay_t<F>;
    using Sig = Signature<std::conditional_t<std::is_function_v<std::remove_reference_t<F>>,
                                             std::add_pointer_t<std::remove_reference_t<F>>, Fn>>;
    return []<class... A>(ArgList<A...>) -> SchemaWriter {
        using R = std::invoke_result_t<const Fn&, A...>;
        using V = typename TaskValue<R>::type;
        if constexpr (kJsonSerializable<std::remove_cvref_t<V>>) {
            return &write_json_schema<std::remove_cvref_t<V>>;
        } else {
            return nullptr;
        }
    }(typename Sig::Args{});
}

template <class F>
SchemaWriter query_parameters_for() {
    using Fn = std::decay_t<F>;
    using Sig = Signature<std::conditional_t<std::is_function_v<std::remove_reference_t<F>>,
                                             std::add_pointer_t<std::remove_reference_t<F>>, Fn>>;
    return []<class... A>(ArgList<A...>) -> SchemaWriter {
        if constexpr (kHasParamModels<A...>) {
            return &write_query_parameters<A...>;
        } else {
            return nullptr;
        }
    }(typename Sig::Args{});
}

}  // namespace detail

class App {
public:
    explicit App(AppOptions options = {});
    App(App&&) noexcept;
    App& operator=(App&&) noexcept;
    ~App();

    // ---- routes (see the header comment for handler shapes) ----
    template <class F>
    App& route(Method method, std::string_view pattern, F&& handler, RouteOptions options = {}) {
        return add<detail::NoBody>(method, pattern, std::forward<F>(handler), std::move(options));
    }
    template <class F>
    App& get(std::string_view pattern, F&& handler, RouteOptions options = {}) {
        return route(Method::Get, pattern, std::forward<F>(handler), std::move(options));
    }
    template <class F>
    App& post(std::string_view pattern, F&& handler, RouteOptions options = {}) {
        return route(Method::Post, pattern, std::forward<F>(handler), std::move(options));
    }
    template <class F>
    App& put(std::string_view pattern, F&& handler, RouteOptions options = {}) {
        return route(Method::Put, pattern, std::forward<F>(handler), std::move(options));
    }
    template <class F>
    App& patch(std::string_view pattern, F&& handler, RouteOptions options = {}) {
        return route(Method::Patch, pattern, std::forward<F>(handler), std::move(options));
    }
    template <class F>
    App& del(std::string_view pattern, F&& handler, RouteOptions options = {}) {
        return route(Method::Delete, pattern, std::forward<F>(handler), std::move(options));
    }

    // Typed-body routes: the JSON body is read into Body (a described struct, or any type
    // read_json supports) and handed to the handler; invalid bodies are answered 422.
    template <class Body, class F>
    App& route(Method method, std::string_view pattern, F&& handler, RouteOptions options = {}) {
        return add<Body>(method, pattern, std::forward<F>(handler), std::move(options));
    }
    template <class Body, class F>
    App& post(std::string_view pattern, F&& handler, RouteOptions options = {}) {
        return add<Body>(Method::Post, pattern, std::forward<F>(handler), std::move(options));
    }
    template <class Body, class F>
    App& put(std::string_view pattern, F&& handler, RouteOptions options = {}) {
        return add<Body>(Method::Put, pattern, std::forward<F>(handler), std::move(options));
    }
    template <class Body, class F>
    App& patch(std::string_view pattern, F&& handler, RouteOptions options = {}) {
        return add<Body>(Method::Patch, pattern, std::forward<F>(handler), std::move(options));
    }

    // ---- middleware, in order: the first added is the outermost ----
    App& use(Middleware middleware);

    // ---- lifespan: run once per shard by the server; shutdown hooks in reverse order ----
    App& on_startup(LifespanHook hook);
    App& on_shutdown(LifespanHook hook);
    Lifespan lifespan() const;

    // The Handler to give the server: middleware chain, router and error mapping. Freezes the
    // App (adding routes or middleware afterwards throws std::logic_error).
    Handler handler() const;

    // The OpenAPI document of the routes registered so far.
    std::string openapi() const;

    const AppOptions& options() const noexcept;

private:
    template <class Body, class F>
    App& add(Method method, std::string_view pattern, F&& handler, RouteOptions options) {
        detail::RouteSpec spec;
        spec.method = method;
        spec.pattern = pattern;
        spec.request_schema = nullptr;
        if constexpr (!std::is_same_v<Body, detail::NoBody>) {
            spec.request_schema = &write_json_schema<Body>;
        }
        if constexpr (!std::is_same_v<Body, detail::NoBody> ||
                      !detail::is_plain_handler<std::decay_t<F>>()) {
            spec.response_schema = detail::response_schema_for<F, Body>();
            spec.query_parameters = detail::query_parameters_for<F>();
        }
        spec.handler = detail::make_handler<Body>(std::forward<F>(handler), options);
        spec.options = std::move(options);
        return add_route(std::move(spec));
    }
    App& add_route(detail::RouteSpec spec);

    std::shared_ptr<detail::AppState> state_;
};

}  // namespace weir::http
