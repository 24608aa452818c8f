package daemon

// checkStateDir accepts any state directory: Windows has no mode bits;
// its ACLs are the administrator's to set.
func checkStateDir(string) error { return nil }
