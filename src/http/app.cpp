// The application layer; see include/weir/http/app.hpp.
#include "weir/http/app.hpp"

#include "weir/core/cancelled.hpp"
#include "weir/core/timeout.hpp"

namespace weir::http {

MissingResource::MissingResource(const std::type_info& type)
    : std::logic_error("no resource of type " + detail::demangle(type) +
                       " in this shard's Resources (create it in an App::on_startup hook)") {}

namespace detail {

struct AppState {
    AppOptions options;
    ErrorOptions errors;
    Router router;
    std::vector<std::unique_ptr<RouteSpec>> routes;  // indexed by router target
    std::vector<Middleware> middleware;
    std::vector<LifespanHook> startup;
    std::vector<LifespanHook> shutdown;
    bool frozen = false;
    std::string openapi_doc;
    Handler endpoint;  // dispatch(), as the end of the middleware chain

    void check_not_frozen() const {
        if (frozen) {
            throw std::logic_error(
                "weir::http::App: configure routes and middleware before calling handler()");
        }
    }

    void add(RouteSpec spec) {
        check_not_frozen();
        if (!spec.handler) throw std::invalid_argument("App: empty handler for " + spec.pattern);
        router.add(spec.method, spec.pattern, routes.size());
        routes.push_back(std::make_unique<RouteSpec>(std::move(spec)));
    }

    std::string build_openapi() const {
        std::vector<OpenApiOperation> ops;
        ops.reserve(routes.size());
        for (const auto& r : routes) {
            if (!r->options.include_in_schema) continue;
            OpenApiOperation& op = ops.emplace_back();
            op.method = r->method;
            op.pattern = r->pattern;
            op.summary = r->options.summary;
            op.description = r->options.description;
            op.tags = r->options.tags;
            op.operation_id = r->options.operation_id;
            op.status_code = r->options.status_code;
            op.has_timeout = r->options.timeout.has_value();
            op.request_body = r->request_schema;
            op.response = r->response_schema;
            op.query_parameters = r->query_parameters;
        }
        return openapi_document(options.info, ops);
    }

    // Routing and the handler, with every exception but Cancelled turned into a response.
    Task<Response> dispatch(Request& req, Context& ctx) const {
        std::exception_ptr error;
        try {
            const Router::Match m = router.match(req.method(), req.path(), req);
            if (m.kind == Router::MatchKind::Found) {
                const RouteSpec& route = *routes[m.target];
                ctx.set_route(m.pattern);
                if (!route.options.timeout) co_return co_await route.handler(req, ctx);
                Task<Response> inner = route.handler(req, ctx);
                Task<Response> bounded = with_timeout(*route.options.timeout, std::move(inner));
                co_return co_await std::move(bounded);
            }
            ctx.set_route("<unmatched>");
            if (m.kind == Router::MatchKind::MethodNotAllowed) {
                Response resp = problem_response(405, "Method Not Allowed");
                resp.header("Allow", Router::allow_header(m.allowed));
                co_return resp;
            }
            co_return problem_response(404, "Not Found");
        } catch (const Cancelled&) {
            throw;
        } catch (...) {
            error = std::current_exception();
        }
        co_return error_response(error, errors, req, ctx);
    }

    // The middleware chain around dispatch(), guarded the same way.
    Task<Response> run_chain(Request& req, Context& ctx) const {
        std::exception_ptr error;
        try {
            const Next next(middleware.data(), middleware.size(), &endpoint);
            co_return co_await next(req, ctx);
        } catch (const Cancelled&) {
            throw;
        } catch (...) {
            error = std::current_exception();
        }
        co_return error_response(error, errors, req, ctx);
    }
};

namespace {

Task<void> run_startup(std::shared_ptr<const AppState> state, Resources& resources) {
    for (const LifespanHook& hook : state->startup) {
        Task<void> step = hook(resources);
        co_await std::move(step);
    }
}

Task<void> run_shutdown(std::shared_ptr<const AppState> state, Resources& resources) {
    std::exception_ptr first;
    for (auto it = state->shutdown.rbegin(); it != state->shutdown.rend(); ++it) {
        try {
            Task<void> step = (*it)(resources);
            co_await std::move(step);
        } catch (const Cancelled&) {
            throw;
        } catch (...) {
            if (!first) first = std::current_exception();
        }
    }
    if (first) std::rethrow_exception(first);
}

}  // namespace

}  // namespace detail

App::App(AppOptions options) : state_(std::make_shared<detail::AppState>()) {
    state_->options = std::move(options);
    state_->errors.debug = state_->options.debug;
    state_->errors.log = state_->options.error_log ? state_->options.error_log : stderr_log();
    detail::AppState* s = state_.get();
    state_->endpoint = [s](Request& req, Context& ctx) { return s->dispatch(req, ctx); };
}

App::App(App&&) noexcept = default;
App& App::operator=(App&&) noexcept = default;
App::~App() = default;

const AppOptions& App::options() const noexcept { return state_->options; }

App& App::add_route(detail::RouteSpec spec) {
    state_->add(std::move(spec));
    return *this;
}

App& App::use(Middleware middleware) {
    state_->check_not_frozen();
    if (!middleware) throw std::invalid_argument("App::use: empty middleware");
    state_->middleware.push_back(std::move(middleware));
    return *this;
}

App& App::on_startup(LifespanHook hook) {
    state_->check_not_frozen();
    state_->startup.push_back(std::move(hook));
    return *this;
}

App& App::on_shutdown(LifespanHook hook) {
    state_->check_not_frozen();
    state_->shutdown.push_back(std::move(hook));
    return *this;
}

Lifespan App::lifespan() const {
    std::shared_ptr<const detail::AppState> s = state_;
    Lifespan l;
    l.startup = [s](Resources& res) { return detail::run_startup(s, res); };
    l.shutdown = [s](Resources& res) { return detail::run_shutdown(s, res); };
    return l;
}

std::string App::openapi() const { return state_->build_openapi(); }

Handler App::handler() const {
    detail::AppState& st = *state_;
    if (!st.frozen) {
        const std::string& path = st.options.openapi_path;
        if (!path.empty()) {
            const detail::AppState* s = state_.get();
            detail::RouteSpec spec;
            spec.method = Method::Get;
            spec.pattern = path;
            spec.handler = [s](Request&, Context&) -> Task<Response> {
                co_return Response::json(s->openapi_doc);
            };
            spec.options.include_in_schema = false;
            bool user_defined = false;
            for (const auto& r : st.routes) {
                user_defined = user_defined || (r->method == Method::Get && r->pattern == path);
            }
            if (!user_defined) st.add(std::move(spec));  // the application's own route wins
        }
        st.openapi_doc = st.build_openapi();
        st.frozen = true;
    }
    std::shared_ptr<const detail::AppState> s = state_;
    if (s->middleware.empty()) {
        return [s](Request& req, Context& ctx) { return s->dispatch(req, ctx); };
    }
    return [s](Request& req, Context& ctx) { return s->run_chain(req, ctx); };
}

}  // namespace weir::http
