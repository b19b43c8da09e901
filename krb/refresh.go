package krb

import "time"

// ticketTimes are the validity times the KDC put in a ticket.
type ticketTimes struct {
	auth, start, end, renewTill time.Time
}

// Bounds of the time before its end at which a ticket is replaced.
// Samba's KDC answers KRB_AP_ERR_TKT_EXPIRED to a TGS request made with a
// TGT that has less than about 2 minutes left (measured on 4.17), so a TGT
// is never used that close to its end.
const (
	minRefreshMargin = 3 * time.Minute
	maxRefreshMargin = 15 * time.Minute
)

// refreshMargin is how long before its end a ticket is replaced: a quarter of
// its lifetime, kept within [minRefreshMargin, maxRefreshMargin], but at most
// three quarters of a very short lifetime so that such a ticket still gets
// used. A service ticket obtained then stays good for that long, which also
// covers clock skew and slow binds.
func (t ticketTimes) refreshMargin() time.Duration {
	begin := t.start
	if begin.IsZero() {
		begin = t.auth
	}
	life := t.end.Sub(begin)
	return min(max(life/4, minRefreshMargin), maxRefreshMargin, life*3/4)
}

// due reports whether the ticket should be replaced at now.
func (t ticketTimes) due(now time.Time) bool {
	return !now.Before(t.end.Add(-t.refreshMargin()))
}

func (t ticketTimes) expired(now time.Time) bool { return !now.Before(t.end) }

// renewable reports whether a KDC renewal can still extend the ticket.
func (t ticketTimes) renewable(now time.Time) bool {
	return t.renewTill.After(t.end) && now.Before(t.renewTill) && !t.expired(now)
}

// action is what must happen before a TGT is used.
type action int

const (
	useHeld action = iota
	// login: a fresh AS exchange with the keytab or password.
	login
	// reloadCCache: read the ccache file again (it changed, or none is held).
	reloadCCache
	// renew: a TGS renewal of a ccache TGT nobody refreshed on disk.
	renew
)

// nextAction decides how to get a TGT fit for use at now. Keytab and
// password clients simply log in again when the TGT is due: that works
// forever, unlike renewal which stops at renew-till. A ccache belongs to
// whoever refreshes it (kinit, k5start, sssd); it is reloaded when it
// changes and only renewed in memory as a last resort.
func nextAction(now time.Time, src source, held *ticketTimes, ccacheChanged bool) action {
	switch {
	case src == fromCCache && (held == nil || ccacheChanged):
		return reloadCCache
	case held == nil:
		return login
	case !held.due(now):
		return useHeld
	case src != fromCCache:
		return login
	case held.renewable(now):
		return renew
	}
	return useHeld
}
