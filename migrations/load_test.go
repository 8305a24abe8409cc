package migrations

import (
	"strings"
	"testing"
	"testing/fstest"
)

func TestLoadRefusesGapsDuplicatesAndBadNames(t *testing.T) {
	sql := &fstest.MapFile{Data: []byte("SELECT 1;")}
	for name, tc := range map[string]struct {
		files []string
		want  string
	}{
		"ok":        {[]string{"0001_a.sql", "0002_b.sql"}, ""},
		"gap":       {[]string{"0001_a.sql", "0003_c.sql"}, "expected version 0002"},
		"duplicate": {[]string{"0001_a.sql", "0001_b.sql"}, "expected version 0002"},
		"not one":   {[]string{"0002_b.sql"}, "expected version 0001"},
		"bad name":  {[]string{"0001_a.sql", "2_b.sql"}, "NNNN_name.sql"},
	} {
		t.Run(name, func(t *testing.T) {
			fsys := fstest.MapFS{}
			for _, f := range tc.files {
				fsys["set/"+f] = sql
			}
			set, err := loadFS(fsys, "set")
			if tc.want == "" {
				if err != nil || set.Latest() != len(tc.files) {
					t.Fatalf("got %v, %v", set, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
		})
	}
}

func TestEmbeddedSetsLoad(t *testing.T) {
	pub, ten, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	if pub.Latest() < 2 || ten.Latest() < 1 {
		t.Fatalf("public %d, tenant %d migrations", pub.Latest(), ten.Latest())
	}
}
