// Package packaging holds no code: the directory holds the files the .deb
// and the .rpm install (the unit, the D-Bus policy, sysusers and tmpfiles
// snippets, the example fleet, man pages, completions, maintainer
// scripts). Its test checks them against the names the code defines, so
// that a name has one owner and the packaged files follow it.
package packaging
