// Package cockpit holds herdctl's page in the Cockpit web console: plain
// HTML, CSS and ES modules under this directory, served as they are from
// /usr/share/cockpit/herdctl by the herdctl-cockpit package (nfpm.yaml
// here). The page speaks only herdctl's D-Bus API, as the logged-in user.
// The Go in this package is its tests: the files keep Cockpit's default
// content security policy, never parse text as HTML, and name the bus and
// the group as package api does.
package cockpit
