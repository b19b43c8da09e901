package config

import (
	"strings"
	"testing"
	"time"
)

func TestValidateState(t *testing.T) {
	tests := []struct {
		name  string
		state State
		want  string // "" for valid
	}{
		{"defaults", Default().State, ""},
		{"history off", State{}, ""},
		{"zero retention", State{Dir: "s", MaxChanges: 10}, "state.retention"},
		{"no bound", State{Dir: "s", Retention: time.Hour}, "state.max_changes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var ps problems
			validateState(&tt.state, &ps)
			got := ""
			for _, p := range ps.list {
				got += p.String()
			}
			if (tt.want == "") != (got == "") || !strings.Contains(got, tt.want) {
				t.Errorf("problems %q, want %q", got, tt.want)
			}
		})
	}
	if d := Default().State; d.Dir != "state" || d.Retention != 400*24*time.Hour {
		t.Errorf("default state %+v, want dir state, retention 400d", d)
	}
}
