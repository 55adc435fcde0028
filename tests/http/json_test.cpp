// Tests of the JSON writer and reader (json.hpp) and of typed bodies (typed_body.hpp).
#include "weir/http/json.hpp"

#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "weir/http/typed_body.hpp"

namespace weir::http {
namespace json_test {

// ---------------------------------------------------------------------------------------------
// Writer
// ---------------------------------------------------------------------------------------------

TEST(JsonWriter, NestedStructure) {
    std::string out;
    JsonWriter w(out);
    w.begin_object()
        .member("a", 1)
        .key("b")
        .begin_array()
        .value(true)
        .null()
        .begin_object()
        .end_object()
        .begin_array()
        .end_array()
        .value("x")
        .end_array()
        .key("c")
        .begin_object()
        .member("d", false)
        .key("e")
        .raw(R"({"pre":"serialised"})")
        .end_object()
        .member("f", std::string("g"))
        .end_object();
    EXPECT_EQ(
        out,
        R"({"a":1,"b":[true,null,{},[],"x"],"c":{"d":false,"e":{"pre":"serialised"}},"f":"g"})");
}

TEST(JsonWriter, AppendsToExistingText) {
    std::string out = "prefix:";
    JsonWriter(out).begin_array().value(1).value(2).end_array();
    EXPECT_EQ(out, "prefix:[1,2]");
}

TEST(JsonWriter, EscapesStrings) {
    std::string out;
    append_json_string(out, "plain");
    EXPECT_EQ(out, R"("plain")");
    out.clear();
    append_json_string(out, "q\"b\\s/\n\r\t\b\f");
    EXPECT_EQ(out, R"("q\"b\\s/\n\r\t\b\f")");
    out.clear();
    append_json_string(out, std::string("\x01\x1f\x7f", 3) + std::string(1, '\0'));
    EXPECT_EQ(out, "\"\\u0001\\u001f\x7f\\u0000\"");
    out.clear();
    append_json_string(out, "caf\xc3\xa9 \xe2\x82\xac");  // UTF-8 is copied as is
    EXPECT_EQ(out, "\"caf\xc3\xa9 \xe2\x82\xac\"");
    out.clear();
    append_json_string(out, "");
    EXPECT_EQ(out, R"("")");
}

TEST(JsonWriter, Numbers) {
    std::string out;
    JsonWriter w(out);
    w.begin_array()
        .value(std::numeric_limits<std::int64_t>::min())
        .value(std::numeric_limits<std::int64_t>::max())
        .value(std::numeric_limits<std::uint64_t>::max())
        .value(static_cast<short>(-3))
        .value(static_cast<unsigned char>(200))
        .value(0.1)
        .value(1e300)
        .value(-2.5f)
        .value(3.0)
        .value(std::nan(""))
        .value(std::numeric_limits<double>::infinity())
        .end_array();
    EXPECT_EQ(out,
              "[-9223372036854775808,9223372036854775807,18446744073709551615,-3,200,0.1,1e+300,"
              "-2.5,3,null,null]");
}

TEST(JsonWriter, RoundTripsEveryByteThroughTheParser) {
    std::string s;
    for (int c = 1; c < 128; ++c) s.push_back(static_cast<char>(c));
    s += "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80";  // é € 😀
    s.push_back('\0');
    std::string out;
    JsonWriter(out).begin_object().member("s", s).member("n", -12345678901234).end_object();
    const JsonDocument doc = JsonDocument::parse(out);
    EXPECT_EQ(*doc.root().find("s")->get_string(), s);
    EXPECT_EQ(*doc.root().find("n")->get_int64(), -12345678901234);
    const JsonDocument again = JsonDocument::parse(doc.root().to_json());
    EXPECT_EQ(*again.root().find("s")->get_string(), s);
}

// ---------------------------------------------------------------------------------------------
// Reader
// ---------------------------------------------------------------------------------------------

TEST(JsonDocument, NavigatesValues) {
    const JsonDocument doc = JsonDocument::parse(
        R"({"i":-5,"u":18446744073709551615,"d":2.5,"s":"x\u00e9","b":true,"n":null,)"
        R"("a":[1,"two",[3]],"o":{"k":"v"}})");
    const JsonValue root = doc.root();
    EXPECT_EQ(root.type(), JsonType::Object);
    EXPECT_EQ(root.size(), 8u);
    EXPECT_EQ(root.find("i")->get_int64(), -5);
    EXPECT_EQ(root.find("i")->get_uint64(), std::nullopt);  // negative
    EXPECT_EQ(root.find("i")->get_double(), -5.0);
    EXPECT_EQ(root.find("u")->type(), JsonType::Uint64);
    EXPECT_EQ(root.find("u")->get_uint64(), std::numeric_limits<std::uint64_t>::max());
    EXPECT_EQ(root.find("u")->get_int64(), std::nullopt);  // out of range
    EXPECT_EQ(root.find("d")->get_double(), 2.5);
    EXPECT_EQ(root.find("d")->get_int64(), std::nullopt);  // doubles are not integers
    EXPECT_EQ(root.find("s")->get_string(), "x\xc3\xa9");
    EXPECT_EQ(root.find("s")->get_bool(), std::nullopt);
    EXPECT_EQ(root.find("b")->get_bool(), true);
    EXPECT_TRUE(root.find("n")->is_null());
    EXPECT_FALSE(root.find("missing").has_value());
    const JsonValue a = *root.find("a");
    EXPECT_EQ(a.size(), 3u);
    EXPECT_EQ(a.at(1)->get_string(), "two");
    EXPECT_EQ(a.at(2)->at(0)->get_int64(), 3);
    EXPECT_FALSE(a.at(3).has_value());
    EXPECT_FALSE(a.find("k").has_value());
    EXPECT_EQ(root.find("o")->find("k")->get_string(), "v");

    std::vector<std::string> keys;
    root.for_each_member([&](std::string_view k, const JsonValue&) { keys.emplace_back(k); });
    EXPECT_EQ(keys, (std::vector<std::string>{"i", "u", "d", "s", "b", "n", "a", "o"}));
    std::vector<std::size_t> idx;
    a.for_each_element([&](std::size_t i, const JsonValue&) { idx.push_back(i); });
    EXPECT_EQ(idx, (std::vector<std::size_t>{0, 1, 2}));
    EXPECT_EQ(a.to_json(), R"([1,"two",[3]])");
    EXPECT_EQ(to_string(JsonType::Uint64), "integer");
}

TEST(JsonDocument, RejectsInvalidText) {
    for (const char* bad :
         {"", "{", "[1,]", "{\"a\":}", "tru", "\"unterminated", "{'a':1}", "[1] x", "01"}) {
        EXPECT_THROW(JsonDocument::parse(bad), JsonError) << bad;
    }
    JsonDocument moved = JsonDocument::parse("[1]");
    JsonDocument other = std::move(moved);
    EXPECT_EQ(other.root().size(), 1u);
}

// ---------------------------------------------------------------------------------------------
// Typed bodies
// ---------------------------------------------------------------------------------------------

enum class Color { red, green, blue };
BOOST_DESCRIBE_ENUM(Color, red, green, blue)

struct Item {
    std::string name;
    double price = 0;
    std::optional<std::string> note;
};
BOOST_DESCRIBE_STRUCT(Item, (), (name, price, note))

struct Order {
    std::int64_t id = 0;
    std::vector<Item> items;
    bool rush = false;
    std::int32_t quantity = 0;
    std::uint8_t priority = 0;
    std::optional<Color> color;
    std::map<std::string, int> counts;
    std::optional<std::vector<int>> extra;
};
BOOST_DESCRIBE_STRUCT(Order, (), (id, items, rush, quantity, priority, color, counts, extra))

// Checked after reading (found by argument-dependent lookup).
void validate(const Item& item, Validator& v) {
    v.check(item.price >= 0, "price", "Input should be greater than or equal to 0",
            "greater_than_equal");
}

struct Base {
    int a = 0;
};
BOOST_DESCRIBE_STRUCT(Base, (), (a))
struct Derived : Base {
    std::string b;
};
BOOST_DESCRIBE_STRUCT(Derived, (Base), (b))

constexpr const char* kValidOrder =
    R"({"id":7,"items":[{"name":"pen","price":1.5},{"name":"ink","price":3,"note":null}],)"
    R"("rush":true,"quantity":2,"priority":255,"color":"green","counts":{"a":1},"extra":[1,2]})";

TEST(TypedBody, ReadsAValidBody) {
    std::vector<ValidationIssue> issues;
    const std::optional<Order> o = read_json<Order>(kValidOrder, issues);
    ASSERT_TRUE(o.has_value()) << validation_error_json(issues);
    EXPECT_EQ(o->id, 7);
    ASSERT_EQ(o->items.size(), 2u);
    EXPECT_EQ(o->items[0].name, "pen");
    EXPECT_EQ(o->items[0].price, 1.5);
    EXPECT_FALSE(o->items[0].note.has_value());
    EXPECT_EQ(o->items[1].price, 3.0);
    EXPECT_TRUE(o->rush);
    EXPECT_EQ(o->quantity, 2);
    EXPECT_EQ(o->priority, 255);
    EXPECT_EQ(o->color, Color::green);
    EXPECT_EQ(o->counts.at("a"), 1);
    EXPECT_EQ(o->extra, (std::vector<int>{1, 2}));
    EXPECT_TRUE(issues.empty());
}

TEST(TypedBody, WritesAndReadsBack) {
    const Order o = parse_json<Order>(kValidOrder);
    const std::string text = to_json(o);
    EXPECT_EQ(text,
              R"({"id":7,"items":[{"name":"pen","price":1.5,"note":null},)"
              R"({"name":"ink","price":3,"note":null}],"rush":true,"quantity":2,"priority":255,)"
              R"("color":"green","counts":{"a":1},"extra":[1,2]})");
    const Order back = parse_json<Order>(text);
    EXPECT_EQ(to_json(back), text);
    Derived d;
    d.a = 1;
    d.b = "x";
    EXPECT_EQ(to_json(d), R"({"a":1,"b":"x"})");
    EXPECT_EQ(parse_json<Derived>(R"({"a":5,"b":"y"})").a, 5);
    EXPECT_EQ(to_json(std::vector<Color>{Color::red, Color::blue}), R"(["red","blue"])");
}

// The issues read_json reports for `text`, as the 422 body would show them.
std::string issues_of(std::string_view text, JsonReadOptions options = {}) {
    std::vector<ValidationIssue> issues;
    const std::optional<Order> o = read_json<Order>(text, issues, options);
    EXPECT_FALSE(o.has_value()) << text;
    return validation_error_json(issues);
}

constexpr std::string_view kRest = R"("rush":false,"quantity":1,"priority":1,"counts":{})";

std::string order_with(std::string_view fields) {
    return "{" + std::string(fields) + "," + std::string(kRest) + "}";
}

TEST(TypedBody, MissingFieldIsNamed) {
    EXPECT_EQ(issues_of(R"({"items":[],"rush":false,"quantity":1,"priority":1,"counts":{}})"),
              R"({"detail":[{"loc":["body","id"],"msg":"Field required","type":"missing"}]})");
    // Nested, inside an array element.
    EXPECT_EQ(issues_of(order_with(R"("id":1,"items":[{"name":"a","price":1},{"name":"b"}])")),
              R"({"detail":[{"loc":["body","items",1,"price"],"msg":"Field required",)"
              R"("type":"missing"}]})");
}

TEST(TypedBody, WrongTypesAreNamed) {
    EXPECT_EQ(issues_of(order_with(R"("id":"7","items":[])")),
              R"({"detail":[{"loc":["body","id"],"msg":"Input should be a valid integer",)"
              R"("type":"int_type"}]})");
    EXPECT_NE(issues_of(order_with(R"("id":1.5,"items":[])")).find("int_from_float"),
              std::string::npos);
    EXPECT_NE(issues_of(order_with(R"("id":1,"items":{})")).find(R"("loc":["body","items"])"),
              std::string::npos);
    EXPECT_NE(issues_of(order_with(R"("id":1,"items":[{"name":5,"price":1}])"))
                  .find(R"({"loc":["body","items",0,"name"],"msg":"Input should be a valid )"
                        R"(string","type":"string_type"})"),
              std::string::npos);
    EXPECT_NE(
        issues_of(order_with(R"("id":1,"items":[{"name":"a","price":"1"}])")).find("float_type"),
        std::string::npos);
    EXPECT_NE(issues_of(R"({"id":1,"items":[],"rush":1,"quantity":1,"priority":1,"counts":{}})")
                  .find(R"("loc":["body","rush"],"msg":"Input should be a valid boolean")"),
              std::string::npos);
    EXPECT_NE(issues_of(order_with(R"("id":null,"items":[])")).find("int_type"), std::string::npos);
    EXPECT_NE(issues_of(order_with(R"("id":1,"items":[],"color":"purple")"))
                  .find(R"("msg":"Input should be 'red', 'green' or 'blue'","type":"enum")"),
              std::string::npos);
    EXPECT_NE(issues_of(R"([1,2])")
                  .find(R"({"loc":["body"],"msg":"Input should be a valid )"
                        R"(object","type":"model_type"})"),
              std::string::npos);
}

