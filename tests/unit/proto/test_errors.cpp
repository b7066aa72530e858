// SPDX-License-Identifier: GPL-2.0-or-later
#include <doctest/doctest.h>

#include "btfd/libbtfd.h"
#include "proto/errors.hpp"

using namespace btfd;
using namespace btfd::proto;

TEST_CASE("every failure code the daemon answers has a row clients map back") {
  // The round trip btfd -> wire name -> client: the name is known to the table.
  for (Errc c : {Errc::not_in_hub, Errc::unreachable, Errc::timeout, Errc::invalid_argument, Errc::too_large,
                 Errc::busy, Errc::no_space, Errc::io, Errc::permission, Errc::internal, Errc::corrupt}) {
    const char* name = error_name(c);
    CHECK(std::string(error_info(name).name) == name);
  }
}

TEST_CASE("the documented mappings: store trouble is StoreError, policy is PermissionDenied, limits are TooLarge") {
  CHECK(std::string(error_name(Errc::no_space)) == errors::kStoreError);
  CHECK(std::string(error_name(Errc::io)) == errors::kStoreError);
  CHECK(std::string(error_name(Errc::permission)) == errors::kPermissionDenied);
  CHECK(std::string(error_name(Errc::too_large)) == errors::kTooLarge);
  CHECK(std::string(error_name(Errc::not_in_hub)) == errors::kKernelNotInHub);
  CHECK(std::string(error_name(Errc::corrupt)) == errors::kHubRejected);
  CHECK(std::string(error_name(Errc::unreachable)) == errors::kHubUnreachable);
  CHECK(error_info(errors::kHubRejected).libbtfd_code == BTFD_ERR_HUB_REJECTED);
  CHECK(error_info(errors::kBusy).libbtfd_code == BTFD_ERR_BUSY);
  CHECK(error_info(errors::kKernelNotInHub).code == Errc::not_in_hub);
}

TEST_CASE("an unknown error name is a protocol error for clients, not a crash") {
  CHECK(error_info("com.example.Whatever").libbtfd_code == BTFD_ERR_PROTOCOL);
  CHECK(error_info("").code == Errc::protocol);
}
