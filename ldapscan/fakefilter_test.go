package ldapscan

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"

	ber "github.com/go-asn1-ber/asn1-ber"
	"github.com/go-ldap/ldap/v3"
)

func attrValues(attrs map[string][]string, name string) []string {
	for k, v := range attrs {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return nil
}

// matchFilter evaluates the filter forms the scanner uses.
func matchFilter(f *ber.Packet, values func(name string) []string) bool {
	switch f.Tag {
	case ldap.FilterAnd:
		for _, c := range f.Children {
			if !matchFilter(c, values) {
				return false
			}
		}
		return true
	case ldap.FilterOr:
		return slices.ContainsFunc(f.Children, func(c *ber.Packet) bool { return matchFilter(c, values) })
	case ldap.FilterNot:
		return !matchFilter(f.Children[0], values)
	case ldap.FilterPresent:
		return len(values(f.Data.String())) > 0
	case ldap.FilterExtensibleMatch:
		// Only memberOf:LDAP_MATCHING_RULE_IN_CHAIN:=<dn>, which the fake
		// answers through the computed attribute inChainMemberOf.
		var rule, name, want string
		for _, c := range f.Children {
			switch c.Tag {
			case ldap.MatchingRuleAssertionMatchingRule:
				rule = c.Data.String()
			case ldap.MatchingRuleAssertionType:
				name = c.Data.String()
			case ldap.MatchingRuleAssertionMatchValue:
				want = c.Data.String()
			}
		}
		if rule != matchingRuleInChain || !strings.EqualFold(name, "memberOf") {
			panic(fmt.Sprintf("fake AD: unsupported extensible match %s:%s", name, rule))
		}
		return slices.ContainsFunc(values(inChainMemberOf), func(v string) bool { return strings.EqualFold(v, want) })
	case ldap.FilterEqualityMatch, ldap.FilterGreaterOrEqual, ldap.FilterLessOrEqual:
		name, want := f.Children[0].Value.(string), f.Children[1].Value.(string)
		return slices.ContainsFunc(values(name), func(v string) bool {
			switch {
			case f.Tag == ldap.FilterEqualityMatch && strings.EqualFold(name, "objectSid"):
				return v == want // binary: compare bytes, not case-folded runes
			case f.Tag == ldap.FilterEqualityMatch:
				return strings.EqualFold(v, want)
			case f.Tag == ldap.FilterGreaterOrEqual:
				return compareValues(v, want) >= 0
			default:
				return compareValues(v, want) <= 0
			}
		})
	}
	panic(fmt.Sprintf("fake AD: unsupported filter tag %d", f.Tag))
}

// inChainMemberOf names, for matchFilter, the groups an entry is a member
// of at any depth.
const inChainMemberOf = "memberOf;in-chain"

func compareValues(a, b string) int {
	x, errA := strconv.ParseInt(a, 10, 64)
	y, errB := strconv.ParseInt(b, 10, 64)
	if errA == nil && errB == nil {
		return cmp.Compare(x, y)
	}
	return strings.Compare(strings.ToLower(a), strings.ToLower(b))
}
