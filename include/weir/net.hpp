// The networking basics in one include.
#pragma once

#include "weir/net/connect.hpp"
#include "weir/net/listener.hpp"
#include "weir/net/socket_address.hpp"
#include "weir/net/stream.hpp"
