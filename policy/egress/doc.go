// Package egress decides where an agent's container may connect: the
// allowlist rules of the fleet's docker.egress (names with optional ports
// and wildcards) and docker.egress_private (the private ranges a listed
// name may resolve into), the addresses that are refused whatever the
// name, and the parsing of what a client asks a proxy for. It is pure:
// package service/runner/proxy applies it to real connections.
//
// The agent is assumed hostile: every spelling of an address, every trick
// of URL syntax and DNS is refused or normalised here (see the proxy's
// package documentation for the whole list).
package egress
