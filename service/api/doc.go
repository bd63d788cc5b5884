// Package api owns herdctl's D-Bus contract: the bus name, object path and
// interface of dev.herdctl.Manager1, the values its methods take and
// return (Agent, Job, Status, ...), their encoding as D-Bus a{sv}
// dictionaries, the error names, and the client herdctlctl uses. The
// daemon (package service) serves it; nothing here knows how.
package api
