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

TEST_CASE("a failure's domain decides its wire name: the one mapping, no message read") {
  auto named = [](Errc code, Domain d) { return std::string(error_name(make_error(code, "x").in(d))); };
  // A mirror: refused content, unreachable, not there; a full disk met while downloading is the store's.
  CHECK(named(Errc::corrupt, Domain::hub) == errors::kHubRejected);
  CHECK(named(Errc::too_large, Domain::hub) == errors::kHubRejected);
  CHECK(named(Errc::timeout, Domain::hub) == errors::kHubUnreachable);
  CHECK(named(Errc::io, Domain::hub) == errors::kHubUnreachable);
  CHECK(named(Errc::not_in_hub, Domain::hub) == errors::kKernelNotInHub);
  CHECK(named(Errc::no_space, Domain::hub) == errors::kStoreError);
  // The cache, whatever its code.
  CHECK(named(Errc::corrupt, Domain::store) == errors::kStoreError);
  CHECK(named(Errc::not_found, Domain::store) == errors::kStoreError);
  // An object: refused, or over a limit.
  CHECK(named(Errc::corrupt, Domain::object) == errors::kInvalidObject);
  CHECK(named(Errc::unsupported, Domain::object) == errors::kInvalidObject);
  CHECK(named(Errc::too_large, Domain::object) == errors::kTooLarge);
  CHECK(named(Errc::invalid_argument, Domain::kernel) == errors::kInvalidKernel);
  CHECK(named(Errc::corrupt, Domain::bundle) == errors::kInvalidBundle);
  CHECK(named(Errc::too_large, Domain::request) == errors::kTooLarge);
  // Overload, shutdown and bugs read the same in every domain.
  for (Domain d : {Domain::none, Domain::hub, Domain::store, Domain::object, Domain::kernel, Domain::bundle}) {
    CHECK(named(Errc::busy, d) == errors::kBusy);
    CHECK(named(Errc::cancelled, d) == errors::kBusy);
    CHECK(named(Errc::internal, d) == errors::kInternal);
  }
}

TEST_CASE("a deeper layer's domain is kept; an object index is set once") {
  Error e = make_error(Errc::no_space, "disk full").in(Domain::store);
  e = std::move(e).in(Domain::hub);
  CHECK(e.domain == Domain::store);
  Error o = make_error(Errc::corrupt, "bad").about_object(2);
  o = std::move(o).about_object(5);
  CHECK(o.object == 2);
  CHECK(o.domain == Domain::object);
}
