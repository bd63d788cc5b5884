// Package proxy carries the connections an agent's container is allowed:
// the HTTP proxy a job's runner serves inside the container's network
// namespace, which has only loopback. It applies the rules of package
// policy/egress (what a name, a port and an address may be) to CONNECT and
// plain-http requests and dials out from the host.
//
// The agent is assumed hostile: it will try every spelling of an address,
// every trick of URL syntax and DNS, to reach something it was not given.
// What holds it:
//
//   - Only names are allowed, never addresses. A destination written as an
//     IP address in any notation inet_aton(3), Go or a browser would read
//     (2130706433, 0x7f.1, 0177.0.0.1, 127.1, [::ffff:127.0.0.1]) is
//     refused as a raw address; so is a name whose last label is a number.
//     Rules cannot name addresses either: private ranges are opened with
//     egress_private, and only for names on the list that resolve into them.
//   - Names are compared in one canonical form (ASCII/punycode, lower case,
//     no trailing dot), the form that is then resolved and sent as Host.
//   - The proxy resolves a name once, on the host, as a rooted name (with a
//     trailing dot, so no search domain is appended), checks every address
//     the answer holds, and dials one of those checked addresses, never the
//     name again: DNS rebinding between check and dial is impossible.
//   - Loopback, private, link-local (the cloud metadata address above all),
//     shared, reserved, multicast, documentation and transition addresses
//     (IPv4-mapped, NAT64 to a private address, 6to4, Teredo) are refused
//     unless the owner listed their range in egress_private.
//   - Every refusal reaches the client as a 4xx/5xx with a one-line reason
//     before any byte reaches the destination; every attempt and every
//     close is reported to Audit.
//   - Connections, header sizes, idle time and dial time are bounded, and
//     every goroutine has an owner that stops it.
//
// What it does not do: a CONNECT tunnel is raw TCP to the checked address
// and port; the proxy never looks inside it. So whatever the client sends
// through an allowed tunnel (a second HTTP request "smuggled" on a kept-
// alive connection, a TLS ClientHello naming another server, a Host header
// naming another site on the same CDN: domain fronting) goes to that same
// allowed address and port, and what the server there does with it is the
// server's business. Allowing a name allows everything its servers will
// serve on that port. Plain-http requests are rewritten (origin-form,
// Host set to the checked name, hop-by-hop headers dropped) and each client
// connection carries exactly one request.
package proxy
