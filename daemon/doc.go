// Package daemon is bpfhost's host: a long-lived process that owns loaded
// programs and maps, gives them process-wide IDs, pins them in a namespace
// of absolute paths with bpffs semantics, and keeps every pinned object in a
// state directory so that a restart, also after SIGKILL, brings them back.
//
// Data flows: a client (package remote, or the CLI) sends a JSON request
// (package api) over a Unix socket; Server checks the peer's credentials and
// calls the Daemon; the Daemon verifies a new object in a child process
// (Options.Verify), loads it with the root package, registers its programs
// and maps, and persists it (state.go) before answering. Map updates made
// through the API are appended to the map's write-ahead log and fsynced
// before the client is told they succeeded; a program run through the API
// is followed by a snapshot of its unit's maps. Decision 0017 records why.
package daemon
