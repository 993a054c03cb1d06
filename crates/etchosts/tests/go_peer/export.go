// Added to a temp copy of containers/common resolvconf by tests/go_differential.rs.
package resolvconf

// NewWithBase is New with the host resolv.conf path set (the package's test hook).
func NewWithBase(p *Params, base string) error {
	p.resolvConfPath = base
	return New(p)
}
