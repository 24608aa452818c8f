package daemon

func isSyncUnsupported(error) bool { return true }
