package daemon

import (
	"fmt"
	"os/user"
	"slices"
	"strconv"
)

// GroupAuthorizer admits root and, if group is not empty, the members of
// group: users whose primary or supplementary group it is.
func GroupAuthorizer(group string) (Authorizer, error) {
	gid := ""
	if group != "" {
		g, err := user.LookupGroup(group)
		if err != nil {
			return nil, fmt.Errorf("group %q: %w", group, err)
		}
		gid = g.Gid
	}
	return func(p Peer) error {
		if p.UID == 0 {
			return nil
		}
		if gid != "" {
			if strconv.FormatUint(uint64(p.GID), 10) == gid {
				return nil
			}
			if u, err := user.LookupId(strconv.FormatUint(uint64(p.UID), 10)); err == nil {
				if gids, err := u.GroupIds(); err == nil && slices.Contains(gids, gid) {
					return nil
				}
			}
			return fmt.Errorf("uid %d is neither root nor in group %s", p.UID, group)
		}
		return fmt.Errorf("uid %d is not root (start the daemon with --group to admit others)", p.UID)
	}, nil
}