TEST(TypedBody, IntegerRanges) {
    EXPECT_NE(issues_of(R"({"id":1,"items":[],"rush":false,"quantity":2147483648,)"
                        R"("priority":1,"counts":{}})")
                  .find(R"("loc":["body","quantity"],"msg":"Input should be an integer between )"
                        R"(-2147483648 and 2147483647","type":"int_range")"),
              std::string::npos);
    EXPECT_NE(issues_of(R"({"id":1,"items":[],"rush":false,"quantity":1,"priority":256,)"
                        R"("counts":{}})")
                  .find(R"("loc":["body","priority"])"),
              std::string::npos);
    EXPECT_NE(issues_of(R"({"id":1,"items":[],"rush":false,"quantity":1,"priority":-1,)"
                        R"("counts":{}})")
                  .find("int_range"),
              std::string::npos);
    EXPECT_NE(issues_of(order_with(R"("id":9223372036854775808,"items":[])")).find("int_range"),
              std::string::npos);
    std::vector<ValidationIssue> issues;
    EXPECT_EQ(read_json<Order>(order_with(R"("id":-9223372036854775808,"items":[])"), issues)->id,
              INT64_MIN);
    EXPECT_EQ(read_json<Order>(order_with(R"("id":3.0,"items":[])"), issues)->id, 3);
}

