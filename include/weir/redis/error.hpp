// weir::redis errors. Every failure is a typed exception deriving from
// redis::Error (a std::runtime_error):
//
//     try { co_await conn.cmd("INCR", "name"); }
//     catch (const weir::redis::ServerError& e) { e.prefix(); /* "WRONGTYPE" */ }
//
//   ServerError      an error reply from the server ("-ERR ...", "-WRONGTYPE ...");
//                    prefix() is its first word, message() the rest.
//   ConnectionError  connect failed, the connection broke or was closed; the
//                    connection is unusable (a pool discards it).
//   ProtocolError    the server's bytes are not valid RESP (a ConnectionError).
//   TlsError         TLS failed: handshake, a bad CA/certificate file, or the
//                    server ending the session with an alert such as
//                    "certificate required" (a ConnectionError).
//   TlsVerifyError   the server's certificate was rejected (a TlsError);
//                    verify_result() is OpenSSL's X509_V_ERR_* code.
//   ReplyTypeError   a reply was read as a type it does not have.
//   PoolTimeout      no pooled connection became free in time.
//   UrlError         a connection URL could not be parsed.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

namespace weir::redis {

class Error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

class ServerError : public Error {
public:
    // `text` is the whole error line without the leading '-' ("ERR unknown command ...").
    explicit ServerError(std::string text, std::string command = {})
        : Error(command.empty() ? text : text + " (command: " + command + ")"),
          text_(std::move(text)),
          command_(std::move(command)) {}

    // First word of the error ("ERR", "WRONGTYPE", "NOSCRIPT", "MOVED", ...).
    std::string_view prefix() const noexcept {
        std::string_view t = text_;
        return t.substr(0, t.find(' '));
    }
    // The text after the prefix.
    std::string_view message() const noexcept {
        std::string_view t = text_;
        auto sp = t.find(' ');
        return sp == std::string_view::npos ? std::string_view{} : t.substr(sp + 1);
    }
    const std::string& text() const noexcept { return text_; }
    // Name of the command that failed (empty when unknown).
    const std::string& command() const noexcept { return command_; }

private:
    std::string text_;
    std::string command_;
};

class ConnectionError : public Error {
public:
    using Error::Error;
};

class ProtocolError : public ConnectionError {
public:
    using ConnectionError::ConnectionError;
};

class TlsError : public ConnectionError {
public:
    using ConnectionError::ConnectionError;
};

class TlsVerifyError : public TlsError {
public:
    TlsVerifyError(const std::string& what, long verify_result)
        : TlsError(what), verify_result_(verify_result) {}
    long verify_result() const noexcept { return verify_result_; }

private:
    long verify_result_;
};

class ReplyTypeError : public Error {
public:
    using Error::Error;
};

class PoolTimeout : public Error {
public:
    using Error::Error;
};

class UrlError : public Error {
public:
    using Error::Error;
};

}  // namespace weir::redis
