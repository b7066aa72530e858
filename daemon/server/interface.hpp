// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once
// The io.btfd Varlink interface definition, served by
// org.varlink.service.GetInterfaceDescription (docs/protocol.md explains it).
namespace btfd::server {
extern const char kInterfaceDescription[];
// org.varlink.service itself, as every Varlink service implements it.
extern const char kServiceInterfaceDescription[];
}
