package daemon

import (
	"testing"

	"spanrec/firmware/control/controltest"
)

// TestMain lets controltest start this binary as another user.
func TestMain(m *testing.M) { controltest.Main(m) }
