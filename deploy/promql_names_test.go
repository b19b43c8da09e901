package deploy

import (
	"slices"
	"testing"
)

func TestMetricNames(t *testing.T) {
	tests := []struct {
		expr string
		want []string
	}{
		{`spnaudit_spns`, []string{"spnaudit_spns"}},
		{`spnaudit_finding_info{rule="duplicate-spn", spn=~"HTTP/.*{x}"} == 1`, []string{"spnaudit_finding_info"}},
		{`sum by (job, instance, mode, stage) (increase(spnaudit_scan_failures_total[5m])) > 0
		  and on (job, instance) spnaudit_scan_success == 0`,
			[]string{"spnaudit_scan_failures_total", "spnaudit_scan_success"}},
		{`time() - a_metric > on (job, instance) (45 + b_metric{mode="full"})`, []string{"a_metric", "b_metric"}},
		{`sum without (le) (rate(x_total[$__rate_interval])) * 60 offset 5m`, []string{"x_total"}},
		{`count(up{job="a or b"}) by (instance) / 1e3`, []string{"up"}},
		{`max(a) unless ignoring(mode) group_left(kind) b`, []string{"a", "b"}},
		{`vector(1)`, nil},
		{`'string'`, nil},
	}
	for _, tt := range tests {
		if got := metricNames(tt.expr); !slices.Equal(got, tt.want) {
			t.Errorf("metricNames(%q) = %q, want %q", tt.expr, got, tt.want)
		}
	}
}