TEST(TypedBody, InvalidOrEmptyJson) {
    EXPECT_EQ(issues_of(""),
              R"({"detail":[{"loc":["body"],"msg":"Field required","type":"missing"}]})");
    EXPECT_EQ(issues_of(" \r\n"),
              R"({"detail":[{"loc":["body"],"msg":"Field required","type":"missing"}]})");
    const std::string bad = issues_of(R"({"id":1,)");
    EXPECT_NE(bad.find(R"({"loc":["body"],"msg":"JSON decode error)"), std::string::npos) << bad;
    EXPECT_NE(bad.find(R"("type":"json_invalid")"), std::string::npos);
}

TEST(TypedBody, ExtraFieldsIgnoredOrForbidden) {
    const std::string body = order_with(R"("id":1,"items":[],"surprise":true)");
    std::vector<ValidationIssue> issues;
    EXPECT_TRUE(read_json<Order>(body, issues).has_value());
    JsonReadOptions strict;
    strict.forbid_extra_fields = true;
    EXPECT_EQ(issues_of(body, strict),
              R"({"detail":[{"loc":["body","surprise"],"msg":"Extra inputs are not permitted",)"
              R"("type":"extra_forbidden"}]})");
}

TEST(TypedBody, ValidateHookAndSeveralIssues) {
    EXPECT_EQ(issues_of(order_with(R"("id":1,"items":[{"name":"a","price":-1}])")),
              R"({"detail":[{"loc":["body","items",0,"price"],)"
              R"("msg":"Input should be greater than or equal to 0",)"
              R"("type":"greater_than_equal"}]})");
    // Every problem is reported, not only the first.
    const std::string many = issues_of(R"({"id":"x","items":[{"price":1}],"rush":false})");
    EXPECT_NE(many.find(R"(["body","id"])"), std::string::npos);
    EXPECT_NE(many.find(R"(["body","items",0,"name"])"), std::string::npos);
    EXPECT_NE(many.find(R"(["body","quantity"])"), std::string::npos);
    EXPECT_NE(many.find(R"(["body","counts"])"), std::string::npos);
}

TEST(TypedBody, ParseJsonThrowsValidationError) {
    try {
        (void)parse_json<Item>(R"({"name":1})");
        FAIL() << "no exception";
    } catch (const ValidationError& e) {
        EXPECT_EQ(e.status(), 422);
        ASSERT_EQ(e.issues().size(), 2u);
        EXPECT_EQ(std::get<std::string>(e.issues()[0].loc[1]), "name");
        EXPECT_EQ(std::get<std::string>(e.issues()[1].loc[1]), "price");
    }
    JsonReadOptions no_root;
    no_root.root = {};
    std::vector<ValidationIssue> issues;
    EXPECT_FALSE(read_json<Item>(R"({"price":1})", issues, no_root).has_value());
    ASSERT_EQ(issues.size(), 1u);
    EXPECT_EQ(issues[0].loc.size(), 1u);
}

TEST(TypedBody, SchemasOfDescribedStructs) {
    SchemaRegistry reg;
    std::string out;
    JsonWriter w(out);
    write_json_schema<Order>(w, reg);
    EXPECT_EQ(out, R"({"$ref":"#/components/schemas/Order"})");
    ASSERT_EQ(reg.schemas().size(), 2u);
    EXPECT_EQ(reg.schemas()[0].first, "Order");
    EXPECT_EQ(reg.schemas()[1].first, "Item");
    const JsonDocument order = JsonDocument::parse(reg.schemas()[0].second);
    EXPECT_EQ(order.root().find("type")->get_string(), "object");
    EXPECT_EQ(order.root().find("required")->to_json(),
              R"(["id","items","rush","quantity","priority","counts"])");
    const JsonValue props = *order.root().find("properties");
    EXPECT_EQ(props.find("id")->to_json(), R"({"type":"integer","format":"int64"})");
    EXPECT_EQ(props.find("quantity")->to_json(), R"({"type":"integer","format":"int32"})");
    EXPECT_EQ(props.find("priority")->to_json(), R"({"type":"integer","minimum":0,"maximum":255})");
    EXPECT_EQ(props.find("items")->to_json(),
              R"({"type":"array","items":{"$ref":"#/components/schemas/Item"}})");
    EXPECT_EQ(props.find("color")->to_json(),
              R"({"anyOf":[{"type":"string","enum":["red","green","blue"]},{"type":"null"}]})");
    EXPECT_EQ(props.find("counts")->to_json(),
              R"({"type":"object","additionalProperties":{"type":"integer","format":"int32"}})");
    const JsonDocument item = JsonDocument::parse(reg.schemas()[1].second);
    EXPECT_EQ(item.root().find("required")->to_json(), R"(["name","price"])");
    EXPECT_EQ(item.root().find("properties")->find("price")->to_json(),
              R"({"type":"number","format":"double"})");
}

}  // namespace json_test
}  // namespace weir::http
