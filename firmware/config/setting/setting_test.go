package setting

import (
	"errors"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

func TestDuration(t *testing.T) {
	var v struct {
		D Duration `yaml:"d"`
	}
	for in, want := range map[string]time.Duration{"d: 30s": 30 * time.Second, "d: 4h": 4 * time.Hour, "d: 0": 0, "d: 1h30m": 90 * time.Minute} {
		if err := yaml.Unmarshal([]byte(in), &v); err != nil || v.D.Std() != want {
			t.Errorf("%s: %v, %v", in, v.D, err)
		}
	}
	for _, in := range []string{"d: 30", "d: [1s]", "d: soon"} {
		if err := yaml.Unmarshal([]byte(in), &v); err == nil {
			t.Errorf("%s accepted", in)
		}
	}
	v.D = Duration(4 * time.Hour)
	if b, _ := yaml.Marshal(v); string(b) != "d: 4h\n" {
		t.Errorf("marshal: %q", b)
	}
}

func TestProblems(t *testing.T) {
	var p Problems
	if p.Err() != nil {
		t.Fatal("no problems, an error")
	}
	p.Positive("timeout", 0)
	p.Within("n", 7, 1, 5)
	p.Addr("host", "not-an-ip")
	p.Addr("any", "0.0.0.0")
	var keys []string
	Each(p.Err(), func(pr *Problem) { keys = append(keys, pr.Key) })
	if strings.Join(keys, ",") != "timeout,n,host,any" {
		t.Errorf("keys %v", keys)
	}
	Each(errors.New("plain"), func(pr *Problem) {
		if pr.Key != "" || pr.Msg != "plain" {
			t.Errorf("plain error as %+v", pr)
		}
	})
}
