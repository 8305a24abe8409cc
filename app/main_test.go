package app

import (
	"os"
	"testing"

	"fleetprompt/store/storetest"
)

func TestMain(m *testing.M) { os.Exit(storetest.Main(m)) }
