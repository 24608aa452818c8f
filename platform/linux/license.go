package linux

// GPLCompatible reports whether a program's license (its object's license
// section) lets it call GPL-only helpers and kernel functions and read
// kernel objects through BTF pointers, as Linux's
// license_is_gpl_compatible decides: an exact match of one of these
// strings, so that an object without a license is not compatible.
func GPLCompatible(license string) bool {
	switch license {
	case "GPL", "GPL v2", "GPL and additional rights", "Dual BSD/GPL", "Dual MIT/GPL", "Dual MPL/GPL":
		return true
	}
	return false
}
