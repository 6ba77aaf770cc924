// The bridges transaction-service wires up, one header each; this one includes both for the
// callers that use both (its main, the bridge tests).
#pragma once

#include "messaging/balance_responder.hpp"
#include "messaging/user_created_consumer.hpp"
